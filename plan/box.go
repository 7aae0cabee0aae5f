package plan

import (
	"encoding/binary"
	"unsafe"
)

// Boxing word nats in bulk.
//
// Storing a Nat in a Value allocates a 16-byte copy of it (a Nat is not
// pointer-shaped), so a decoder that turns a million words of a seed into
// Values makes a million small allocations: about 25 ms of the 115 ms that
// decoding the 19 MB benchmark seed took, and a million more objects for
// every garbage collection to mark while the decoder fills in the nodes
// that point at them. WordBoxes builds the same Values with the copies in
// one []Nat: each Value's data word points at an element of it, exactly as if
// the runtime had allocated that element for the conversion.
//
// That needs unsafe, and an assumption about the runtime: a Value is two
// words, the first identifying the dynamic type (the same for every Nat) and
// the second pointing at the boxed Nat. wordBoxing checks the assumption at
// start-up against Values the compiler boxed itself, and if it does not
// hold, WordBoxes.Value boxes one nat at a time. The data word is an interior
// pointer into the []Nat, which the garbage collector understands: the
// slice lives as long as any of its Values does. The elements are never
// written after the Values are made, so the Values stay immutable.
//
// Besides mmap's word views, this is the one use of unsafe in pstore; it is
// kept to this file (natValue and the check above).

// natType is the type word of a Value holding a Nat, when wordBoxing holds.
var natType unsafe.Pointer

// wordBoxing reports whether WordBoxes may build Values directly.
var wordBoxing = func() bool {
	if unsafe.Sizeof(Value(nil)) != 2*unsafe.Sizeof(uintptr(0)) {
		return false
	}
	const x, y = 0x0123456789abcdef, 0xfedcba9876543210
	var a, b Value = Nat{small: x}, Nat{small: y}
	wa := (*[2]unsafe.Pointer)(unsafe.Pointer(&a))
	wb := (*[2]unsafe.Pointer)(unsafe.Pointer(&b))
	if wa[0] == nil || wa[0] != wb[0] || wa[1] == nil || wb[1] == nil {
		return false
	}
	na, nb := (*Nat)(wa[1]), (*Nat)(wb[1])
	if na.small != x || na.big != nil || nb.small != y || nb.big != nil {
		return false
	}
	natType = wa[0]
	// A Value built by hand must read back as its nat.
	box := []Nat{{small: x}}
	v := natValue(&box[0])
	n, ok := v.(Nat)
	return ok && n.small == x && n.big == nil && Equal(v, a)
}()

// natValue returns the Value whose boxed Nat is *p. p must not be written
// afterwards.
func natValue(p *Nat) Value {
	var v Value
	w := (*[2]unsafe.Pointer)(unsafe.Pointer(&v))
	w[0] = natType
	w[1] = unsafe.Pointer(p)
	return v
}

// WordBoxes is a run of word nats boxed in one allocation (see above):
// Value(i) is the same Value as N(x) for the i-th nat x.
type WordBoxes struct{ box []Nat }

// NewWordBoxes boxes the nats whose little-endian 64-bit words are le
// (len(le) must be a multiple of 8).
func NewWordBoxes(le []byte) WordBoxes {
	box := make([]Nat, len(le)/8)
	for i := range box {
		box[i].small = binary.LittleEndian.Uint64(le[8*i:])
	}
	return WordBoxes{box: box}
}

// Len returns the number of nats.
func (w WordBoxes) Len() int { return len(w.box) }

// Value returns nat i as a Value, without allocating when bulk boxing is
// available.
func (w WordBoxes) Value(i int) Value {
	if !wordBoxing {
		return w.box[i]
	}
	return natValue(&w.box[i])
}
