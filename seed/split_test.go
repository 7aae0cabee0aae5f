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
// goroutine gives the same bytes as one walk, on the benchmark tree and on
// random values with heavy sharing and big nats (splitMin 0 splits every
// app root).
func TestSplitSameBytes(t *testing.T) {
	old := splitMin
	defer func() { splitMin = old }()
	enc := func(v plan.Value, split bool) ([]byte, error) {
		splitMin = 1 << 30
		if split {
			splitMin = 0
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
			got, _ := radixSort(a, make([]pendPair, n))
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d bits=%d: not sorted stably", n, bitsUsed)
			}
		}
	}
}
