package seed

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"pstore/plan"
)

// TestSplitSameBytes: encoding with the last argument walked on a second
// goroutine, and the root fragment's tail written on one, gives the same
// bytes as one walk and one writer, on the benchmark tree and on random
// values with heavy sharing and big nats (splitMin 0 splits every app
// root, parallelWriteMin 0 splits the writing whenever the root's tail is
// a cell that is not a fragment).
func TestSplitSameBytes(t *testing.T) {
	old, oldWrite := splitMin, parallelWriteMin
	defer func() { splitMin, parallelWriteMin = old, oldWrite }()
	enc := func(v plan.Value, split bool) ([]byte, error) {
		splitMin, parallelWriteMin = 1<<30, 1<<30
		if split {
			splitMin, parallelWriteMin = 0, 0
		}
		return Encode(v, Raw)
	}
	r := rand.New(rand.NewPCG(5, 6))
	vals := []plan.Value{BenchTree(12)}
	for range 400 {
		g := &gen{r: r}
		v := g.value(5 + r.IntN(150))
		// A root with several arguments, sharing nodes between them.
		vals = append(vals, v, plan.A(v, g.nat(), v), plan.A(g.nat(), v))
	}
	splits := 0
	for i, v := range vals {
		a, err1 := enc(v, false)
		b, err2 := enc(v, true)
		if err1 != nil || err2 != nil {
			t.Fatalf("value %d: %v, %v", i, err1, err2)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("value %d: split encoding differs", i)
		}
		if x, ok := v.(*plan.App); ok && len(x.Args) > 0 {
			splits++
		}
	}
	if splits < 100 {
		t.Fatalf("only %d values were split", splits)
	}
	// Declared holes are shared by both walks.
	h := plan.P(plan.N(7))
	v := plan.A(plan.N(1), h, plan.A(h, plan.N(1<<40), BenchTree(3)))
	a, err1 := func() ([]byte, error) { splitMin = 1 << 30; return EncodeHoles(v, Raw, []*plan.Pin{h}) }()
	b, err2 := func() ([]byte, error) { splitMin = 0; return EncodeHoles(v, Raw, []*plan.Pin{h}) }()
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
		t.Fatalf("holes: split encoding differs (%v, %v)", err1, err2)
	}
	// Errors from either walk are reported.
	if _, err := enc(plan.A(plan.N(1), plan.L(plan.N(1), plan.N(1), plan.N(0))), true); err == nil {
		t.Fatal("law in the split half encoded in Raw")
	}
	if _, err := enc(plan.A(plan.L(plan.N(1), plan.N(1), plan.N(0)), plan.N(1)), true); err == nil {
		t.Fatal("law in the main half encoded in Raw")
	}
}

// TestRadixSort checks the sort against a stable comparison sort, on one
// and two goroutines, with keys that share digits and keys that do not.
func TestRadixSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var ps pendSort // one, as an encoder's scratch: counts left by a sort must not leak into the next
	for _, n := range []int{0, 1, 255, 256, 5000, parallelSortMin, parallelSortMin*3 + 7} {
		for _, bitsUsed := range []int{1, 12, 44, 64} {
			a := make([]pendPair, n)
			for i := range a {
				v := r.Uint64()
				if bitsUsed < 64 {
					v &= 1<<bitsUsed - 1
				}
				a[i] = pendPair{v | 1<<40*uint64(bitsUsed&1), uint32(i)}
			}
			want := slices.Clone(a)
			slices.SortStableFunc(want, func(x, y pendPair) int { return cmp.Compare(x.v, y.v) })
			got, _ := ps.radixSort(a, make([]pendPair, n))
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d bits=%d: not sorted stably", n, bitsUsed)
			}
		}
	}
}

// TestFragmentOrder checks encoder.numberFragments, which takes the
// fragments from the incoming edges dedup counted and numbers them by the
// order dedup made the cells in, against the definition:
// a depth-first walk of the deduplicated tree from the root, head first,
// numbering each fragment at its post visit. Values of every convention
// with heavy sharing (by pointer and structural), laws, pins and holes, and
// large trees split over two walks.
func TestFragmentOrder(t *testing.T) {
	old := splitMin
	defer func() { splitMin = old }()
	r := rand.New(rand.NewPCG(8, 9))
	type tc struct {
		v    plan.Value
		conv Convention
	}
	var cases []tc
	for i := range 600 {
		conv := []Convention{Raw, Pallas, Plan4, Body}[i%4]
		g := &gen{r: r, laws: conv != Raw, pins: conv != Raw}
		v := g.value(5 + r.IntN(150))
		cases = append(cases, tc{v, conv}, tc{plan.A(v, g.nat(), v), conv})
	}
	for range 6 {
		var pool []plan.Value
		for range r.IntN(40) {
			pool = append(pool, largeTree(r, 1+r.IntN(4), pool))
		}
		cases = append(cases, tc{largeTree(r, 10+r.IntN(3), pool), Raw})
	}
	cases = append(cases, tc{BenchTree(12), Raw})
	checked := 0
	for i, c := range cases {
		splitMin = []int{0, 1 << 30}[i%2]
		e := newEncoder(c.conv)
		e.nHoles = 1
		rawRoot, err := e.splitTree(c.v)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if _, err := e.internPending(); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		root := e.dedup(rawRoot)
		if root < 0 {
			e.release()
			continue
		}
		_, order := e.numberFragments(root)
		got := slices.Clone(order)
		want := dfsFragments(e.cells, root)
		if !slices.Equal(got, want) {
			t.Fatalf("case %d (%v): %d fragments, want %d in walk order: %v, want %v", i, c.conv, len(got), len(want), head(got), head(want))
		}
		if len(want) > 1 {
			checked++
		}
		e.release()
	}
	if checked < 500 {
		t.Fatalf("only %d cases had more than one fragment", checked)
	}
}

func head(s []int32) []int32 { return s[:min(len(s), 12)] }

// dfsFragments finds and numbers the fragments by their definition (see
// TestFragmentOrder): the root and the cells with two or more incoming
// edges.
func dfsFragments(cells []cell, root int32) []int32 {
	edges := make([]int, len(cells))
	for _, c := range cells {
		for _, x := range []int32{c.h, c.t} {
			if x >= 0 {
				edges[x]++
			}
		}
	}
	isFrag := func(c int32) bool { return c == root || edges[c] >= 2 }
	entered := make([]bool, len(cells))
	var order []int32
	st := []int32{root}
	for len(st) > 0 {
		c := st[len(st)-1]
		st = st[:len(st)-1]
		if c < 0 { // post visit of fragment ^c
			order = append(order, ^c)
			continue
		}
		if isFrag(c) {
			if entered[c] {
				continue
			}
			entered[c] = true
			st = append(st, ^c)
		}
		if t := cells[c].t; t >= 0 {
			st = append(st, t)
		}
		if h := cells[c].h; h >= 0 {
			st = append(st, h)
		}
	}
	return order
}
