package seed

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"pstore/plan"
)

// largeTree returns a random tree big enough for the encoder's sorting
// paths (radix sorts run from 256 entries): thousands of leaves, word and
// tiny nats, a few bignats, and subtrees shared by pointer.
func largeTree(r *rand.Rand, depth int, pool []plan.Value) plan.Value {
	if depth == 0 || r.IntN(25) == 0 {
		switch r.IntN(6) {
		case 0, 1:
			return plan.N(r.Uint64() >> r.IntN(64))
		case 2:
			return plan.N(uint64(r.IntN(5000)))
		case 3:
			return plan.N(uint64(r.IntN(4)))
		case 4:
			return plan.NatFromUint64s([]uint64{r.Uint64(), 1 + uint64(r.IntN(3))})
		}
		if len(pool) > 0 {
			return pool[r.IntN(len(pool))]
		}
		return plan.N(9)
	}
	l := largeTree(r, depth-1, pool)
	x := largeTree(r, depth-1, pool)
	if r.IntN(2) == 0 {
		return plan.A(l, x)
	}
	return plan.NewAppShared(l, []plan.Value{x})
}

// TestEncodeLarge checks the canonical encoding of large values: it
// round-trips, a differently built copy and the decoded value encode to
// the same bytes, and encoding other values in between (which reuses the
// pooled tables) does not change it.
func TestEncodeLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	var prev plan.Value
	var prevEnc []byte
	for iter := range 12 {
		var pool []plan.Value
		for range r.IntN(40) {
			pool = append(pool, largeTree(r, 1+r.IntN(4), pool))
		}
		v := largeTree(r, 10+r.IntN(4), pool)
		if iter%4 == 3 {
			v = BenchTree(11)
		}
		enc, err := Encode(v, Raw)
		if err != nil {
			t.Fatalf("iter %d: %v", iter, err)
		}
		t.Logf("iter %d: %d bytes", iter, len(enc))
		back, err := Decode(enc, Raw, nil)
		if err != nil {
			t.Fatalf("iter %d: decode: %v", iter, err)
		}
		if !plan.Equal(back, v) {
			t.Fatalf("iter %d: round trip differs", iter)
		}
		for name, w := range map[string]plan.Value{"decoded": back, "resplit": resplit(r, v)} {
			again, err := Encode(w, Raw)
			if err != nil || !bytes.Equal(again, enc) {
				t.Fatalf("iter %d: %s copy encodes differently (%v)", iter, name, err)
			}
		}
		if prev != nil {
			again, err := Encode(prev, Raw)
			if err != nil || !bytes.Equal(again, prevEnc) {
				t.Fatalf("iter %d: previous value encodes differently now (%v)", iter, err)
			}
		}
		// Body and Pallas go through the same tables.
		body, _, err := EncodeBody(plan.A(plan.L(plan.N(1), plan.N(2), v), v))
		if err != nil {
			t.Fatalf("iter %d: body: %v", iter, err)
		}
		if _, err := Decode(body, Body, []plan.Value{nil}); err != nil {
			t.Fatalf("iter %d: body decode: %v", iter, err)
		}
		prev, prevEnc = v, enc
	}
}
