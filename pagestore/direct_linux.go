package pagestore

import (
	"os"

	"golang.org/x/sys/unix"
)

// openIndexWriter opens an index file for the writer's slot updates with
// O_DIRECT when the file system allows it.
//
// Why: the index is updated in place, one 4 KiB page per touched slot, but
// it was written (or read through the mapping) in large runs, so the page
// cache holds it in large folios (up to megabytes on current kernels). A
// buffered 4 KiB write dirties its whole folio, and fdatasync then writes
// the whole folio: measured here (ext4, Linux 6.18), 20 slot pages cost
// 20 MiB of disk writes, and a 20-pin commit on a store of 1M pins about
// 37 MB. A direct write sends exactly the 4 KiB page to the disk and
// invalidates the clean cached copy, which readers' mappings fault in again
// from disk. Durability still comes from the fdatasync that follows.
func openIndexWriter(name string) (f *os.File, direct bool, err error) {
	f, err = os.OpenFile(name, os.O_RDWR|unix.O_DIRECT, 0)
	if err == nil {
		return f, true, nil
	}
	f, err = os.OpenFile(name, os.O_RDWR, 0)
	return f, false, err
}
