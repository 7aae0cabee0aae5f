//go:build unix

package pagestore

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive flock on f, polling until wait has passed.
// flock locks belong to the open file description, so a second Store in the
// same process conflicts too (as it must: one writer per store).
func lockFile(f *os.File, dir string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("pagestore: locking %s: %w", f.Name(), err)
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%w: %s is held by another process (waited %v)", ErrLocked, dir, wait)
		}
		time.Sleep(min(20*time.Millisecond, time.Until(deadline)+time.Millisecond))
	}
}

// fdatasync makes f's data durable (and the metadata needed to read it).
func fdatasync(f *os.File) error {
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("pagestore: fdatasync %s: %w", f.Name(), err)
	}
	return nil
}

// syncDir makes the directory entries of dir (new and removed files) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("pagestore: fsync dir %s: %w", dir, err)
	}
	return nil
}
