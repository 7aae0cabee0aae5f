package mmap

import (
	"math/big"
	"math/bits"
	"unsafe"
)

// hostLittleEndian64 reports whether big.Word is a 64-bit little-endian word
// on this host, i.e. whether SEED's little-endian words (and any other
// persisted little-endian u64 arrays) have the same bytes as a []big.Word.
var hostLittleEndian64 = func() bool {
	if bits.UintSize != 64 {
		return false
	}
	x := uint64(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// Words views b as a slice of little-endian 64-bit machine words without
// copying, and reports whether it could. It can when the host is 64-bit and
// little-endian, b starts at an 8-byte aligned address and len(b) is a
// multiple of 8; otherwise it returns nil, false and the caller copies the
// words (for example with encoding/binary).
//
// This is the reason pstore uses unsafe (ARCHITECTURE.md "Zero copy"); the
// only other uses are WordBytes and plan's bulk boxing of word nats. The
// returned slice aliases b: it is valid exactly as long as b is (for a
// mapping, until it is unmapped), and it must be treated as read-only
// (writing to a read-only mapping faults). A nat built from it with
// plan.NatFromBits is immutable and never the receiver of a mutating
// math/big operation, which is what makes the aliasing safe. An empty b gives
// an empty slice and true.
func Words(b []byte) ([]big.Word, bool) {
	if !hostLittleEndian64 || len(b)%8 != 0 {
		return nil, false
	}
	if len(b) == 0 {
		return []big.Word{}, true
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	if uintptr(p)%8 != 0 {
		return nil, false
	}
	return unsafe.Slice((*big.Word)(p), len(b)/8), true
}
