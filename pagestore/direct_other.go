//go:build !linux

package pagestore

import "os"

// openIndexWriter opens an index file for the writer's slot updates (see
// direct_linux.go for why Linux uses O_DIRECT).
func openIndexWriter(name string) (f *os.File, direct bool, err error) {
	f, err = os.OpenFile(name, os.O_RDWR, 0)
	return f, false, err
}
