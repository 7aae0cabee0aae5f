package seed

import (
	"cmp"
	"runtime"
	"slices"
	"sync"
)

// The encoder works in three steps: tree walks the value into a raw tree
// (encoder.raw), internPending interns its word nats, and dedup
// hash-conses the raw cells into the deduplicated tree (encoder.cells).
// Separating them keeps the walk free of hash-table probes, and lets the
// nats be interned by one sort (sequential memory access) instead of a
// probe per leaf (a cache miss each on a large value).

// pendPair is a word nat leaf of the raw tree: its value and its index in
// encoder.pendVals.
type pendPair struct {
	v uint64
	i uint32
}

// pendSort holds the pooled buffers of internPending.
type pendSort struct {
	a, b   []pendPair
	id     []int32       // pendVals index -> interned leaf id
	counts []radixCounts // radixSort's, one per part (96 KiB each)
}

// internPending interns the raw tree's word nats: it sorts them, appends
// each distinct value to smallVals in ascending order and records the leaf
// id of every occurrence. It returns how many values it appended.
func (e *encoder) internPending() (int, error) {
	ps := &e.scratch.sort
	n := len(e.pendVals)
	ps.id = grow(ps.id, n)
	if n == 0 {
		return 0, nil
	}
	a := grow(ps.a, n)
	for i, v := range e.pendVals {
		a[i] = pendPair{v, uint32(i)}
	}
	a, b := ps.radixSort(a, grow(ps.b, n))
	ps.a, ps.b = a[:0], b[:0]
	start := len(e.smallVals)
	for i, p := range a {
		if i == 0 || p.v != a[i-1].v {
			if len(e.smallVals) >= maxLeaves {
				return 0, unrepf("more than %d distinct nats", maxLeaves)
			}
			e.smallVals = append(e.smallVals, p.v)
		}
		ps.id[p.i] = leafID(len(e.smallVals)-1, leafSmall)
	}
	return len(e.smallVals) - start, nil
}

// radixSort sorts a by value, stably, using b (and ps.counts) as scratch, and returns the
// sorted slice and the other one (a and b, in some order). It is an LSD
// radix sort with 11-bit digits that skips the digits equal in all
// values: sequential passes over the data, where interning by hash table
// costs a cache miss per entry on a large value. From parallelSortMin
// entries on, two goroutines share every pass: each counts and scatters
// one half of the array, the first half's entries going before the
// second's in every bucket, which keeps the sort stable.
func (ps *pendSort) radixSort(a, b []pendPair) (sorted, other []pendPair) {
	if len(a) < 256 {
		slices.SortStableFunc(a, func(x, y pendPair) int { return cmp.Compare(x.v, y.v) })
		return a, b
	}
	b = b[:len(a)]
	// Only the digits below the highest set bit need counting (the keys
	// of encoder.bottom have about 44 bits).
	var or uint64
	for _, p := range a {
		or |= p.v
	}
	nd := (bitwidth(or) + radixBits - 1) / radixBits
	parts := 1
	if len(a) >= parallelSortMin && runtime.GOMAXPROCS(0) > 1 {
		parts = 2
	}
	// The counts are kept with the scratch tables: allocating 96 KiB
	// per part for every sort made garbage out of proportion to a
	// medium-sized pin body.
	if len(ps.counts) < parts {
		ps.counts = make([]radixCounts, parts)
	}
	counts := ps.counts[:parts]
	for g := range counts {
		clear(counts[g][:nd])
	}
	bounds := func(g int) (int, int) { return g * len(a) / parts, (g + 1) * len(a) / parts }
	// One goroutine counts every digit in one pass. Two count each digit
	// in its pass: their halves of the array hold other entries after
	// every pass.
	if parts == 1 {
		c := &counts[0]
		for _, p := range a {
			v := p.v
			for d := range nd {
				c[d][v>>(radixBits*d)&radixMask]++
			}
		}
	}
	for d := range nd {
		shift := uint(radixBits * d)
		src, dst := a, b
		if parts > 1 {
			inParts(parts, func(g int) {
				lo, hi := bounds(g)
				c := &counts[g][d]
				for _, p := range src[lo:hi] {
					c[p.v>>shift&radixMask]++
				}
			})
		}
		first := a[0].v >> shift & radixMask
		total := 0
		for g := range counts {
			total += counts[g][d][first]
		}
		if total == len(a) {
			continue // every value has this digit
		}
		// Bucket k of part g starts after buckets < k of all parts and
		// bucket k of parts < g.
		sum := 0
		for k := range 1 << radixBits {
			for g := range counts {
				c := &counts[g][d][k]
				*c, sum = sum, sum+*c
			}
		}
		inParts(parts, func(g int) {
			lo, hi := bounds(g)
			c := &counts[g][d]
			for _, p := range src[lo:hi] {
				k := p.v >> shift & radixMask
				dst[c[k]] = p
				c[k]++
			}
		})
		a, b = b, a
	}
	return a, b
}

const (
	radixBits       = 11
	radixDigits     = (64 + radixBits - 1) / radixBits
	radixMask       = 1<<radixBits - 1
	parallelSortMin = 1 << 16
)

// radixCounts holds one part's count (then offset) per digit and bucket.
type radixCounts [radixDigits][1 << radixBits]int

// inParts runs f(0) ... f(parts-1), on as many goroutines, and returns when
// all are done.
func inParts(parts int, f func(g int)) {
	if parts == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for g := 1; g < parts; g++ {
		wg.Go(func() { f(g) })
	}
	f(0)
	wg.Wait()
}

// bottomMeet records that dedup's pass met bottom cell b's first raw cell
// when the deduplicated tree had pos cells (see fragmentOrder).
type bottomMeet struct{ b, pos int32 }

// bottom groups the raw cells whose children are both leaves (in a tree
// most cells are near the leaves: half of a balanced tree's) by sorting
// their keys. For each group of two or more it makes the cell, hot from
// the start, and marks the group's raw cells (seen bit 4, h = the cell).
// These shared cells thus come first in encoder.cells, together: the
// fragment writer's random accesses to them stay in a small part of
// memory, and dedup's pass finds a grouped cell's node in place instead of
// at its group's first raw cell (a cache miss each). The pass makes the
// other cells in raw order, which keeps the deduplicated tree in about the
// order the fragment writer walks it. bottom marks each group's first raw
// cell (seen bit 8), where the pass records the group in e.bottomSeq
// (fragmentOrder). None of the bottom cells enters the hash table: a probe
// for a cell of two leaves can only come from dedup's pass, which does not
// make them that way, and encoder.touch indexes parents of cells.
func (e *encoder) bottom(seen []uint8) {
	ps := &e.scratch.sort
	pend := ps.id
	// Key: the two leaves' ^id (x<<2 | tag), packed as tightly as the
	// largest possible allows, so that the sort has few digits.
	most := max(len(e.smallVals), len(e.bigVals), len(e.declared), len(e.children)+1)
	shift := uint(bitwidth(uint64(most)<<2 | 3))
	a := ps.a[:0]
	for c, rc := range e.raw {
		if rc.h < 0 && rc.t < 0 {
			k := uint64(^leafOf(rc.h, pend))<<shift | uint64(^leafOf(rc.t, pend))
			a = push(a, pendPair{k, uint32(c)})
		}
	}
	a, b := ps.radixSort(a, grow(ps.b, len(a)))
	ps.a, ps.b = a[:0], b[:0]
	lowMask := uint64(1)<<shift - 1
	for i := 0; i < len(a); {
		j := i + 1
		for j < len(a) && a[j].v == a[i].v {
			j++
		}
		if j-i >= 2 {
			// A group: its cell is made now, hot, and every member
			// points at it.
			k := a[i].v
			id := int32(len(e.cells))
			e.cells = append(e.cells, cell{^int32(k >> shift), ^int32(k & lowMask)})
			e.meta = append(e.meta, metaHot)
			for _, p := range a[i:j] {
				seen[p.i] = 4
				e.raw[p.i].h = id
			}
			seen[a[i].i] = 4 | 8 // the first member: the sort is stable
		}
		i = j
	}
}

// leafOf returns the interned leaf of a raw-tree leaf.
func leafOf(x int32, pend []int32) int32 {
	if ^x&3 == leafPend {
		return pend[^x>>2]
	}
	return x
}

// dedup hash-conses the raw tree into encoder.cells and returns the node
// of rawRoot. Raw cells come children first, so one pass in order sees
// every cell's children already deduplicated; once done with a raw cell,
// the pass keeps its deduplicated node in its h. A raw cell that the value
// shared by pointer is referenced by more than one raw cell: the second
// reference turns it hot, as a hash hit does (see encoder.touch).
func (e *encoder) dedup(rawRoot int32) int32 {
	raw := e.raw
	seen := grow(e.scratch.seen, len(raw))
	clear(seen)
	e.scratch.seen = seen
	pend := e.scratch.sort.id
	// The deduplicated tree has at most as many cells as the raw one.
	e.cells = slices.Grow(e.cells, len(raw))
	e.meta = slices.Grow(e.meta, len(raw))
	resolve := func(x int32) int32 {
		if x < 0 {
			return leafOf(x, pend)
		}
		y := raw[x].h
		if seen[x]&1 != 0 {
			e.touch(y)
		} else {
			seen[x] |= 1
		}
		return y
	}
	e.bottom(seen)
	seq := e.scratch.bottomSeq[:0]
	for c := range raw {
		if seen[c]&4 != 0 {
			// In a group: bottom made its cell.
			if seen[c]&8 != 0 {
				seq = push(seq, bottomMeet{raw[c].h, int32(len(e.cells))})
			}
			continue
		}
		rc := raw[c]
		if rc.h < 0 && rc.t < 0 {
			e.cells = append(e.cells, cell{leafOf(rc.h, pend), leafOf(rc.t, pend)})
			e.meta = append(e.meta, metaNone)
			raw[c].h = int32(len(e.cells) - 1)
			continue
		}
		h := resolve(rc.h)
		t := resolve(rc.t)
		raw[c].h = e.cell(h, t)
	}
	e.bottomSeq = seq
	e.scratch.bottomSeq = seq[:0]
	if rawRoot < 0 {
		return resolve(rawRoot)
	}
	return raw[rawRoot].h
}

// fragmentOrder returns the fragments (the root, and the cells that
// fragNum marks stFrag: two or more incoming edges) in canonical order:
// post-order, head first, as a depth-first walk of the deduplicated tree
// from the root meets them (SEED.md section 11.3).
//
// It needs no walk. The raw tree lists its cells in exactly that
// post-order, each at every place it completes in the value (children
// first, head before tail: tree appends a spine's cell after its argument,
// splitTree the last argument's cells after the rest), except that a
// pointer-shared app (or law, or inlined pin) the walk memoized is listed
// once, where the walk first completes it. The
// walk from the root completes every cell first where the raw tree first
// lists a raw cell of it. dedup's pass makes each cell at its first raw
// cell, in raw order, so the cells it makes are already in canonical
// order; only bottom's cells were made ahead, and e.bottomSeq says, in raw
// order, how many cells the pass had made when it met each one's first
// raw cell. Merging the two gives the order.
func (e *encoder) fragmentOrder(fragNum []int32, order []int32) []int32 {
	seq := e.bottomSeq
	j := 0
	for c := int32(len(seq)); c < int32(len(e.cells)); c++ {
		for j < len(seq) && seq[j].pos <= c {
			if b := seq[j].b; fragNum[b] == stFrag {
				order = append(order, b)
			}
			j++
		}
		if fragNum[c] == stFrag {
			order = append(order, c)
		}
	}
	for _, m := range seq[j:] {
		if fragNum[m.b] == stFrag {
			order = append(order, m.b)
		}
	}
	return order
}
