package seed

import (
	"math/rand/v2"
	"testing"

	"pstore/plan"
)

// decodeBoth decodes data with fragmentsPlain and with fragmentsPiped.
func decodeBoth(data []byte, c Convention, holes []plan.Value) (seq, piped plan.Value, seqErr, pipedErr error) {
	old := pipeMin
	defer func() { pipeMin = old }()
	pipeMin = 1 << 62
	seq, seqErr = Decode(data, c, holes)
	pipeMin = 0
	piped, pipedErr = Decode(data, c, holes)
	return
}

// TestPipedMatchesPlain: the two-goroutine decoder gives the same value
// or the same error as the one-goroutine decoder, on good seeds (several
// batches long, with shared fragments) and on damaged ones.
func TestPipedMatchesPlain(t *testing.T) {
	good, err := Encode(BenchTree(13), Raw)
	if err != nil {
		t.Fatal(err)
	}
	seq, piped, e1, e2 := decodeBoth(good, Raw, nil)
	if e1 != nil || e2 != nil {
		t.Fatal(e1, e2)
	}
	if !plan.Equal(seq, piped) || !plan.Equal(seq, BenchTree(13)) {
		t.Fatal("piped decode differs")
	}
	p4, err := Encode(plan.A(plan.P(plan.N(0)), BenchTree(10), plan.L(plan.N(1), plan.N(2), BenchTree(9))), Plan4)
	if err != nil {
		t.Fatal(err)
	}
	seq, piped, e1, e2 = decodeBoth(p4, Plan4, nil)
	if e1 != nil || e2 != nil || !plan.Equal(seq, piped) {
		t.Fatal("plan4: piped decode differs", e1, e2)
	}
	r := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, len(good))
	check := func(what string, data []byte) {
		t.Helper()
		seq, piped, e1, e2 := decodeBoth(data, Raw, nil)
		switch {
		case (e1 == nil) != (e2 == nil):
			t.Fatalf("%s: plain error %v, piped error %v", what, e1, e2)
		case e1 != nil:
			if e1.Error() != e2.Error() {
				t.Fatalf("%s: plain error %v, piped error %v", what, e1, e2)
			}
		case !plan.Equal(seq, piped):
			t.Fatalf("%s: values differ", what)
		}
	}
	for range 200 {
		n := r.IntN(len(good))
		check("truncated", good[:n])
	}
	for range 300 {
		copy(buf, good)
		for range 1 + r.IntN(3) {
			// Damage the tree bits mostly (the tail of the seed).
			i := len(buf) - 1 - r.IntN(len(buf)/2)
			buf[i] ^= 1 << r.IntN(8)
		}
		check("bit flip", buf)
	}
}
