package bench

import (
	"encoding/binary"
	"math/big"
	"math/rand/v2"

	"pstore/merkle"
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

// The load data set is count pins of pinSize random bytes (bars) and one
// small pin, under index pins of fan-out loadFanout. It is built in chunks
// of at most loadChunk bytes, each saved and then dropped from memory (the
// parent keeps only an unloaded reference), so a 10 GB store needs about one
// chunk of memory. Every chunk is generated from its own seed, so every
// system gets the same bytes.
const loadFanout = 256

// loadChunk is a variable so that tests can make chunks small.
var loadChunk = 256 << 20

type loadSet struct {
	total   int64
	pinSize int
	seed    uint64
	small   *plan.Pin
}

func newLoadSet(seed uint64, total int64, pinSize int) *loadSet {
	return &loadSet{total: total, pinSize: pinSize, seed: seed,
		small: plan.P(plan.A(plan.N(42), plan.N(0x6f6c6c6568)))}
}

func (ls *loadSet) count() int {
	return max(1, int(ls.total/int64(ls.pinSize)))
}

func (ls *loadSet) chunks() int {
	per := max(1, loadChunk/ls.pinSize)
	return (ls.count() + per - 1) / per
}

// chunk builds chunk c: its data pins under index pins, as one pin.
func (ls *loadSet) chunk(c int) *plan.Pin {
	per := max(1, loadChunk/ls.pinSize)
	lo := c * per
	hi := min(ls.count(), lo+per)
	r := newRand(ls.seed*1_000_003 + uint64(c))
	level := make([]plan.Value, 0, hi-lo)
	for i := lo; i < hi; i++ {
		level = append(level, plan.P(barNat(randomBytes(r, ls.pinSize))))
	}
	return indexOver(level, uint64(lo))
}

// indexOver puts index pins of fan-out loadFanout over level until one pin
// is left.
func indexOver(level []plan.Value, tag uint64) *plan.Pin {
	if len(level) == 1 {
		if p, ok := level[0].(*plan.Pin); ok {
			return p
		}
	}
	for {
		var next []plan.Value
		for i := 0; i < len(level); i += loadFanout {
			j := min(i+loadFanout, len(level))
			next = append(next, plan.P(plan.A(plan.N(tag+uint64(i)), level[i:j]...)))
		}
		level = next
		if len(level) == 1 {
			return level[0].(*plan.Pin)
		}
	}
}

// pins is the number of pins in the data set (data, index and small).
func (ls *loadSet) pins() int {
	n := 0
	per := max(1, loadChunk/ls.pinSize)
	for c := 0; c < ls.chunks(); c++ {
		k := min(ls.count(), (c+1)*per) - c*per
		for {
			n += k
			if k == 1 {
				break
			}
			k = (k + loadFanout - 1) / loadFanout
		}
	}
	return n + 2 // the small pin and the root
}

// build saves the data set into st chunk by chunk and returns its root.
// With whole set (the full-snapshot baseline, which
// must have the whole state in memory to encode it) the chunks are kept.
func (ls *loadSet) build(st PinStore, whole bool) (*plan.Pin, error) {
	// Every child of the root must have a known digest, so that encoding
	// the root never compares pin contents (the chunks are not in memory).
	if _, err := merkle.Digest(ls.small); err != nil {
		return nil, err
	}
	kids := []plan.Value{ls.small}
	for c := 0; c < ls.chunks(); c++ {
		p := ls.chunk(c)
		if whole {
			kids = append(kids, p)
			continue
		}
		if _, err := SaveState(st, p); err != nil {
			return nil, err
		}
		d, err := merkle.Digest(p)
		if err != nil {
			return nil, err
		}
		// No loader: references to saved chunks are only hashed and
		// walked by digest, never read (Item would fail).
		kids = append(kids, plan.NewPinRef(d, nil))
	}
	root := plan.P(plan.A(plan.N(1), kids...))
	_, err := SaveState(st, root)
	return root, err
}
