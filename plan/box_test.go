package plan

import (
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestWordBoxes checks that bulk-boxed nats behave exactly like nats boxed
// by the compiler, survive garbage collections while only some of them are
// referenced, and that the one-at-a-time fallback gives the same values.
func TestWordBoxes(t *testing.T) {
	if !wordBoxing {
		t.Log("bulk boxing unavailable on this runtime: testing the fallback only")
	}
	r := rand.New(rand.NewPCG(5, 6))
	xs := []uint64{0, 1, 255, 256, 1<<63 + 5, ^uint64(0)}
	for range 1000 {
		xs = append(xs, r.Uint64()>>r.IntN(64))
	}
	le := make([]byte, 8*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint64(le[8*i:], x)
	}
	check := func(name string, vs []Value) {
		t.Helper()
		for i, v := range vs {
			n, ok := v.(Nat)
			if !ok || v.Kind() != KindNat {
				t.Fatalf("%s: value %d is %T", name, i, v)
			}
			if u, ok := n.Uint64(); !ok || u != xs[i] || !Equal(v, N(xs[i])) || v != Value(N(xs[i])) {
				t.Fatalf("%s: value %d = %v, want %d", name, i, v, xs[i])
			}
		}
	}
	values := func() []Value {
		boxes := NewWordBoxes(le)
		vs := make([]Value, boxes.Len())
		for i := range vs {
			vs[i] = boxes.Value(i)
		}
		return vs
	}
	vs := values()
	check("WordBoxes", vs)

	// Keep every 97th value only, collect, and read them back.
	keep := map[int]Value{}
	for i := 0; i < len(vs); i += 97 {
		keep[i] = vs[i]
	}
	vs = nil
	for range 3 {
		runtime.GC()
		_ = make([]Nat, 1<<16) // reuse freed memory if it was freed
	}
	for i, v := range keep {
		if !Equal(v, N(xs[i])) {
			t.Fatalf("value %d changed after collection: %v", i, v)
		}
	}

	saved := wordBoxing
	wordBoxing = false
	defer func() { wordBoxing = saved }()
	check("fallback", values())
}
