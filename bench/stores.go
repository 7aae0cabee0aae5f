package bench

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/PowerDNS/lmdb-go/lmdb"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"

	"pstore/merkle"
	"pstore/pagestore"
	"pstore/plan"
	"pstore/seed"
)

// PinStore is what every storage system in a figure offers: pin bodies put
// and got by digest, a commit that makes everything put so far durable, and
// its files (for the size on disk and for dropping them from the page
// cache). Reopening is Close and the System's Open again.
type PinStore interface {
	// Has reports whether a body with digest d is stored (or put in the
	// open batch).
	Has(d plan.Digest) (bool, error)
	// Put adds a body to the open batch. body must not change until
	// Commit returns.
	Put(d plan.Digest, body []byte) error
	// Get returns the body with digest d (ErrNotFound if absent). The
	// slice may alias a mapping and is valid until the next call.
	Get(d plan.Digest) ([]byte, error)
	// SetRoot names the state's root pin in the next commit.
	SetRoot(d plan.Digest) error
	// Commit makes every Put and SetRoot since the last Commit durable.
	Commit() error
	// Dir is the store's directory (everything it writes is under it).
	Dir() string
	Close() error
}

// StateSaver is implemented by stores that save a whole state themselves
// rather than by the harness putting each new body: pstore (Batch.PutPin,
// its own DAG walk) and the full-snapshot baseline.
type StateSaver interface {
	SaveState(root *plan.Pin) error
}

// StateLoader is implemented by the full-snapshot baseline, which has no
// index: reading any value means reading and decoding the whole file.
type StateLoader interface {
	LoadState() (plan.Value, error)
}

// ErrNotFound is returned by PinStore.Get for an absent digest.
var ErrNotFound = errors.New("bench: not found")

// ErrUnsupported is returned by a store for an operation its design does
// not have (by-digest puts in the full-snapshot baseline).
var ErrUnsupported = errors.New("bench: unsupported by this store")

// System is one storage design under test.
type System struct {
	Name string // short name used in tables and legends
	Desc string // one line for the report
	Open func(dir string) (PinStore, error)
}

// Systems returns pstore first, then the baselines, in report order.
func Systems() []System {
	return []System{
		{Name: "pstore", Desc: "pstore page store (pagestore.Open; Batch.PutPin, one commit record per snapshot)", Open: openPstore},
		{Name: "lmdb", Desc: "LMDB (PowerDNS/lmdb-go v1.9.3): pin bodies keyed by BLAKE3 digest in one environment, default (synced) flags", Open: openLMDB},
		{Name: "bbolt", Desc: "bbolt (go.etcd.io/bbolt): the same in one bucket of a pure-Go B+tree, default (synced) options", Open: openBolt},
		{Name: "flatfs", Desc: "flatfs-like: one file per pin in a directory sharded by the next-to-last 2 hex digits (IPFS flatfs layout), files and directories fsync'd at commit", Open: openFlatFS},
		{Name: "fullsnap", Desc: "full snapshot: the whole state SEED-encoded (Pallas convention, pins inline) into one file each time, written to a temporary file, fsync'd and renamed", Open: openFullSnap},
	}
}

// ---- pstore ----------------------------------------------------------

type pstoreStore struct {
	st    *pagestore.Store
	dir   string
	batch *pagestore.Batch
}

func openPstore(dir string) (PinStore, error) {
	st, err := pagestore.Open(dir, pagestore.Options{Create: true, Wait: -1})
	if err != nil {
		return nil, err
	}
	return &pstoreStore{st: st, dir: dir}, nil
}

func (s *pstoreStore) b() *pagestore.Batch {
	if s.batch == nil {
		s.batch = s.st.NewBatch()
	}
	return s.batch
}

func (s *pstoreStore) Has(d plan.Digest) (bool, error) {
	if s.batch != nil {
		return s.batch.Has(d), nil
	}
	return s.st.Has(d), nil
}
func (s *pstoreStore) Put(d plan.Digest, body []byte) error { return s.b().PutBody(d, body) }
func (s *pstoreStore) Get(d plan.Digest) ([]byte, error) {
	b, err := s.st.Body(d)
	if errors.Is(err, pagestore.ErrNotFound) {
		return nil, fmt.Errorf("%w: %x", ErrNotFound, d[:])
	}
	return b, err
}
func (s *pstoreStore) SetRoot(d plan.Digest) error { s.b().SetRef("bench-state", d); return nil }
func (s *pstoreStore) Commit() error {
	if s.batch == nil {
		return nil
	}
	b := s.batch
	s.batch = nil
	return b.Commit()
}
func (s *pstoreStore) SaveState(root *plan.Pin) error {
	b := s.b()
	if _, err := b.PutPin(root); err != nil {
		return err
	}
	d, err := merkle.Digest(root)
	if err != nil {
		return err
	}
	b.SetRef("bench-state", d)
	return s.Commit()
}

// PayloadBytes is the pin bodies and pages stored so far (diagnostics:
// what pstore wrote besides its index and commit records).
func (s *pstoreStore) PayloadBytes() uint64 {
	st, err := s.st.Stat()
	if err != nil {
		return 0
	}
	return st.BytesStored
}

func (s *pstoreStore) Dir() string  { return s.dir }
func (s *pstoreStore) Close() error { return s.st.Close() }

// ---- LMDB ------------------------------------------------------------

type pending struct {
	d    plan.Digest
	body []byte
}

type lmdbStore struct {
	env  *lmdb.Env
	dbi  lmdb.DBI
	dir  string
	put  []pending
	inb  map[plan.Digest]bool
	root *plan.Digest
}

// lmdbMapSize is the map size (address space, not disk): big enough for
// the --big load suite.
const lmdbMapSize = 64 << 30

var rootKey = []byte("!root")

func openLMDB(dir string) (PinStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	env, err := lmdb.NewEnv()
	if err != nil {
		return nil, err
	}
	if err := env.SetMapSize(lmdbMapSize); err != nil {
		env.Close()
		return nil, err
	}
	if err := env.Open(dir, 0, 0o644); err != nil {
		env.Close()
		return nil, fmt.Errorf("lmdb open %s: %w", dir, err)
	}
	s := &lmdbStore{env: env, dir: dir, inb: map[plan.Digest]bool{}}
	err = env.Update(func(txn *lmdb.Txn) (err error) {
		s.dbi, err = txn.OpenRoot(0)
		return err
	})
	if err != nil {
		env.Close()
		return nil, err
	}
	return s, nil
}

func (s *lmdbStore) Has(d plan.Digest) (bool, error) {
	if s.inb[d] {
		return true, nil
	}
	found := false
	err := s.env.View(func(txn *lmdb.Txn) error {
		txn.RawRead = true
		_, err := txn.Get(s.dbi, d[:])
		if lmdb.IsNotFound(err) {
			return nil
		}
		found = err == nil
		return err
	})
	return found, err
}
func (s *lmdbStore) Put(d plan.Digest, body []byte) error {
	if !s.inb[d] {
		s.inb[d] = true
		s.put = append(s.put, pending{d, body})
	}
	return nil
}
func (s *lmdbStore) Get(d plan.Digest) ([]byte, error) {
	var out []byte
	err := s.env.View(func(txn *lmdb.Txn) error {
		v, err := txn.Get(s.dbi, d[:])
		if lmdb.IsNotFound(err) {
			return fmt.Errorf("%w: %x", ErrNotFound, d[:])
		}
		out = v // copied (RawRead is off): valid after the transaction
		return err
	})
	return out, err
}
func (s *lmdbStore) SetRoot(d plan.Digest) error { s.root = &d; return nil }
func (s *lmdbStore) Commit() error {
	if len(s.put) == 0 && s.root == nil {
		return nil
	}
	err := s.env.Update(func(txn *lmdb.Txn) error {
		for _, p := range s.put {
			if err := txn.Put(s.dbi, p.d[:], p.body, 0); err != nil {
				return err
			}
		}
		if s.root != nil {
			return txn.Put(s.dbi, rootKey, s.root[:], 0)
		}
		return nil
	})
	s.put, s.root = nil, nil
	clear(s.inb)
	return err
}
func (s *lmdbStore) Dir() string  { return s.dir }
func (s *lmdbStore) Close() error { return s.env.Close() }

// ---- bbolt -----------------------------------------------------------

type boltStore struct {
	db   *bolt.DB
	dir  string
	put  []pending
	inb  map[plan.Digest]bool
	root *plan.Digest
}

var (
	boltBucket = []byte("pins")
	// The root goes into its own bucket: bbolt keeps values inline in
	// their leaf node, so a root key next to a large body would copy that
	// body on every commit.
	boltMeta = []byte("meta")
)

func openBolt(dir string) (PinStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	db, err := bolt.Open(filepath.Join(dir, "pins.bolt"), 0o644, nil)
	if err != nil {
		return nil, err
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(boltBucket); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(boltMeta)
		return err
	}); err != nil {
		db.Close()
		return nil, err
	}
	return &boltStore{db: db, dir: dir, inb: map[plan.Digest]bool{}}, nil
}

func (s *boltStore) Has(d plan.Digest) (bool, error) {
	if s.inb[d] {
		return true, nil
	}
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(boltBucket).Get(d[:]) != nil
		return nil
	})
	return found, err
}
func (s *boltStore) Put(d plan.Digest, body []byte) error {
	if !s.inb[d] {
		s.inb[d] = true
		s.put = append(s.put, pending{d, body})
	}
	return nil
}
func (s *boltStore) Get(d plan.Digest) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		// bbolt values alias its read-only mapping and stay valid while
		// the database is open and not remapped; no writer runs during a
		// read here, so no copy is made (as with pstore's zero-copy path).
		out = tx.Bucket(boltBucket).Get(d[:])
		if out == nil {
			return fmt.Errorf("%w: %x", ErrNotFound, d[:])
		}
		return nil
	})
	return out, err
}
func (s *boltStore) SetRoot(d plan.Digest) error { s.root = &d; return nil }
func (s *boltStore) Commit() error {
	if len(s.put) == 0 && s.root == nil {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(boltBucket)
		for _, p := range s.put {
			if err := b.Put(p.d[:], p.body); err != nil {
				return err
			}
		}
		if s.root != nil {
			return tx.Bucket(boltMeta).Put(rootKey, s.root[:])
		}
		return nil
	})
	s.put, s.root = nil, nil
	clear(s.inb)
	return err
}
func (s *boltStore) Dir() string  { return s.dir }
func (s *boltStore) Close() error { return s.db.Close() }

// ---- flatfs ----------------------------------------------------------

// flatStore keeps one file per pin, named by the hex digest, in a shard
// directory named by the next-to-last two characters of the name (IPFS
// flatfs's default "next-to-last/2"). A put writes a temporary file and
// renames it into place; Commit fsyncs every new file, then every touched
// directory, as flatfs's batch does with sync on.
type flatStore struct {
	dir   string
	files []string
	dirs  map[string]bool
	inb   map[plan.Digest]bool
}

func openFlatFS(dir string) (PinStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &flatStore{dir: dir, dirs: map[string]bool{}, inb: map[plan.Digest]bool{}}, nil
}

func (s *flatStore) path(d plan.Digest) (string, string) {
	name := hex.EncodeToString(d[:])
	shard := name[len(name)-3 : len(name)-1]
	return filepath.Join(s.dir, shard), name + ".data"
}

func (s *flatStore) Has(d plan.Digest) (bool, error) {
	if s.inb[d] {
		return true, nil
	}
	sd, n := s.path(d)
	_, err := os.Stat(filepath.Join(sd, n))
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}

func (s *flatStore) Put(d plan.Digest, body []byte) error {
	if s.inb[d] {
		return nil
	}
	sd, n := s.path(d)
	if !s.dirs[sd] {
		if err := os.MkdirAll(sd, 0o755); err != nil {
			return err
		}
	}
	tmp := filepath.Join(sd, ".tmp-"+n)
	if err := os.WriteFile(tmp, body, 0o644); err != nil {
		return err
	}
	final := filepath.Join(sd, n)
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	s.inb[d] = true
	s.files = append(s.files, final)
	s.dirs[sd] = true
	return nil
}

func (s *flatStore) Get(d plan.Digest) ([]byte, error) {
	sd, n := s.path(d)
	b, err := os.ReadFile(filepath.Join(sd, n))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %x", ErrNotFound, d[:])
	}
	return b, err
}

func (s *flatStore) SetRoot(d plan.Digest) error {
	tmp := filepath.Join(s.dir, ".tmp-root")
	if err := os.WriteFile(tmp, d[:], 0o644); err != nil {
		return err
	}
	final := filepath.Join(s.dir, "root")
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	s.files = append(s.files, final)
	s.dirs[s.dir] = true
	return nil
}

func (s *flatStore) Commit() error {
	for _, f := range s.files {
		if err := fsyncPath(f); err != nil {
			return err
		}
	}
	dirs := make([]string, 0, len(s.dirs))
	for d := range s.dirs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		if err := fsyncPath(d); err != nil {
			return err
		}
	}
	if len(dirs) > 0 {
		if err := fsyncPath(s.dir); err != nil {
			return err
		}
	}
	s.files = nil
	clear(s.dirs)
	clear(s.inb)
	return nil
}
func (s *flatStore) Dir() string  { return s.dir }
func (s *flatStore) Close() error { return nil }

func fsyncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ---- full snapshot ---------------------------------------------------

// fullSnap is the naive design: the whole state, SEED-encoded in the
// Pallas interchange convention (pins inline as (4 x)), written to one
// file on every snapshot. It has no index, so reading anything means
// reading and decoding the whole file.
type fullSnap struct{ dir string }

const fullSnapFile = "state.seed"

func openFullSnap(dir string) (PinStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &fullSnap{dir: dir}, nil
}

func (s *fullSnap) Has(plan.Digest) (bool, error)   { return false, nil }
func (s *fullSnap) Put(plan.Digest, []byte) error   { return ErrUnsupported }
func (s *fullSnap) Get(plan.Digest) ([]byte, error) { return nil, ErrUnsupported }
func (s *fullSnap) SetRoot(plan.Digest) error       { return ErrUnsupported }
func (s *fullSnap) Commit() error                   { return nil }
func (s *fullSnap) Dir() string                     { return s.dir }
func (s *fullSnap) Close() error                    { return nil }

func (s *fullSnap) SaveState(root *plan.Pin) error {
	data, err := seed.Encode(root, seed.Pallas)
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.dir, fullSnapFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, fullSnapFile)); err != nil {
		return err
	}
	return fsyncPath(s.dir)
}

func (s *fullSnap) LoadState() (plan.Value, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, fullSnapFile))
	if err != nil {
		return nil, err
	}
	return seed.Decode(data, seed.Pallas, nil)
}

// ---- harness helpers -------------------------------------------------

// SaveState makes the DAG under root durable in s and names it the root:
// through the store's own StateSaver if it has one, else by walking the
// DAG from the root, putting every body the store does not have yet (a
// stored pin's children are stored, so the walk stops there), then one
// commit. It returns the number of bodies put by the walk (0 for a
// StateSaver).
func SaveState(s PinStore, root *plan.Pin) (int, error) {
	if ss, ok := s.(StateSaver); ok {
		return 0, ss.SaveState(root)
	}
	n := 0
	stack := []*plan.Pin{root}
	seen := map[*plan.Pin]bool{}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[p] {
			continue
		}
		seen[p] = true
		d, err := merkle.Digest(p)
		if err != nil {
			return n, err
		}
		has, err := s.Has(d)
		if err != nil {
			return n, err
		}
		if has {
			continue
		}
		body, kids, err := merkle.Body(p)
		if err != nil {
			return n, err
		}
		if err := s.Put(d, body); err != nil {
			return n, err
		}
		n++
		stack = append(stack, kids...)
	}
	d, err := merkle.Digest(root)
	if err != nil {
		return n, err
	}
	if err := s.SetRoot(d); err != nil {
		return n, err
	}
	return n, s.Commit()
}

// DiskUsage is the space the files under dir take on disk (allocated
// blocks, as du reports: a 100-byte file in its own 4 KiB block counts
// 4 KiB), and their apparent size.
func DiskUsage(dir string) (alloc, apparent int64, err error) {
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, werr error) error {
		if werr != nil {
			return werr
		}
		fi, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			alloc += st.Blocks * 512
		}
		if !e.IsDir() {
			apparent += fi.Size()
		}
		return nil
	})
	return alloc, apparent, err
}

// DropCache asks the kernel to drop the page cache of every file under dir
// with posix_fadvise(DONTNEED). Only clean pages are dropped: callers call
// it on closed stores whose last commit was synced, so every page is clean.
// It works without privileges and touches no other process's data. Inodes
// and directory entries stay cached (dropping those needs drop_caches,
// which is root-only and machine-wide).
func DropCache(dir string) error {
	return filepath.WalkDir(dir, func(p string, e fs.DirEntry, werr error) error {
		if werr != nil {
			return werr
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), ".tmp-") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		defer f.Close()
		return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	})
}
