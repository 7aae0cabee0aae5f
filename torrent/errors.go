package torrent

import "errors"

// Sentinel errors. ErrCorrupt is the corruption marker: data or metadata
// that does not match its CID or the layout wraps it (test with errors.Is).
var (
	// ErrCorrupt: bytes from a peer or a torrent that do not verify
	// against their CID, or a torrent whose metadata breaks the layout.
	ErrCorrupt = errors.New("torrent: corrupt")
	// ErrNotFound: a pin or page is not in the store.
	ErrNotFound = errors.New("torrent: not found")
	// ErrRootMismatch: the torrent's root is not the CID that was asked for.
	ErrRootMismatch = errors.New("torrent: root does not match the requested CID")
	// ErrNotPstore: the torrent is not a pstore DAG torrent (another layout,
	// another piece length, v1 only...).
	ErrNotPstore = errors.New("torrent: not a pstore torrent")
	// ErrTimeout: the fetch did not finish in time (no peer had the data,
	// or not fast enough).
	ErrTimeout = errors.New("torrent: timeout")
	// ErrTooLarge: the torrent's DAG exceeds the configured limits.
	ErrTooLarge = errors.New("torrent: too large")
)
