package plan

import (
	"bufio"
	"flag"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("plan.seed", 0, "random seed for the property tests (0: time-based)")

func testSeed(t *testing.T) uint64 {
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -plan.seed=%d)", s, s)
	return s
}

// randNat covers the word fast path, big nats, and nats that print as
// strings (or nearly do).
func randNat(r *rand.Rand) Nat {
	switch r.IntN(6) {
	case 0:
		return N(uint64(r.IntN(10)))
	case 1:
		return N(r.Uint64())
	case 2:
		return N(r.Uint64() >> uint(r.IntN(64)))
	case 3: // big
		b := make([]byte, 9+r.IntN(60))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return NatFromBytes(b)
	default: // string-like, sometimes spoiled by one byte
		const alpha = "abcXYZ_019"
		b := make([]byte, 1+r.IntN(20))
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		if r.IntN(3) == 0 {
			b[r.IntN(len(b))] = byte(r.Uint32())
		}
		return NatFromBytes(b)
	}
}

func randValue(r *rand.Rand, depth int, pool *[]Value) Value {
	if len(*pool) > 0 && r.IntN(8) == 0 {
		return (*pool)[r.IntN(len(*pool))] // sharing
	}
	var v Value
	k := r.IntN(10)
	if depth <= 0 {
		k = 0
	}
	switch {
	case k < 4:
		v = randNat(r)
	case k < 5:
		v = P(randValue(r, depth-1, pool))
	case k < 6:
		arity := randNat(r)
		if r.IntN(3) == 0 {
			arity = N(0)
		}
		v = L(randNat(r), arity, randValue(r, depth-1, pool))
	case k < 8:
		args := make([]Value, 1+r.IntN(4))
		for i := range args {
			args[i] = randValue(r, depth-1, pool)
		}
		v = A(randValue(r, depth-1, pool), args...)
	default: // nested Fun, not flattened
		args := make([]Value, 1+r.IntN(3))
		for i := range args {
			args[i] = randValue(r, depth-1, pool)
		}
		v = NewAppShared(randValue(r, depth-1, pool), args)
	}
	*pool = append(*pool, v)
	return v
}

func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 1))
	for i := 0; i < 3000; i++ {
		var pool []Value
		v := randValue(r, 1+r.IntN(7), &pool)
		s, err := Sprint(v, PrintOptions{Limit: -1})
		if err != nil {
			t.Fatalf("print: %v", err)
		}
		w, err := Parse(s)
		if err != nil {
			t.Fatalf("parse %q: %v", s, err)
		}
		if !Equal(v, w) {
			t.Fatalf("round trip differs for %q", s)
		}
		// Printing is canonical: the reparsed value prints the same.
		if s2, _ := Sprint(w, PrintOptions{Limit: -1}); s2 != s {
			t.Fatalf("reprint differs:\n%s\n%s", s, s2)
		}
		// Hex printing parses back to the same value too.
		h, err := Sprint(v, PrintOptions{Limit: -1, Hex: true})
		if err != nil {
			t.Fatal(err)
		}
		if w, err := Parse(h); err != nil || !Equal(v, w) {
			t.Fatalf("hex round trip failed for %q: %v", h, err)
		}
	}
}

// Random bytes strings: the parser must never panic, and whatever parses
// must print and parse back equal.
func TestParseRandomBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 2))
	const alpha = "()<>{} \"\\x0129afAF_@.seedbq\t\n\xc3\xa9\x00\x7f"
	for i := 0; i < 20000; i++ {
		b := make([]byte, r.IntN(30))
		for j := range b {
			b[j] = alpha[r.IntN(len(alpha))]
		}
		checkParse(t, string(b))
	}
}

func checkParse(t testing.TB, src string) {
	v, err := ParseWith(src, ParseOptions{SeedRef: seedPlaceholder})
	if err != nil {
		return
	}
	s, err := Sprint(v, PrintOptions{Limit: -1})
	if err != nil {
		t.Fatalf("%q: print: %v", src, err)
	}
	w, err := Parse(s)
	if err != nil {
		t.Fatalf("%q printed as %q: %v", src, s, err)
	}
	if !Equal(v, w) {
		t.Fatalf("%q printed as %q: not equal", src, s)
	}
}

func FuzzParse(f *testing.F) {
	for _, file := range []string{"testdata/pallas_cases.tsv", "testdata/plan4_cases.tsv", "testdata/pallas_decoded.tsv"} {
		fh, err := os.Open(file)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
				for _, field := range strings.Split(line, "\t") {
					f.Add(field)
				}
			}
		}
		fh.Close()
	}
	for _, s := range []string{`"a\x00"`, `"\xff\\\""`, "{1 0 2}", "()", "<x.seed>", "0x0", "(((1)))"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) { checkParse(t, src) })
}
