package merkle

import (
	"encoding/binary"

	"github.com/zeebo/blake3"

	"pstore/mmap"
	"pstore/plan"
)

// bigNatDigest hashes the canonical body of a pin whose contents are a
// single nat of two or more words without materializing the body: the body
// is then fixed by SEED.md sections 3, 4 and 15.3 as
//
//	u64 0                      k = 0 child pins
//	u64 1, 1, 0, 0, 0          seed header: 1 hole (the law marker), 1
//	                           bignat, no words, no bytes, no fragment
//	u64 w                      the bignat's width in words
//	w words                    the nat, least significant word first
//
// (no tree bits: with no fragment the value is the last table entry, and
// the length is already a multiple of 8). It streams the nat's own words
// into the hash, so hashing a 64 MiB nat costs one pass of BLAKE3. The
// result is checked against the general encoder by TestBigNatFastPath.
func bigNatDigest(n plan.Nat) (plan.Digest, bool) {
	w := n.Bits()
	raw, ok := mmap.WordBytes(w)
	if !ok || len(w) < 2 {
		return plan.Digest{}, false
	}
	var hdr [56]byte
	binary.LittleEndian.PutUint64(hdr[8:], 1)  // numHoles
	binary.LittleEndian.PutUint64(hdr[16:], 1) // numBigs
	binary.LittleEndian.PutUint64(hdr[48:], uint64(len(w)))
	h := blake3.New()
	h.Write(hdr[:])
	h.Write(raw)
	var d plan.Digest
	h.Sum(d[:0])
	return d, true
}
