package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"pstore/merkle"
	"pstore/pagestore"
	"pstore/plan"
	"pstore/seed"
)

func init() {
	AddExitRule(pagestore.ErrNotFound, ExitNotFound)
	AddExitRule(pagestore.ErrNoStore, ExitNotFound)
	AddExitRule(pagestore.ErrCorrupt, ExitCorrupt)
	AddExitRule(pagestore.ErrBadFormat, ExitCorrupt)
	AddExitRule(merkle.ErrCorrupt, ExitCorrupt)
	AddExitRule(seed.ErrCorrupt, ExitCorrupt)
	AddExitRule(pagestore.ErrLocked, ExitTimeout)
	AddExitRule(merkle.ErrBadCID, ExitUsage)
	AddExitRule(merkle.ErrNotPinCID, ExitUsage)
	AddExitRule(plan.ErrSyntax, ExitUsage)
}

// AddWaitFlag declares --wait, how long a writer waits for the store's
// writer lock.
func AddWaitFlag(fs *pflag.FlagSet) {
	fs.Duration("wait", pagestore.DefaultWait, "how long to wait for another writer to release the store")
}

// OpenStore opens the store at env.StoreDir. A writer creates the store on
// first use and waits for the writer lock up to --wait (when the command
// declared it, else the default); a reader needs an existing store.
func OpenStore(env *Env, readOnly bool) (*pagestore.Store, error) {
	opts := pagestore.Options{ReadOnly: readOnly, Create: !readOnly}
	if env.Flags != nil {
		if w, err := env.Flags.GetDuration("wait"); err == nil {
			opts.Wait = w
			if w == 0 {
				opts.Wait = -1
			}
		}
	}
	if env.Getenv != nil && env.Getenv("PSTORE_NOSYNC") == "1" {
		// Tests of the command line only: skips fdatasync.
		opts.NoSync = true
	}
	st, err := pagestore.Open(env.StoreDir, opts)
	if err != nil {
		if errors.Is(err, pagestore.ErrNoStore) {
			return nil, fmt.Errorf("%w: %s (a command that writes, such as pstore put, creates it; or pass --store DIR)", pagestore.ErrNoStore, env.StoreDir)
		}
		if errors.Is(err, pagestore.ErrLocked) {
			return nil, fmt.Errorf("%w (waited %v; is another pstore writing to %s?)", err, waitOf(opts), env.StoreDir)
		}
		return nil, err
	}
	return st, nil
}

// openStoreIfAny opens the store read-only, or returns nil, nil if there is
// none yet (a listing of a store never written is empty, not an error).
func openStoreIfAny(env *Env) (*pagestore.Store, error) {
	st, err := OpenStore(env, true)
	if errors.Is(err, pagestore.ErrNoStore) {
		return nil, nil
	}
	return st, err
}

func waitOf(o pagestore.Options) time.Duration {
	if o.Wait == 0 {
		return pagestore.DefaultWait
	}
	if o.Wait < 0 {
		return 0
	}
	return o.Wait
}

// storeCache opens the store on first need (a command that parses a value
// needs the store only if the text names a CID).
type storeCache struct {
	env      *Env
	readOnly bool
	st       *pagestore.Store
}

func (c *storeCache) get() (*pagestore.Store, error) {
	if c.st != nil {
		return c.st, nil
	}
	st, err := OpenStore(c.env, c.readOnly)
	if err != nil {
		return nil, err
	}
	c.st = st
	return st, nil
}

func (c *storeCache) Close() error {
	if c.st == nil {
		return nil
	}
	err := c.st.Close()
	c.st = nil
	return err
}
