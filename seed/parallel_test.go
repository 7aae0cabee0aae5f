package seed

import (
	"errors"
	"math/rand/v2"
	"testing"

	"pstore/plan"
)

// decodeSequential is Decode with the two-core decoder turned off.
func decodeSequential(data []byte, c Convention, holes []plan.Value) (plan.Value, error) {
	d := decoder{data: data, conv: c, parallelMin: ^uint64(0)}
	return d.decode(holes)
}

// uniqueTree is a tree without repeated subtrees (its seed is one
// fragment): the parallel decoder must split inside it.
func uniqueTree(depth int, next *uint64) plan.Value {
	if depth == 0 {
		*next++
		return plan.N(*next * 0x9E3779B97F4A7C15)
	}
	l := uniqueTree(depth-1, next)
	return plan.A(l, uniqueTree(depth-1, next))
}

// parallelCases are values whose seeds exercise the parallel decoder: one
// huge fragment, many small fragments before a big root fragment (the
// benchmark's shape), bignats and holes, and a deep left spine.
func parallelCases(t *testing.T) map[string]struct {
	data  []byte
	holes []plan.Value
} {
	out := map[string]struct {
		data  []byte
		holes []plan.Value
	}{}
	add := func(name string, v plan.Value, holes []*plan.Pin) {
		data, err := EncodeHoles(v, Raw, holes)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		hv := make([]plan.Value, len(holes))
		for i, h := range holes {
			hv[i] = h
		}
		out[name] = struct {
			data  []byte
			holes []plan.Value
		}{data, hv}
	}
	var n uint64
	add("unique", uniqueTree(17, &n), nil)
	add("bench", BenchTree(20), nil) // a tree section over parallelMinBytes
	r := rand.New(rand.NewPCG(7, 8))
	var pool []plan.Value
	for range 40 {
		pool = append(pool, largeTree(r, 6, pool))
	}
	holes := []*plan.Pin{plan.P(plan.N(1)), plan.P(plan.N(2))}
	pool = append(pool, holes[0], holes[1])
	add("shared", largeTree(r, 16, pool), holes)
	spine := make([]plan.Value, 200000)
	for i := range spine {
		spine[i] = plan.N(uint64(i) * 7919)
	}
	add("spine", plan.A(plan.N(5), spine...), nil)
	return out
}

// TestParallelDecode checks that the two-core decoder builds the value the
// one-core decoder builds, on inputs big enough for Decode to choose it
// and, forced, on small ones.
func TestParallelDecode(t *testing.T) {
	splits := parallelSplits.Load()
	for name, c := range parallelCases(t) {
		seq, err := decodeSequential(c.data, Raw, c.holes)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, dec := range []func([]byte, Convention, []plan.Value) (plan.Value, error){decodeParallel, Decode} {
			v, err := dec(c.data, Raw, c.holes)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !plan.Equal(v, seq) {
				t.Fatalf("%s: the decoders disagree", name)
			}
			if n := parallelSplits.Load(); i == 0 && n == splits {
				t.Errorf("%s: worker 1 did not take a share", name)
			}
			splits = parallelSplits.Load()
		}
		// Every prefix of a small seed, forced parallel.
		if len(c.data) > 4096 {
			continue
		}
		for n := range c.data {
			_, err1 := decodeSequential(c.data[:n], Raw, c.holes)
			_, err2 := decodeParallel(c.data[:n], Raw, c.holes)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("%s[:%d]: %v vs %v", name, n, err1, err2)
			}
		}
	}
}

// TestParallelDecodeCorrupt damages large seeds at positions before and
// after the split point and checks that both decoders give the same
// outcome, an error wrapping ErrCorrupt or equal values, and never panic.
func TestParallelDecodeCorrupt(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := parallelCases(t)
	for _, name := range []string{"unique", "bench", "shared"} {
		c := cases[name]
		rounds := 16
		if testing.Short() {
			rounds = 8
		}
		for round := range rounds {
			data := append([]byte(nil), c.data...)
			switch round % 4 {
			case 0: // one flipped bit anywhere in the tree
				i := len(data) - 1 - r.IntN(len(data)/2)
				data[i] ^= 1 << r.IntN(8)
			case 1: // a run of ones (a huge spine)
				i := len(data)/2 + r.IntN(len(data)/2-16)
				for k := range 12 {
					data[i+k] = 0xff
				}
			case 2: // truncated
				data = data[:len(data)/2+r.IntN(len(data)/2)]
			case 3: // zeroed stretch
				i := r.IntN(len(data) - 64)
				clear(data[i : i+64])
			}
			v1, err1 := decodeSequential(data, Raw, c.holes)
			v2, err2 := decodeParallel(data, Raw, c.holes)
			v3, err3 := Decode(data, Raw, c.holes)
			for _, err := range []error{err1, err2, err3} {
				if err != nil && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s round %d: %v does not wrap ErrCorrupt", name, round, err)
				}
			}
			if (err1 == nil) != (err2 == nil) || (err1 == nil) != (err3 == nil) {
				t.Fatalf("%s round %d: errors %v / %v / %v", name, round, err1, err2, err3)
			}
			if err1 == nil && (!plan.Equal(v1, v2) || !plan.Equal(v1, v3)) {
				t.Fatalf("%s round %d: the decoders disagree", name, round)
			}
		}
	}
}

// TestDecodeDeepNesting decodes trees whose open spines nest far deeper
// than the frames the plain decoder keeps on its goroutine stack
// (localFrames), so that it moves them to the heap and back many times,
// with each decoder, and checks the result against the value encoded.
func TestDecodeDeepNesting(t *testing.T) {
	// Right-nested: (0 (1 (2 ... ))), and spines of one to three
	// arguments whose last argument nests on, with a shared subtree
	// (a fragment) every so often.
	const depth = 300000
	shared := plan.A(plan.N(1<<40), plan.N(2), plan.N(3))
	var right plan.Value = plan.N(7)
	var mixed plan.Value = shared
	for i := range depth {
		right = plan.NewAppShared(plan.N(uint64(i)), []plan.Value{right})
		args := []plan.Value{mixed}
		switch i % 7 {
		case 1:
			args = []plan.Value{plan.N(uint64(i) << 20), mixed}
		case 3:
			args = []plan.Value{shared, plan.N(uint64(i)), mixed}
		}
		mixed = plan.NewAppShared(plan.N(uint64(i%300)), args)
	}
	for name, v := range map[string]plan.Value{"right": right, "mixed": mixed} {
		data, err := Encode(v, Raw)
		if err != nil {
			t.Fatal(err)
		}
		for i, dec := range []func([]byte, Convention, []plan.Value) (plan.Value, error){decodeSequential, decodeParallel, Decode} {
			back, err := dec(data, Raw, nil)
			if err != nil {
				t.Fatalf("%s, decoder %d: %v", name, i, err)
			}
			if !plan.Equal(back, v) {
				t.Fatalf("%s, decoder %d: decoded value differs", name, i)
			}
		}
	}
}
