package merkle

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"math/rand"
	"testing"

	"pstore/plan"
)

func TestSection15_6WorkedExample(t *testing.T) {
	three := plan.P(plan.N(3))
	threeBody, kids, err := Body(three)
	if err != nil {
		t.Fatal(err)
	}
	wantThree := make([]byte, 56)
	copy(wantThree[8:], []byte{1, 0, 0, 0, 0, 0, 0, 0}) // numHoles 1
	wantThree[8+24] = 1                                 // numBytes 1
	wantThree[8+40] = 3
	if !bytes.Equal(threeBody, wantThree) || len(kids) != 0 {
		t.Fatalf("body of <3>:\n%s\nwant\n%s", hex.Dump(threeBody), hex.Dump(wantThree))
	}
	f := plan.L(plan.N('f'), plan.N(2), plan.N(1))
	outer := plan.P(plan.A(f, three))
	body, kids, err := Body(outer)
	if err != nil {
		t.Fatal(err)
	}
	seedHex := "0200000000000000" + "0000000000000000" + "0000000000000000" + "0300000000000000" +
		"0100000000000000" + "6602010732140000"
	want := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	d3 := HashBytes(wantThree)
	want = append(want, d3[:]...)
	s, _ := hex.DecodeString(seedHex)
	want = append(want, s...)
	if len(body) != 88 || !bytes.Equal(body, want) {
		t.Fatalf("body:\n%s\nwant\n%s", hex.Dump(body), hex.Dump(want))
	}
	if len(kids) != 1 || kids[0] != three {
		t.Fatal("children")
	}
	c, err := CID(outer)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(c, body); err != nil {
		t.Fatal(err)
	}
	if c.String()[0] != 'b' {
		t.Fatalf("CID string %s is not base32 multibase", c)
	}
	pc, err := ParseCID(c.String())
	if err != nil || !pc.Equals(c) {
		t.Fatalf("parse %v %v", pc, err)
	}
	d, _ := DigestOf(c)
	if d != HashBytes(body) || !CIDOf(d).Equals(c) {
		t.Fatal("digest/CID mismatch")
	}
}

// randValue builds a random value; pins are built bottom up from a pool so
// the DAG has sharing.
func randValue(r *rand.Rand, pool []*plan.Pin, depth int) plan.Value {
	if depth == 0 || r.Intn(4) == 0 {
		switch r.Intn(5) {
		case 0:
			if len(pool) > 0 {
				return pool[r.Intn(len(pool))]
			}
			return plan.N(uint64(r.Intn(300)))
		case 1:
			b := new(big.Int).Lsh(big.NewInt(int64(r.Intn(1000)+1)), uint(64+r.Intn(200)))
			return plan.NatFromBig(b)
		default:
			return plan.N(uint64(r.Intn(300)))
		}
	}
	switch r.Intn(4) {
	case 0:
		return plan.L(plan.N(uint64(r.Intn(5))), plan.N(uint64(r.Intn(3))), randValue(r, pool, depth-1))
	default:
		n := 1 + r.Intn(3)
		args := make([]plan.Value, n)
		for i := range args {
			args[i] = randValue(r, pool, depth-1)
		}
		return plan.A(randValue(r, pool, depth-1), args...)
	}
}

// rebuild copies v with fresh pins and a different app split, so nothing is
// shared with the original and no digest is cached.
func rebuild(v plan.Value, memo map[*plan.Pin]*plan.Pin) plan.Value {
	switch x := v.(type) {
	case plan.Nat:
		return x
	case *plan.Law:
		return plan.L(x.Name, x.Arity, rebuild(x.Body, memo))
	case *plan.Pin:
		if p, ok := memo[x]; ok {
			return p
		}
		p := plan.P(rebuild(x.MustItem(), memo))
		memo[x] = p
		return p
	case *plan.App:
		f, args := x.Spine()
		var out plan.Value = rebuild(f, memo)
		for _, a := range args { // binary nesting: the other extreme
			out = plan.NewAppShared(out, []plan.Value{rebuild(a, memo)})
		}
		return out
	}
	panic("unreachable")
}

func TestCIDsIndependentOfBuildOrder(t *testing.T) {
	seed := int64(rand.Uint32())
	r := rand.New(rand.NewSource(seed))
	t.Logf("seed %d", seed)
	for iter := 0; iter < 50; iter++ {
		var pool []*plan.Pin
		for i := 0; i < 20; i++ {
			pool = append(pool, plan.P(randValue(r, pool, 4)))
		}
		root := plan.P(randValue(r, pool, 5))
		// Hash the original root first (bottom-up happens inside), and the
		// copy in the opposite order: leaves last.
		c1, err := CID(root)
		if err != nil {
			t.Fatal(err)
		}
		memo := map[*plan.Pin]*plan.Pin{}
		root2 := rebuild(root, memo).(*plan.Pin)
		c2, err := CID(root2)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(pool) - 1; i >= 0; i-- {
			if p, ok := memo[pool[i]]; ok {
				a, _ := CID(pool[i])
				b, _ := CID(p)
				if !a.Equals(b) {
					t.Fatalf("seed %d: pool pin %d differs", seed, i)
				}
			}
		}
		if !c1.Equals(c2) {
			t.Fatalf("seed %d: root CIDs differ: %s vs %s", seed, c1, c2)
		}
		// Body round trip through DecodeBody and the canonical check.
		body, _, err := Body(root2)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckCanonical(body); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		got, kids, err := DecodeBody(body, noLoader{})
		if err != nil {
			t.Fatal(err)
		}
		again := plan.NewPinWithDigest(got, HashBytes(body))
		_ = kids
		if !plan.Equal(again, root) {
			t.Fatalf("seed %d: decoded body differs", seed)
		}
	}
}

func TestEqualValuesDifferentSharingSameCID(t *testing.T) {
	leaf := plan.A(plan.N(7), plan.N(8))
	shared := plan.P(plan.A(plan.N(1), leaf, leaf, leaf))
	unshared := plan.P(plan.A(plan.N(1), plan.A(plan.N(7), plan.N(8)), plan.A(plan.N(7), plan.N(8)), plan.NewAppShared(plan.N(7), []plan.Value{plan.N(8)})))
	a, _ := CID(shared)
	b, _ := CID(unshared)
	if !a.Equals(b) {
		t.Fatal("sharing changed the CID")
	}
}

func TestLawVsDataDistinct(t *testing.T) {
	// SEED.md 15.1: {1 2 3} and (0 1 2 3), <5> and (4 5) must differ.
	pairs := [][2]plan.Value{
		{plan.L(plan.N(1), plan.N(2), plan.N(3)), plan.A(plan.N(0), plan.N(1), plan.N(2), plan.N(3))},
		{plan.P(plan.N(5)), plan.A(plan.N(4), plan.N(5))},
	}
	for _, p := range pairs {
		a, _ := CID(plan.P(p[0]))
		b, _ := CID(plan.P(p[1]))
		if a.Equals(b) {
			t.Fatalf("%v and %v share a CID", p[0], p[1])
		}
	}
}

func TestVerifyAndHostileBodies(t *testing.T) {
	p := plan.P(plan.A(plan.N(1), plan.P(plan.N(2))))
	body, _, err := Body(p)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := CID(p)
	bad := append([]byte{}, body...)
	bad[len(bad)-9] ^= 1
	if err := Verify(c, bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped byte: %v", err)
	}
	for _, b := range [][]byte{nil, {1}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, body[:20], body[:len(body)-8]} {
		if _, _, err := DecodeBody(b, noLoader{}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("DecodeBody(%x): %v", b, err)
		}
		if err := CheckCanonical(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("CheckCanonical(%x): %v", b, err)
		}
	}
	// A non-canonical but decodable body: the same child listed twice.
	two := plan.P(plan.A(plan.N(1), plan.P(plan.N(2)), plan.P(plan.N(3))))
	b2, kids, _ := Body(two)
	d0, _ := kids[0].CachedDigest()
	dup := append([]byte{}, b2...)
	copy(dup[8+32:], d0[:])
	if err := CheckCanonical(dup); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("duplicate child digest accepted: %v", err)
	}
	if _, err := ParseCID("bafkqaaa"); err == nil {
		t.Fatal("non-pin CID accepted")
	}
	if _, err := ParseCID("not a cid"); !errors.Is(err, ErrBadCID) {
		t.Fatal("garbage accepted")
	}
}

func TestDigestDoesNotLoadKnownPins(t *testing.T) {
	ref := plan.NewPinRef(plan.Digest{9}, noLoader{})
	p := plan.P(plan.A(plan.N(1), ref))
	if _, err := CID(p); err != nil {
		t.Fatal(err)
	}
	if ref.Loaded() {
		t.Fatal("hashing loaded a child with a known digest")
	}
}

func TestDeepPinChain(t *testing.T) {
	var v plan.Value = plan.N(0)
	for i := 0; i < 200000; i++ {
		v = plan.P(plan.A(plan.N(1), v))
	}
	if _, err := CID(v.(*plan.Pin)); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkPinHash64MiBNat(b *testing.B) {
	buf := make([]byte, 64<<20)
	rand.New(rand.NewSource(1)).Read(buf)
	buf[len(buf)-1] = 1
	n := plan.NatFromBytes(buf)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := CID(plan.P(n)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBigNatFastPath(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, size := range []int{9, 16, 17, 1000, 1 << 16} {
		buf := make([]byte, size)
		r.Read(buf)
		buf[size-1] |= 1
		n := plan.NatFromBytes(buf)
		fast, ok := bigNatDigest(n)
		if !ok {
			t.Skip("no fast path on this host")
		}
		body, _, err := Body(plan.P(n))
		if err != nil {
			t.Fatal(err)
		}
		if HashBytes(body) != fast {
			t.Fatalf("size %d: fast path digest differs from the encoder's", size)
		}
	}
}
