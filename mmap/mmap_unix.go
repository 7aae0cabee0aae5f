//go:build unix

package mmap

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrEmpty is returned by Map for a zero length: mmap cannot map nothing.
var ErrEmpty = errors.New("mmap: zero-length mapping")

// Map maps the first length bytes of f read-only and shared (PROT_READ,
// MAP_SHARED). length may exceed the file's current size: the tail becomes
// readable as the file grows (reading it before that raises SIGBUS).
func Map(f *os.File, length int) ([]byte, error) {
	if length <= 0 {
		return nil, ErrEmpty
	}
	b, err := unix.Mmap(int(f.Fd()), 0, length, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap: mapping %s (%d bytes): %w", f.Name(), length, err)
	}
	return b, nil
}

// Unmap releases a mapping returned by Map. No slice of b may be used
// afterwards.
func Unmap(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if err := unix.Munmap(b); err != nil {
		return fmt.Errorf("mmap: unmap: %w", err)
	}
	return nil
}
