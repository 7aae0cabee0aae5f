package mmap

import (
	"math/big"
	"unsafe"
)

// WordBytes is the inverse view of Words: it returns the bytes of w, in
// memory order, without copying, and reports whether that is the
// little-endian encoding of the words (true on little-endian 64-bit hosts).
// On other hosts it returns nil, false and the caller encodes the words
// itself. The result aliases w and must not be modified. This file and
// words.go, with plan/box.go's bulk boxing of word nats, are the only uses
// of unsafe in pstore.
func WordBytes(w []big.Word) ([]byte, bool) {
	if !hostLittleEndian64 {
		return nil, false
	}
	if len(w) == 0 {
		return []byte{}, true
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), len(w)*8), true
}
