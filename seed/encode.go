package seed

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"pstore/plan"
)

// Encode returns the canonical seed of v in convention c (SEED.md section
// 11.3): distinct nats in strictly descending order in their smallest bins,
// the root plus every cell with two or more incoming edges of the
// structurally deduplicated tree as fragments in post-order (head first),
// zero bits after the last fragment, and exactly 8*ceil(e/64) bytes.
// Structurally equal values give identical bytes whatever their sharing in
// memory.
//
// Raw accepts nats and apps only. Pallas writes laws as (0 n a b) and pins
// inline as (4 x), loading pin contents where needed. Plan4 writes laws as
// (h0 1 n a b), pins as (h0 x) and the pin <0> as h0 itself (as plan-di-c
// files do), with hole 0 present only when used. For
// Body use EncodeBody, which also returns the child pins.
func Encode(v plan.Value, c Convention) ([]byte, error) {
	switch c {
	case Raw, Pallas, Plan4:
	case Body:
		b, _, err := EncodeBody(v)
		return b, err
	default:
		return nil, fmt.Errorf("%w: %v", ErrConvention, c)
	}
	e := newEncoder(c)
	defer e.release()
	return e.encode(v)
}

// EncodeHoles is Encode in the Raw or Pallas convention with declared holes:
// a pin that is holes[i] (the same pointer, or both with the same known
// digest) is written as hole i, as the Pallas runtime writes a pin's
// dependencies (SEED.md section 9). numHoles is len(holes), used or not.
// Other pins are an error in Raw and inlined in Pallas. When v is a single
// leaf the seed has no fragment and the value must be the last table entry;
// a lone hole other than the last one is reported as ErrUnrepresentable.
func EncodeHoles(v plan.Value, c Convention, holes []*plan.Pin) ([]byte, error) {
	if c != Raw && c != Pallas {
		return nil, fmt.Errorf("%w: EncodeHoles needs Raw or Pallas, not %v", ErrConvention, c)
	}
	e := newEncoder(c)
	defer e.release()
	e.declared = holes
	e.nHoles = len(holes)
	return e.encode(v)
}

// EncodeBody returns the seed part of v's canonical pin body (SEED.md
// section 15): v is the pin's contents, laws are written (h0 n a T(b)), and
// every pin in v (not entering pins, but entering laws) is a hole 1..k,
// numbered by first appearance in a depth-first, head-before-tail walk.
// children lists those k pins in hole order (children[j-1] is hole j); equal
// pins (same pointer, same known digest, or structurally equal contents)
// share a hole. numHoles is k+1. Pin contents are not loaded unless two pins
// without known digests must be compared, so callers should set the digests
// of children first (the merkle package does).
func EncodeBody(v plan.Value) (seed []byte, children []*plan.Pin, err error) {
	e := newEncoder(Body)
	defer e.release()
	e.nHoles = 1
	b, err := e.encode(v)
	if err != nil {
		return nil, nil, err
	}
	return b, e.children, nil
}

// Node ids: a cell id is >= 0 and indexes encoder.cells (or encoder.raw in
// the raw tree); a leaf id is < 0 and is ^(x<<2 | tag) with tag leafHole (x
// = hole number), leafSmall (x = index into smallVals), leafBig (x = index
// into bigVals) or, in the raw tree only, leafPend (x = index into
// pendVals).
const (
	leafHole  = 0
	leafSmall = 1
	leafBig   = 2
	leafPend  = 3 // raw trees only: x indexes encoder.pendVals
	maxLeaves = 1 << 29
)

func leafID(x int, tag int32) int32 { return ^(int32(x)<<2 | tag) }

type cell struct{ h, t int32 }

// memoMin is the expanded size (in cells, saturating) from which an app is
// memoized by pointer. Smaller apps are re-walked when met again: every
// reference then costs at most memoMin cells, so the work stays linear in
// the size of the value in memory however it is shared, while the bulk of a
// tree (its many small subtrees) stays out of the pointer map, which then
// fits in cache: on the benchmark tree, memoMin = 16 gave a 131072-entry
// map whose lookups (one per app) cost about a fifth of the encoding.
const memoMin = 64

// tinyNats: nats below this are interned through a direct table.
const tinyNats = 1 << 12

type encoder struct {
	conv     Convention
	declared []*plan.Pin // EncodeHoles
	nHoles   int
	h0Used   bool // Plan4: whether hole 0 occurs

	// The raw tree, as the walk of the value produces it: not
	// deduplicated (except where the value shares an app, law or pin
	// node by pointer), its nats >= tinyNats not yet interned.
	raw      []cell
	pendVals []uint64 // leafPend leaves: one per occurrence

	cells []cell
	meta  []int32 // per cell: parent of a cold cell, metaNone, or metaHot..metaHot2
	cons  u64map  // (h,t) -> cell id, for cells with two hot children

	smallVals []uint64
	tiny      []int32 // nat value (< tinyNats) -> index into smallVals + 1
	bigVals   [][]uint64
	big       map[string]int32

	apps     map[*plan.App]int32
	laws     map[*plan.Law]int32
	pins     map[*plan.Pin]int32
	digests  map[plan.Digest]int32 // Body: known digest -> hole
	children []*plan.Pin           // Body: hole j is children[j-1]

	stack []encFrame

	bottomSeq []bottomMeet // dedup: bottom cells in raw order

	scratch *scratch
}

type encFrame struct {
	app  *plan.App
	law  *plan.Law
	pin  *plan.Pin
	next int   // app: index of the argument being converted, -1 for Fun
	acc  int32 // node so far
	size uint32
}

// scratch holds an encoder's pointer-free working tables. They are pooled:
// the tables of a large value are hundreds of megabytes, and allocating
// them afresh for every encoding makes the garbage collector rescan the
// caller's live heap several times per call (measured: 2.8 s instead of
// about 0.5 s per encoding of the benchmark tree).
type scratch struct {
	cons      u64map
	tiny      []int32
	raw       []cell
	pendVals  []uint64
	cells     []cell
	meta      []int32
	smallVals []uint64
	fragNum   []int32
	stack     []int32
	seen      []uint8
	tailBits  []byte
	bottomSeq []bottomMeet
	order     []int32
	sort      pendSort
}

var scratchPool = sync.Pool{New: func() any {
	s := new(scratch)
	s.cons.init(1 << 10)
	return s
}}

// kept holds up to two sets of scratch tables outside the pool until keepFor
// after its last use. The pool drops its contents at the second garbage
// collection, and encoding a large value allocates enough to trigger one:
// each large encoding then allocated its tables afresh (about 160 MB for
// the benchmark tree), which triggered another collection that rescanned
// the caller's live heap (the value being encoded, itself hundreds of
// megabytes). A timer hands the tables back to the pool when idle, so a
// process that stops encoding does not keep them.
var (
	keptMu    sync.Mutex
	kept      [2]*scratch // two: splitTree uses two encoders
	keptTimer *time.Timer
)

const keepFor = 5 * time.Second

func getScratch() *scratch {
	keptMu.Lock()
	for i, s := range kept {
		if s != nil {
			kept[i] = nil
			keptMu.Unlock()
			return s
		}
	}
	keptMu.Unlock()
	return scratchPool.Get().(*scratch)
}

func putScratch(s *scratch) {
	keptMu.Lock()
	i := slices.Index(kept[:], nil)
	if i < 0 {
		keptMu.Unlock()
		scratchPool.Put(s)
		return
	}
	kept[i] = s
	if keptTimer == nil {
		keptTimer = time.AfterFunc(keepFor, dropKept)
	} else {
		keptTimer.Reset(keepFor)
	}
	keptMu.Unlock()
}

func dropKept() {
	keptMu.Lock()
	ss := kept
	kept = [2]*scratch{}
	keptMu.Unlock()
	for _, s := range ss {
		if s != nil {
			scratchPool.Put(s)
		}
	}
}

func newEncoder(c Convention) *encoder {
	s := getScratch()
	e := &encoder{conv: c, scratch: s}
	e.cons, e.tiny = s.cons, s.tiny
	e.cells, e.smallVals, e.meta = s.cells[:0], s.smallVals[:0], s.meta[:0]
	e.raw, e.pendVals = s.raw[:0], s.pendVals[:0]
	return e
}

// release returns the encoder's tables, cleared, to the pool.
func (e *encoder) release() {
	s := e.scratch
	if s == nil {
		return
	}
	e.scratch = nil
	s.cons = e.cons
	s.cons.reset()
	if e.tiny != nil {
		for _, v := range e.smallVals {
			if v < tinyNats {
				e.tiny[v] = 0
			}
		}
	}
	s.tiny = e.tiny
	s.cells, s.smallVals, s.meta = e.cells[:0], e.smallVals[:0], e.meta[:0]
	s.raw, s.pendVals = e.raw[:0], e.pendVals[:0]
	putScratch(s)
}

// smallLeaf returns the leaf of a nat below tinyNats. Most nats in
// practice are small: a direct table interns them without the cache
// misses of a hash table.
func (e *encoder) smallLeaf(v uint64) int32 {
	if e.tiny == nil {
		e.tiny = make([]int32, tinyNats)
	}
	if id := e.tiny[v]; id != 0 {
		return leafID(int(id-1), leafSmall)
	}
	id := int32(len(e.smallVals))
	e.smallVals = append(e.smallVals, v)
	e.tiny[v] = id + 1
	return leafID(int(id), leafSmall)
}

// natLeaf returns the raw-tree leaf of n. Word nats from tinyNats up are
// interned after the walk, all at once, by sorting (internPending): one
// hash-table probe each, as the walk met them, cost a cache miss each.
func (e *encoder) natLeaf(n plan.Nat) (int32, error) {
	if v, ok := n.Uint64(); ok {
		if v < tinyNats {
			return e.smallLeaf(v), nil
		}
		if len(e.pendVals) >= maxLeaves {
			return 0, unrepf("more than %d word nat leaves", maxLeaves)
		}
		e.pendVals = push(e.pendVals, v)
		return leafID(len(e.pendVals)-1, leafPend), nil
	}
	return e.bigLeaf(n.Uint64s())
}

// bigLeaf returns the leaf of the bignat with words w (least significant
// first, minimal).
func (e *encoder) bigLeaf(w []uint64) (int32, error) {
	key := make([]byte, 0, 8*len(w))
	for _, x := range w {
		key = binary.LittleEndian.AppendUint64(key, x)
	}
	if e.big == nil {
		e.big = make(map[string]int32)
	}
	id, ok := e.big[string(key)]
	if !ok {
		if len(e.bigVals) >= maxLeaves {
			return 0, unrepf("more than %d distinct big nats", maxLeaves)
		}
		id = int32(len(e.bigVals))
		e.big[string(key)] = id
		e.bigVals = append(e.bigVals, w)
	}
	return leafID(int(id), leafBig), nil
}

// The states of a cell in encode's fragNum before it is numbered: a
// fragment or not.
const (
	stNone = -1
	stFrag = -3
)

// Lazy indexing of cells. A cell is hot once it has been returned a second
// time (a hash hit or a memo hit); leaves are always hot. A cold cell has
// been returned once, so at most one cell has it as a child (meta holds
// that parent, or metaNone), and no cons request can ever ask for a pair
// with a cold child again until that child turns hot. So only cells with
// two hot children need to be in the hash table: the others are appended
// without touching it, and a cell's parent is indexed when the cell turns
// hot. In a mostly unshared tree this skips the hash table (a cache miss
// per access) for every cell above the bottom level.
//
// meta also counts a cell's incoming edges, which make it a fragment when
// there are two or more: a cold cell has one (its parent) or none, and a
// hot cell's count, up to two, is in its meta (metaHot, metaHot1,
// metaHot2), next to the hotness that cell has just checked, so counting
// costs no cache miss of its own.
const (
	metaNone = -1 // cold, no parent yet
	metaHot  = -2 // hot, no incoming edge yet
	metaHot1 = -3 // hot, one incoming edge
	metaHot2 = -4 // hot, two or more: a fragment
)

func (e *encoder) isHot(x int32) bool { return x < 0 || e.meta[x] <= metaHot }

// edge counts an incoming edge of the hot cell x (not a leaf).
func (e *encoder) edge(x int32) {
	if m := e.meta[x]; m > metaHot2 {
		e.meta[x] = m - 1
	}
}

func cellKey(h, t int32) uint64 { return uint64(uint32(h))<<32 | uint64(uint32(t)) }

// rawCell appends the cell (h, t) to the raw tree.
func (e *encoder) rawCell(h, t int32) (int32, error) {
	if len(e.raw) >= 1<<31-1 {
		return 0, unrepf("more than 2^31 cells")
	}
	e.raw = push(e.raw, cell{h, t})
	return int32(len(e.raw) - 1), nil
}

// cell returns the deduplicated cell (h, t) of two deduplicated nodes.
func (e *encoder) cell(h, t int32) int32 {
	id := int32(len(e.cells))
	hotH, hotT := e.isHot(h), e.isHot(t)
	if hotH && hotT {
		found, ok := e.cons.findOrAdd(cellKey(h, t), id)
		if ok {
			e.touch(found)
			return found
		}
	}
	// A new cell: its children have one more incoming edge.
	if !hotH {
		e.meta[h] = id
	} else if h >= 0 {
		e.edge(h)
	}
	if !hotT {
		e.meta[t] = id
	} else if t >= 0 {
		e.edge(t)
	}
	e.cells = append(e.cells, cell{h, t})
	e.meta = append(e.meta, metaNone)
	return id
}

// touch records that x is being returned again (a hit).
func (e *encoder) touch(x int32) {
	if x < 0 {
		return
	}
	p := e.meta[x]
	if p <= metaHot {
		return
	}
	e.meta[x] = metaHot // no incoming edge yet
	if p >= 0 {
		e.meta[x] = metaHot1 // one, from its parent p
		c := e.cells[p]
		if e.isHot(c.h) && e.isHot(c.t) {
			e.cons.findOrAdd(cellKey(c.h, c.t), p)
		}
	}
}

func satAdd(a, b uint32) uint32 {
	s := a + b + 1
	if s > memoMin {
		return memoMin
	}
	return s
}

// pinHole returns the hole of a pin in Body mode, numbering new pins.
func (e *encoder) pinHole(p *plan.Pin) (int32, error) {
	if h, ok := e.pins[p]; ok {
		return h, nil
	}
	if e.pins == nil {
		e.pins = make(map[*plan.Pin]int32)
		e.digests = make(map[plan.Digest]int32)
	}
	d, hasD := p.CachedDigest()
	if hasD {
		if h, ok := e.digests[d]; ok {
			e.pins[p] = h
			return h, nil
		}
	}
	// Pins without a common known digest may still be equal: compare
	// contents (plan.EqualErr uses digests where both are known).
	for j, q := range e.children {
		if hasD {
			if dq, ok := q.CachedDigest(); ok && dq != d {
				continue
			}
		}
		eq, err := plan.EqualErr(p, q)
		if err != nil {
			return 0, fmt.Errorf("seed: comparing child pins: %w", err)
		}
		if eq {
			h := int32(j + 1)
			e.pins[p] = h
			if hasD {
				e.digests[d] = h
			}
			return h, nil
		}
	}
	if len(e.children) >= maxLeaves-1 {
		return 0, unrepf("too many child pins")
	}
	e.children = append(e.children, p)
	h := int32(len(e.children))
	e.pins[p] = h
	if hasD {
		e.digests[d] = h
	}
	return h, nil
}

// declaredHole reports the declared hole of p (EncodeHoles), or -1.
func (e *encoder) declaredHole(p *plan.Pin) int {
	d, hasD := p.CachedDigest()
	for i, q := range e.declared {
		if q == p {
			return i
		}
		if hasD {
			if dq, ok := q.CachedDigest(); ok && dq == d {
				return i
			}
		}
	}
	return -1
}

// tree walks v into the raw tree (encoder.raw; dedup makes the
// deduplicated tree from it later), with an explicit stack (values may be
// millions of levels deep).
func (e *encoder) tree(v plan.Value) (int32, error) {
	var (
		res  int32
		size uint32
		err  error
	)
	e.stack = e.stack[:0]
	cur := v
descend:
	for {
		switch x := cur.(type) {
		case plan.Nat:
			if res, err = e.natLeaf(x); err != nil {
				return 0, err
			}
			size = 0
		case *plan.App:
			if r, ok, err := e.leafApp(x); err != nil {
				return 0, err
			} else if ok {
				res, size = r, uint32(len(x.Args))
				break
			}
			if id, ok := e.apps[x]; ok {
				res, size = id, memoMin
				break
			}
			e.stack = append(e.stack, encFrame{app: x, next: -1})
			cur = x.Fun
			continue descend
		case *plan.Law:
			if id, ok := e.laws[x]; ok {
				res, size = id, memoMin
				break
			}
			var pre int32
			switch e.conv {
			case Raw:
				return 0, unrepf("law in a raw tree")
			case Pallas: // (0 n a b)
				pre = e.smallLeaf(0)
			case Plan4: // (h0 1 n a b)
				e.h0Used = true
				if pre, err = e.rawCell(leafID(0, leafHole), e.smallLeaf(1)); err != nil {
					return 0, err
				}
			case Body: // (h0 n a b)
				pre = leafID(0, leafHole)
			}
			n, err := e.natLeaf(x.Name)
			if err != nil {
				return 0, err
			}
			if pre, err = e.rawCell(pre, n); err != nil {
				return 0, err
			}
			a, err := e.natLeaf(x.Arity)
			if err != nil {
				return 0, err
			}
			if pre, err = e.rawCell(pre, a); err != nil {
				return 0, err
			}
			e.stack = append(e.stack, encFrame{law: x, acc: pre, size: 3})
			cur = x.Body
			continue descend
		case *plan.Pin:
			if e.conv == Body {
				h, err := e.pinHole(x)
				if err != nil {
					return 0, err
				}
				res, size = leafID(int(h), leafHole), 0
				break
			}
			if e.declared != nil {
				if i := e.declaredHole(x); i >= 0 {
					res, size = leafID(i, leafHole), 0
					break
				}
			}
			if id, ok := e.pins[x]; ok {
				res, size = id, memoMin
				break
			}
			var pre int32
			switch e.conv {
			case Raw:
				return 0, unrepf("pin in a raw tree that is not a declared hole")
			case Pallas:
				pre = e.smallLeaf(4)
			case Plan4:
				e.h0Used = true
				pre = leafID(0, leafHole)
			}
			item, err := x.Item()
			if err != nil {
				return 0, fmt.Errorf("seed: loading pin contents: %w", err)
			}
			if n, ok := item.(plan.Nat); ok && n.IsZero() && e.conv == Plan4 {
				// <0> is h0 itself, as plan-di-c files write it.
				res, size = leafID(0, leafHole), 0
				break
			}
			e.stack = append(e.stack, encFrame{pin: x, acc: pre, size: 1})
			cur = item
			continue descend
		case nil:
			return 0, unrepf("nil value")
		default:
			return 0, unrepf("unknown value type %T", cur)
		}
		// ascend with (res, size)
		for {
			if len(e.stack) == 0 {
				return res, nil
			}
			f := &e.stack[len(e.stack)-1]
			switch {
			case f.app != nil:
				if f.next < 0 {
					f.acc, f.size = res, size
				} else {
					if f.acc, err = e.rawCell(f.acc, res); err != nil {
						return 0, err
					}
					f.size = satAdd(f.size, size)
				}
				f.next++
				if f.next < len(f.app.Args) {
					cur = f.app.Args[f.next]
					continue descend
				}
				res, size = f.acc, f.size
				if size >= memoMin {
					if e.apps == nil {
						e.apps = make(map[*plan.App]int32)
					}
					e.apps[f.app] = res
				}
			case f.law != nil:
				if res, err = e.rawCell(f.acc, res); err != nil {
					return 0, err
				}
				size = satAdd(f.size, size)
				if e.laws == nil {
					e.laws = make(map[*plan.Law]int32)
				}
				e.laws[f.law] = res
			default: // inline pin
				if res, err = e.rawCell(f.acc, res); err != nil {
					return 0, err
				}
				size = satAdd(f.size, size)
				if e.pins == nil {
					e.pins = make(map[*plan.Pin]int32)
				}
				e.pins[f.pin] = res
			}
			e.stack = e.stack[:len(e.stack)-1]
		}
	}
}

// Tried and not kept: loading an app's argument nodes together when
// entering it, so that their cache misses overlap. It moved about a sixth
// of the walk's time off the first load of each app in profiles, but the
// encoding as a whole was not measurably faster (713 vs 728 ms CPU, n=4,
// on a loaded machine).

// leafApp converts an app of nats only with fewer than memoMin arguments
// (half the apps of a balanced tree), which is never in e.apps, without
// the pointer map lookup or a stack frame. ok is false for other apps.
func (e *encoder) leafApp(x *plan.App) (res int32, ok bool, err error) {
	f, isNat := x.Fun.(plan.Nat)
	if !isNat || len(x.Args) >= memoMin {
		return 0, false, nil
	}
	for _, a := range x.Args {
		if _, isNat := a.(plan.Nat); !isNat {
			return 0, false, nil
		}
	}
	if res, err = e.natLeaf(f); err != nil {
		return 0, false, err
	}
	for _, a := range x.Args {
		l, err := e.natLeaf(a.(plan.Nat))
		if err != nil {
			return 0, false, err
		}
		if res, err = e.rawCell(res, l); err != nil {
			return 0, false, err
		}
	}
	return res, true, nil
}

func (e *encoder) encode(v plan.Value) ([]byte, error) {
	rawRoot, err := e.splitTree(v)
	if err != nil {
		return nil, err
	}
	nPend, err := e.internPending()
	if err != nil {
		return nil, err
	}
	root := e.dedup(rawRoot)
	switch e.conv {
	case Plan4:
		if e.h0Used {
			e.nHoles = 1
		}
	case Body:
		e.nHoles = 1 + len(e.children)
	}
	H := e.nHoles

	// Nat table: bignats by width then value, descending; then the small
	// nats descending (words, then bytes).
	bigOrder := make([]int32, len(e.bigVals))
	for i := range bigOrder {
		bigOrder[i] = int32(i)
	}
	slices.SortFunc(bigOrder, func(a, b int32) int {
		x, y := e.bigVals[a], e.bigVals[b]
		if len(x) != len(y) {
			return cmp.Compare(len(y), len(x))
		}
		for i := len(x) - 1; i >= 0; i-- {
			if x[i] != y[i] {
				return cmp.Compare(y[i], x[i])
			}
		}
		return 0
	})
	bigRank := make([]int32, len(e.bigVals))
	for r, id := range bigOrder {
		bigRank[id] = int32(r)
	}
	// smallVals holds the tiny nats in order of appearance, then the
	// interned word nats ascending (all of them larger).
	nTiny := len(e.smallVals) - nPend
	sorted := make([]uint64, 0, len(e.smallVals))
	for i := len(e.smallVals) - 1; i >= nTiny; i-- {
		sorted = append(sorted, e.smallVals[i])
	}
	sorted = append(sorted, sortDesc(e.smallVals[:nTiny])...)
	// The rank of an interned word nat is arithmetic (its id counted from
	// the end); only the tiny ones need a table, which stays in cache.
	nSmall := int32(len(e.smallVals))
	smallRank := make([]int32, nTiny)
	numWords := 0
	for r, v := range sorted {
		if v < tinyNats {
			smallRank[e.tiny[v]-1] = int32(r)
		}
		if v >= 256 {
			numWords++
		}
	}
	numBigs := len(e.bigVals)
	numBytes := len(sorted) - numWords
	L := H + numBigs + len(sorted)
	smallBase := int32(H + numBigs)
	leafIndex := func(id int32) uint64 {
		x := ^id
		switch x & 3 {
		case leafHole:
			return uint64(x >> 2)
		case leafSmall:
			if i := x >> 2; i >= int32(nTiny) {
				return uint64(smallBase + nSmall - 1 - i)
			}
			return uint64(smallBase + smallRank[x>>2])
		default:
			return uint64(int32(H) + bigRank[x>>2])
		}
	}

	// Header and nat table.
	bigWords := 0
	for _, w := range e.bigVals {
		bigWords += len(w)
	}
	prefix := headerSize + 8*(numBigs+bigWords+numWords) + numBytes
	out := make([]byte, 0, prefix+8)
	out = binary.LittleEndian.AppendUint64(out, uint64(H))
	out = binary.LittleEndian.AppendUint64(out, uint64(numBigs))
	out = binary.LittleEndian.AppendUint64(out, uint64(numWords))
	out = binary.LittleEndian.AppendUint64(out, uint64(numBytes))
	out = binary.LittleEndian.AppendUint64(out, 0) // numFrags, patched below
	for _, id := range bigOrder {
		out = binary.LittleEndian.AppendUint64(out, uint64(len(e.bigVals[id])))
	}
	for _, id := range bigOrder {
		for _, x := range e.bigVals[id] {
			out = binary.LittleEndian.AppendUint64(out, x)
		}
	}
	for _, v := range sorted[:numWords] {
		out = binary.LittleEndian.AppendUint64(out, v)
	}
	for _, v := range sorted[numWords:] {
		out = append(out, byte(v))
	}

	if root < 0 {
		// A single leaf: no fragment; the value is the last table entry.
		if leafIndex(root) != uint64(L-1) {
			return nil, unrepf("a lone hole that is not the last table entry")
		}
		return padTo8(out), nil
	}

	cells := e.cells
	fragNum, order := e.numberFragments(root)
	st := e.scratch.stack[:0]
	defer func() { e.scratch.stack = st[:0] }()

	// Tree bits: fragment i with k leaves takes k*(W_i+2)-2 bits, and the
	// fragments hold cells+fragments leaves in all.
	maxW := bitwidth(uint64(L + len(order)))
	if need := prefix + (len(cells)+len(order))*int(maxW+2)/8 + 16; cap(out) < need {
		out = append(make([]byte, 0, need), out...)
	}
	// writeTrees writes the leaves of the trees on st (the last first)
	// in a fragment of index width W, and returns st empty.
	writeTrees := func(bw *bitWriter, st []int32, W uint) []int32 {
		for len(st) > 0 {
			// One leaf: the run of ones of the cells down the left
			// spine that are not fragments, then a 0 and the index
			// of the leaf or fragment at its end, in one write when
			// they fit.
			x := st[len(st)-1]
			st = st[:len(st)-1]
			ones := uint(0)
			for x >= 0 && fragNum[x] < 0 {
				ones++
				st = append(st, cells[x].t)
				x = cells[x].h
			}
			var idx uint64
			if x < 0 {
				idx = leafIndex(x)
			} else {
				idx = uint64(L + int(fragNum[x]))
			}
			for ones+W+1 > 64 {
				k := min(ones, 63)
				bw.write(1<<k-1, k)
				ones -= k
			}
			bw.write(1<<ones-1|idx<<(ones+1), ones+W+1)
		}
		return st
	}
	// The root fragment is last. When its tail is a large tree of its
	// own (the last argument of the value: half of a balanced tree), a
	// second goroutine writes that tree's bits, which are the last ones,
	// into a buffer of its own, while this one writes everything before
	// them; they are then appended (about 2 ms for 10 MB, against 30 for
	// writing them).
	last := len(order) - 1
	rootCell := cells[order[last]]
	var tail *tailWriter
	if t := rootCell.t; len(cells) >= parallelWriteMin && t >= 0 && fragNum[t] < 0 && runtime.GOMAXPROCS(0) > 1 {
		tail = &tailWriter{done: make(chan struct{})}
		tail.bw.buf = e.scratch.tailBits[:0]
		go func() {
			defer close(tail.done)
			writeTrees(&tail.bw, []int32{t}, bitwidth(uint64(L+last-1)))
		}()
	}
	var bw bitWriter
	bw.buf = out
	for i, fc := range order {
		W := bitwidth(uint64(L + i - 1))
		if i == last && tail != nil {
			st = writeTrees(&bw, append(st[:0], rootCell.h), W) // implicit root 1
			<-tail.done
			bw.appendBits(&tail.bw)
			e.scratch.tailBits = tail.bw.buf[:0]
			break
		}
		st = writeTrees(&bw, append(st[:0], cells[fc].t, cells[fc].h), W) // implicit root 1
	}
	out = bw.finish()
	binary.LittleEndian.PutUint64(out[32:], uint64(len(order)))
	return padTo8(out), nil
}

// numberFragments finds the fragments: the root and every cell with two or
// more incoming edges, and numbers them in canonical order. fragNum holds
// one entry per cell (a single array keeps the writer's walk to one cache
// miss per cell): its fragment number, or stNone for the others; order
// lists the fragments' cells by number.
func (e *encoder) numberFragments(root int32) (fragNum, order []int32) {
	fragNum = grow(e.scratch.fragNum, len(e.cells))
	e.scratch.fragNum = fragNum
	meta := e.meta[:len(fragNum)]
	for i, m := range meta {
		fragNum[i] = stNone
		if m == metaHot2 { // counted by dedup (see metaHot2)
			fragNum[i] = stFrag
		}
	}
	fragNum[root] = stFrag
	order = e.fragmentOrder(fragNum, e.scratch.order[:0])
	e.scratch.order = order[:0]
	for i, c := range order {
		fragNum[c] = int32(i)
	}
	return fragNum, order
}

// push appends x to s, doubling the capacity when it is full: append
// grows large slices by only a quarter, so building a slice of n entries
// that way copies about 4n of them.
func push[T any](s []T, x T) []T {
	if len(s) == cap(s) {
		s = slices.Grow(s, max(len(s), 1<<10))
	}
	return append(s, x)
}

// grow returns a slice of length n, reusing b's storage when it is large
// enough. The contents are not cleared.
func grow[T any](b []T, n int) []T {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]T, n)
}

func padTo8(b []byte) []byte {
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// parallelWriteMin is the least number of cells from which encode writes
// the root's tail on a second goroutine (tests lower it).
var parallelWriteMin = 1 << 16

// tailWriter is the second goroutine's writer of the root fragment's tail.
type tailWriter struct {
	bw   bitWriter
	done chan struct{}
}

// bitWriter appends bits least significant first.
type bitWriter struct {
	buf []byte
	acc uint64
	n   uint
}

// write appends the low w bits of v (w <= 64, v has no bits above w).
func (b *bitWriter) write(v uint64, w uint) {
	b.acc |= v << b.n
	if b.n+w >= 64 {
		b.buf = binary.LittleEndian.AppendUint64(b.buf, b.acc)
		used := 64 - b.n
		if used == 64 {
			b.acc = 0
		} else {
			b.acc = v >> used
		}
		b.n = b.n + w - 64
		return
	}
	b.n += w
}

// appendBits appends the bits written to o (which must not be used
// afterwards).
func (b *bitWriter) appendBits(o *bitWriter) {
	for i := 0; i+8 <= len(o.buf); i += 8 {
		b.write(binary.LittleEndian.Uint64(o.buf[i:]), 64)
	}
	if o.n > 0 {
		b.write(o.acc, o.n)
	}
}

func (b *bitWriter) finish() []byte {
	for b.n > 0 {
		b.buf = append(b.buf, byte(b.acc))
		b.acc >>= 8
		if b.n < 8 {
			b.n = 0
		} else {
			b.n -= 8
		}
	}
	return b.buf
}

// sortDesc returns a copy of vs sorted in descending order.
func sortDesc(vs []uint64) []uint64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	slices.Reverse(s)
	return s
}

// u64map is an open-addressing hash table from uint64 keys to int32 ids,
// used instead of a Go map on the encoder's hot path (cells keyed by child
// ids). Slot value 0 means empty; ids are stored plus one.
type u64map struct {
	slots []u64slot
	shift uint
	n     int
}

type u64slot struct {
	key uint64
	val int32
}

func (m *u64map) init(size int) {
	m.slots = make([]u64slot, size)
	m.shift = 64 - uint(bitwidth(uint64(size-1)))
	m.n = 0
}

// reset empties m, keeping its slots unless they are much larger than
// what was used (clearing a table sized for a huge value on every small
// encoding would cost more than the encoding).
func (m *u64map) reset() {
	switch {
	case len(m.slots) > 1<<16 && m.n*8 < len(m.slots):
		m.init(1 << 10)
	case m.n > 0:
		clear(m.slots)
		m.n = 0
	}
}

func (m *u64map) hash(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> m.shift }

// findOrAdd returns the id of k, adding it with id newID if absent.
func (m *u64map) findOrAdd(k uint64, newID int32) (int32, bool) {
	mask := uint64(len(m.slots) - 1)
	for i := m.hash(k); ; i = (i + 1) & mask {
		s := &m.slots[i]
		if s.val == 0 {
			s.key, s.val = k, newID+1
			m.n++
			if m.n*10 > len(m.slots)*7 {
				m.grow()
			}
			return newID, false
		}
		if s.key == k {
			return s.val - 1, true
		}
	}
}

func (m *u64map) grow() {
	old := m.slots
	// Grow fast while small: rehashing is random access.
	f := 2
	if len(old) < 1<<22 {
		f = 4
	}
	m.init(f * len(old))
	mask := uint64(len(m.slots) - 1)
	for _, s := range old {
		if s.val == 0 {
			continue
		}
		i := m.hash(s.key)
		for m.slots[i].val != 0 {
			i = (i + 1) & mask
		}
		m.slots[i] = s
		m.n++
	}
}
