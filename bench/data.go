package bench

import (
	"encoding/binary"
	"math/big"
	"math/rand/v2"

	"pstore/plan"
)

// Data generators. Every generator is seeded, so every system in a figure
// gets the same bytes and the same sequence of changes.

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

// randomBytes returns n random bytes.
func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n+8)
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n]
}

// barNat is the bar of b (Pallas byte strings: the bytes followed by one
// 0x01 byte, so trailing zeros survive), built from words without an extra
// copy of the data.
func barNat(b []byte) plan.Nat {
	n := len(b) + 1
	w := make([]big.Word, (n+7)/8)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w[i/8] = big.Word(binary.LittleEndian.Uint64(b[i:]))
	}
	var last [8]byte
	k := copy(last[:], b[i:])
	last[k] = 1
	w[i/8] = big.Word(binary.LittleEndian.Uint64(last[:]))
	return plan.NatFromBits(w)
}

// insertByte returns b with one byte inserted in the middle.
func insertByte(b []byte, x byte) []byte {
	m := len(b) / 2
	out := make([]byte, 0, len(b)+1)
	out = append(out, b[:m]...)
	out = append(out, x)
	return append(out, b[m:]...)
}

// ---- the balanced map --------------------------------------------------

// mapLeafSize is the number of entries in a leaf bucket.
const mapLeafSize = 16

// pmap is a persistent balanced map from dense nat keys 0..n-1 to nats,
// stored as a tree with a pin per node: a leaf bucket is the pin
// <(k0 v0 k1 v1 ...)>, an inner node the pin <(split left right)> whose
// children are the subtrees' pins. An update copies the path from the root
// to one leaf (about log2(n/16) new pins), as a database's state
// transition would; the rest is shared with the previous version.
type pmap struct {
	root *mnode
	n    int
}

type mnode struct {
	lo, hi      int // keys lo..hi-1
	vals        []uint64
	left, right *mnode
	pin         *plan.Pin
}

func newPmap(r *rand.Rand, n int) *pmap {
	return &pmap{root: buildNode(r, 0, n), n: n}
}

func buildNode(r *rand.Rand, lo, hi int) *mnode {
	if hi-lo <= mapLeafSize {
		nd := &mnode{lo: lo, hi: hi, vals: make([]uint64, hi-lo)}
		for i := range nd.vals {
			nd.vals[i] = r.Uint64()
		}
		nd.seal()
		return nd
	}
	mid := lo + (hi-lo)/2
	nd := &mnode{lo: lo, hi: hi, left: buildNode(r, lo, mid), right: buildNode(r, mid, hi)}
	nd.seal()
	return nd
}

func (nd *mnode) seal() {
	if nd.left == nil {
		args := make([]plan.Value, 0, 2*len(nd.vals))
		for i, v := range nd.vals {
			if i > 0 {
				args = append(args, plan.N(uint64(nd.lo+i)))
			}
			args = append(args, plan.N(v))
		}
		nd.pin = plan.P(plan.A(plan.N(uint64(nd.lo)), args...))
		return
	}
	nd.pin = plan.P(plan.A(plan.N(uint64(nd.left.hi)), nd.left.pin, nd.right.pin))
}

// set returns the map with key k set to v (path copy; m is unchanged).
func (m *pmap) set(k int, v uint64) *pmap {
	return &pmap{root: setNode(m.root, k, v), n: m.n}
}

func setNode(nd *mnode, k int, v uint64) *mnode {
	c := *nd
	if nd.left == nil {
		c.vals = append([]uint64(nil), nd.vals...)
		c.vals[k-nd.lo] = v
	} else if k < nd.left.hi {
		c.left = setNode(nd.left, k, v)
	} else {
		c.right = setNode(nd.right, k, v)
	}
	c.seal()
	return &c
}

// ---- the load data set ---------------------------------------------------

// loadSet is a store's worth of data: count pins of pinSize random bytes
// (bars), one small pin, and index pins over them (fan-out loadFanout), the
// root naming all.
type loadSet struct {
	root  *plan.Pin
	small *plan.Pin
	bytes int64
	pins  int
}

const loadFanout = 256

func newLoadSet(r *rand.Rand, total int64, pinSize int) *loadSet {
	count := int(total / int64(pinSize))
	if count < 1 {
		count = 1
	}
	ls := &loadSet{small: plan.P(plan.A(plan.N(42), plan.N(0x6f6c6c6568)))}
	level := make([]plan.Value, 0, count+1)
	level = append(level, ls.small)
	for i := 0; i < count; i++ {
		level = append(level, plan.P(barNat(randomBytes(r, pinSize))))
		ls.bytes += int64(pinSize)
	}
	ls.pins = len(level)
	for len(level) > 1 {
		var next []plan.Value
		for i := 0; i < len(level); i += loadFanout {
			j := min(i+loadFanout, len(level))
			next = append(next, plan.P(plan.A(plan.N(uint64(i)), level[i:j]...)))
			ls.pins++
		}
		level = next
	}
	ls.root = level[0].(*plan.Pin)
	return ls
}
