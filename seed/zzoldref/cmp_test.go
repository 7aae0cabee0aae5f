package zzoldref

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"pstore/plan"
	"pstore/seed"
)

func randTree(r *rand.Rand, depth int, pool []plan.Value) plan.Value {
	if depth == 0 || r.IntN(8) == 0 {
		switch r.IntN(4) {
		case 0:
			return plan.N(r.Uint64())
		case 1:
			return plan.N(uint64(r.IntN(5000)))
		case 2:
			return plan.N(uint64(r.IntN(6)))
		}
		if len(pool) > 0 {
			return pool[r.IntN(len(pool))]
		}
		return plan.N(7)
	}
	l := randTree(r, depth-1, pool)
	x := randTree(r, depth-1, pool)
	if r.IntN(2) == 0 {
		return plan.A(l, x)
	}
	return plan.NewAppShared(l, []plan.Value{x})
}

func TestSameBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 300 {
		var pool []plan.Value
		for range r.IntN(50) {
			pool = append(pool, randTree(r, 1+r.IntN(5), pool))
		}
		v := randTree(r, 1+r.IntN(14), pool)
		a, err1 := seed.Encode(v, seed.Raw)
		b, err2 := Encode(v, Raw)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("iter %d: differ (%v %v) %d %d", iter, err1, err2, len(a), len(b))
		}
		d1, err1 := seed.Decode(a, seed.Raw, nil)
		d2, err2 := Decode(a, Raw, nil)
		if err1 != nil || err2 != nil || !plan.Equal(d1, d2) || !plan.Equal(d1, v) {
			t.Fatalf("iter %d: decode differs", iter)
		}
		for _, c := range []seed.Convention{seed.Pallas, seed.Plan4, seed.Body} {
			a, err1 := seed.Encode(v, c)
			b, err2 := Encode(v, Convention(c))
			if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
				t.Fatalf("iter %d conv %v: differ", iter, c)
			}
		}
	}
}

func TestBenchSame(t *testing.T) {
	v := seed.BenchTree(22)
	a, _ := seed.Encode(v, seed.Raw)
	b, _ := Encode(v, Raw)
	if !bytes.Equal(a, b) {
		t.Fatal("bench tree differs")
	}
	t.Logf("%d bytes", len(a))
}
