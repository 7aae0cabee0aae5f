// Package mmap maps store files read-only into memory and, in one small
// unsafe function (Words, words.go), views mapped little-endian words as a
// math/big word slice.
//
// Guarantees and caveats:
//   - Map gives a read-only, shared mapping: bytes written to the file later
//     through write/pwrite (by this or another process) become visible in the
//     mapping, because Linux and the BSDs keep one page cache for both.
//   - A mapping may be longer than the file (to leave room for an
//     append-only file to grow without remapping); touching bytes beyond the
//     end of the file raises SIGBUS, so callers check offsets against the
//     file size they last observed before reading.
//   - A mapping stays valid after its file is unlinked, until Unmap. Callers
//     that hand out slices of a mapping must not Unmap it while such a slice
//     may be in use (pagestore keeps every mapping until Close).
//   - Writing to a mapping faults: it is read-only.
package mmap
