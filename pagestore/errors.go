package pagestore

import "errors"

// Sentinel errors, grouped by operation. ErrCorrupt is the corruption
// marker: every error caused by bytes on disk that fail a checksum, a digest
// or a structural check wraps it, with the CID and the file/offset in the
// message (test with errors.Is).
var (
	// Open.
	ErrNoStore   = errors.New("pagestore: no store here")
	ErrBadFormat = errors.New("pagestore: not a pstore store (bad magic)")
	ErrVersion   = errors.New("pagestore: unsupported store format version")
	ErrParams    = errors.New("pagestore: unsupported chunker parameters")
	ErrLocked    = errors.New("pagestore: store is locked by another writer")

	// Any operation.
	ErrClosed   = errors.New("pagestore: store is closed")
	ErrReadOnly = errors.New("pagestore: store is open read-only")
	ErrCorrupt  = errors.New("pagestore: corrupt")

	// Lookups.
	ErrNotFound = errors.New("pagestore: not found")

	// Batches.
	ErrBatchDone = errors.New("pagestore: batch already committed")
	ErrBadRef    = errors.New("pagestore: bad ref name")
	ErrPageSize  = errors.New("pagestore: page size out of range")
)
