package seed

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"pstore/mmap"
	"pstore/plan"
)

type gen struct {
	r     *rand.Rand
	pool  []plan.Value
	sizes []int // expanded size of each pool entry (for plan.Equal's sake)
	laws  bool
	pins  bool
}

func (g *gen) nat() plan.Nat {
	switch g.r.IntN(6) {
	case 0, 1:
		return plan.N(uint64(g.r.IntN(8)))
	case 2:
		return plan.N(uint64(g.r.IntN(300)))
	case 3:
		return plan.N(g.r.Uint64())
	case 4:
		ws := make([]uint64, 2+g.r.IntN(3))
		for i := range ws {
			ws[i] = g.r.Uint64() >> (g.r.IntN(2) * 60)
		}
		ws[len(ws)-1] |= 1
		return plan.NatFromUint64s(ws)
	}
	// Bignats of equal width and top word (the C comparator quirk).
	x := new(big.Int).Lsh(big.NewInt(int64(1+g.r.IntN(2))), 64)
	return plan.NatFromBig(x.Add(x, big.NewInt(int64(g.r.IntN(9)))))
}

func (g *gen) pick() (plan.Value, int) {
	i := g.r.IntN(len(g.pool))
	return g.pool[i], g.sizes[i]
}

// value builds a random value with heavy sharing (every step reuses pool
// entries) and bounded expanded size.
func (g *gen) value(steps int) plan.Value {
	g.pool, g.sizes = nil, nil
	for range 4 {
		g.pool = append(g.pool, g.nat())
		g.sizes = append(g.sizes, 1)
	}
	for range steps {
		var v plan.Value
		size := 1
		switch k := g.r.IntN(10); {
		case k < 2:
			v = g.nat()
		case k < 7:
			f, fs := g.pick()
			n := 1 + g.r.IntN(3)
			args := make([]plan.Value, n)
			size = fs
			for i := range args {
				var s int
				args[i], s = g.pick()
				size += s + 1
			}
			if g.r.IntN(2) == 0 {
				v = plan.A(f, args...)
			} else {
				v = plan.NewAppShared(f, args)
			}
		case k < 9 && g.laws:
			b, bs := g.pick()
			v = plan.L(g.nat(), plan.N(uint64(1+g.r.IntN(3))), b)
			size = bs + 3
		case g.pins:
			x, xs := g.pick()
			v = plan.P(x)
			size = xs + 1
		default:
			v = g.nat()
		}
		if size > 4000 {
			continue
		}
		g.pool = append(g.pool, v)
		g.sizes = append(g.sizes, size)
	}
	return g.pool[len(g.pool)-1]
}

// resplit returns a structurally equal copy of v with no sharing and apps
// split differently (each pair view (f x) as its own node, or flattened).
func resplit(r *rand.Rand, v plan.Value) plan.Value {
	switch x := v.(type) {
	case *plan.App:
		h, args := x.Spine()
		out := resplit(r, h)
		for _, a := range args {
			if r.IntN(2) == 0 {
				out = plan.NewAppShared(out, []plan.Value{resplit(r, a)})
			} else {
				out = plan.A(out, resplit(r, a))
			}
		}
		return out
	case *plan.Law:
		return plan.L(x.Name, x.Arity, resplit(r, x.Body))
	case *plan.Pin:
		return plan.P(resplit(r, x.MustItem()))
	}
	return v
}

func TestRoundTrip(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SEED_TEST_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("random seed %d (replay with SEED_TEST_SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for iter := range 1500 {
		conv := []Convention{Raw, Pallas, Body}[iter%3]
		g := &gen{r: r, laws: conv != Raw, pins: conv != Raw}
		v := g.value(5 + r.IntN(150))
		var enc []byte
		var kids []*plan.Pin
		var err error
		if conv == Body {
			enc, kids, err = EncodeBody(v)
		} else {
			enc, err = Encode(v, conv)
		}
		if err != nil {
			t.Fatalf("seed %d iter %d: encode: %v", seed, iter, err)
		}
		if len(enc)%8 != 0 {
			t.Fatalf("seed %d iter %d: length %d", seed, iter, len(enc))
		}
		holes := []plan.Value(nil)
		if conv == Body {
			holes = append(holes, nil)
			for _, k := range kids {
				holes = append(holes, k)
			}
		}
		back, err := Decode(enc, conv, holes)
		if err != nil {
			t.Fatalf("seed %d iter %d (%v): decode: %v", seed, iter, conv, err)
		}
		switch conv {
		case Pallas:
			// The raw tree re-encodes to the same bytes.
			re, err := Encode(back, Raw)
			if err != nil || !bytes.Equal(re, enc) {
				t.Fatalf("seed %d iter %d: pallas tree re-encoding differs (%v)", seed, iter, err)
			}
		default:
			if !plan.Equal(back, v) {
				t.Fatalf("seed %d iter %d (%v): round trip differs", seed, iter, conv)
			}
		}
		// Canonical: a differently shared and split copy gives the same
		// bytes (and, for bodies, the same number of children).
		w := resplit(r, v)
		var enc2 []byte
		var kids2 []*plan.Pin
		if conv == Body {
			enc2, kids2, err = EncodeBody(w)
		} else {
			enc2, err = Encode(w, conv)
		}
		if err != nil || !bytes.Equal(enc, enc2) || len(kids) != len(kids2) {
			t.Fatalf("seed %d iter %d (%v): copy encodes differently (%v)", seed, iter, conv, err)
		}
	}
}

// TestBodySharedLawPrefix: two laws with the same name and arity share the
// cell (h0 n a), which becomes a fragment of its own.
func TestBodySharedLawPrefix(t *testing.T) {
	l1 := plan.L(plan.N(5), plan.N(2), plan.N(7))
	l2 := plan.L(plan.N(5), plan.N(2), plan.A(plan.N(8), plan.N(9)))
	p := plan.P(plan.N(77))
	v := plan.A(l1, l2, plan.A(l2, p), p)
	enc, kids, err := EncodeBody(v)
	if err != nil {
		t.Fatal(err)
	}
	if binary.LittleEndian.Uint64(enc[32:]) < 3 {
		t.Fatalf("expected shared fragments, numFrags = %d", binary.LittleEndian.Uint64(enc[32:]))
	}
	back, err := Decode(enc, Body, []plan.Value{nil, kids[0]})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Equal(back, v) {
		t.Fatal("round trip differs")
	}
}

// TestBodyCorrupt: hole 0 misuse in raw trees read as bodies.
func TestBodyCorrupt(t *testing.T) {
	h0 := plan.P(plan.N(12345)) // stands for hole 0 when encoding raw
	pin := plan.P(plan.N(1))
	cases := map[string]plan.Value{
		"h0 argument":    plan.A(plan.N(1), h0),
		"h0 two args":    plan.A(h0, plan.N(1), plan.N(2)),
		"non-nat name":   plan.A(h0, plan.A(plan.N(1), plan.N(1)), plan.N(2), plan.N(3)),
		"non-nat arity":  plan.A(h0, plan.N(1), pin, plan.N(3)),
		"h0 inner short": plan.A(plan.N(9), plan.A(h0, plan.N(1), plan.N(2))),
	}
	// h0 as the whole value: one hole, no nats, no fragment.
	alone, err := EncodeHoles(h0, Raw, []*plan.Pin{h0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(alone, Body, []plan.Value{nil}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("h0 alone: got %v, want ErrCorrupt", err)
	}
	for name, tree := range cases {
		enc, err := EncodeHoles(tree, Raw, []*plan.Pin{h0, pin})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, err = Decode(enc, Body, []plan.Value{nil, pin})
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
}

func TestHostile(t *testing.T) {
	// A 100-byte header claiming 2^60 nats.
	data := make([]byte, 100)
	for _, off := range []int{8, 16, 24, 32} {
		clear(data)
		binary.LittleEndian.PutUint64(data[off:], 1<<60)
		if _, err := Decode(data, Raw, nil); !errors.Is(err, ErrCorrupt) {
			t.Errorf("count at %d: %v", off, err)
		}
	}
	// A huge bignat width.
	clear(data)
	binary.LittleEndian.PutUint64(data[8:], 1)
	binary.LittleEndian.PutUint64(data[40:], 1<<61)
	if _, err := Decode(data, Raw, nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("width: %v", err)
	}
	// Every truncation and many bit flips of a real seed.
	good, err := Encode(BenchTree(8), Raw)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(good); n++ {
		if _, err := Decode(good[:n], Raw, nil); err == nil && n < len(good)-8 {
			t.Fatalf("truncated to %d of %d bytes decoded", n, len(good))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, len(good))
	for range 2000 {
		copy(buf, good)
		buf[r.IntN(len(buf))] ^= 1 << r.IntN(8)
		if _, err := Decode(buf, Raw, nil); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatal(err)
		}
	}
	// An index out of range names the fragment and the bit: (1 2 3) has
	// table [3 2 1] (W = 2) and its last leaf's index bits are bits 9-10
	// of the tree, which starts at byte 43; make that index 3.
	v, _ := Encode(plan.A(plan.N(1), plan.N(2), plan.N(3)), Raw)
	bad := bytes.Clone(v)
	bad[44] |= 0x03
	if _, err := Decode(bad, Raw, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad index: %v", err)
	} else {
		t.Log(err)
	}
}

// TestZeroCopy: bignats decoded from an aligned buffer alias it.
func TestZeroCopy(t *testing.T) {
	n := plan.NatFromUint64s([]uint64{0x1111, 0x2222, 0x3333})
	enc, err := Encode(plan.A(n, n, plan.N(5)), Raw)
	if err != nil {
		t.Fatal(err)
	}
	// An 8-byte aligned copy (the race detector's allocator does not
	// always align byte slices, so look for the aligned offset).
	raw := make([]byte, len(enc)+8)
	var buf []byte
	for i := 0; i < 8; i++ {
		if _, ok := mmap.Words(raw[i : i+8]); ok {
			buf = raw[i : i+len(enc)]
		}
	}
	if buf == nil {
		t.Skip("host is not little-endian 64-bit: no zero copy")
	}
	copy(buf, enc)
	v, err := Decode(buf, Raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := v.(*plan.App).Fun.(plan.Nat)
	if !got.Equal(n) {
		t.Fatal("wrong nat")
	}
	// The bignat data starts after the header and its width word.
	buf[48] ^= 0xff
	if got.Equal(n) {
		t.Fatal("decoded bignat does not alias an aligned buffer")
	}
	// A misaligned buffer is copied.
	mis := raw[:len(enc)]
	if &mis[0] == &buf[0] {
		mis = raw[1 : len(enc)+1]
	}
	copy(mis, enc)
	v, err = Decode(mis, Raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	got = v.(*plan.App).Fun.(plan.Nat)
	mis[48] ^= 0xff
	if !got.Equal(n) {
		t.Fatal("decoded bignat aliases a misaligned buffer")
	}
}

// TestDeep: million-level values in both directions.
func TestDeep(t *testing.T) {
	const depth = 1 << 20
	var right plan.Value = plan.N(0)
	var left plan.Value = plan.N(0)
	for i := range depth {
		right = plan.NewAppShared(plan.N(uint64(i%3)), []plan.Value{right})
		left = plan.NewAppShared(left, []plan.Value{plan.N(uint64(i % 5))})
	}
	for _, v := range []plan.Value{plan.L(plan.N(1), plan.N(1), right), left} {
		enc, _, err := EncodeBody(v)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(enc, Body, []plan.Value{nil})
		if err != nil {
			t.Fatal(err)
		}
		enc2, _, err := EncodeBody(back)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("deep round trip: %v", err)
		}
	}
	// Exponential sharing: 2^200 leaves in the tree, 200 distinct cells.
	var x plan.Value = plan.N(1)
	for range 200 {
		x = plan.NewAppShared(x, []plan.Value{x})
	}
	enc, err := Encode(x, Raw)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(enc, Raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	enc2, err := Encode(back, Raw)
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatal("shared round trip")
	}
}
