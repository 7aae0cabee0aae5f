package pagestore

import (
	"bytes"
	"errors"
	"math/rand"
	"reflect"
	"testing"

	"pstore/merkle"
	"pstore/plan"
)

func TestBodyRoundTrip(t *testing.T) {
	s, dir := openTest(t, Options{NoSync: true})
	r := rand.New(rand.NewSource(1))
	sizes := []int{0, 1, 100, 4096, LargeThreshold, LargeThreshold + 1, 3 << 20}
	var ds []plan.Digest
	var bodies [][]byte
	b := s.NewBatch()
	for _, n := range sizes {
		body := randBytes(r, n)
		d := merkle.HashBytes(body)
		if err := b.PutBody(d, body); err != nil {
			t.Fatal(err)
		}
		ds, bodies = append(ds, d), append(bodies, body)
	}
	if s.Has(ds[0]) {
		t.Fatal("visible before commit")
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store) {
		for i, d := range ds {
			got, err := s.Body(d)
			if err != nil {
				t.Fatalf("size %d: %v", sizes[i], err)
			}
			if !bytes.Equal(got, bodies[i]) {
				t.Fatalf("size %d: wrong bytes", sizes[i])
			}
			pages, large, err := s.Pages(d)
			if err != nil || large != (sizes[i] > LargeThreshold) {
				t.Fatalf("size %d: Pages large=%v err=%v", sizes[i], large, err)
			}
			var cat []byte
			for _, p := range pages {
				pb, err := s.Page(p.Digest)
				if err != nil || len(pb) != p.Size || merkle.HashBytes(pb) != p.Digest {
					t.Fatalf("page %x: %v", p.Digest[:4], err)
				}
				cat = append(cat, pb...)
			}
			if large && !bytes.Equal(cat, bodies[i]) {
				t.Fatal("pages do not concatenate to the body")
			}
		}
		if _, err := s.Body(plan.Digest{1}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
	}
	check(s)
	s.Close()
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mustVerifyClose(t, s2)
	check(s2)
}

func TestPinRoundTripLazy(t *testing.T) {
	s, dir := openTest(t, Options{NoSync: true})
	r := rand.New(rand.NewSource(2))
	bigBytes := append(randBytes(r, 1<<20), 1)
	smallBytes := append(randBytes(r, 200), 9)
	build := func() *plan.Pin { // fresh pins, no cached digests
		leaf := plan.P(plan.N(3))
		big := bigNatPin(bigBytes)
		mid := plan.P(plan.A(plan.L(plan.N(102), plan.N(2), plan.N(1)), leaf, big))
		return plan.P(plan.A(plan.N(7), mid, leaf, plan.NatFromBytes(smallBytes)))
	}
	root := build()
	c, err := s.PutPin(root)
	if err != nil {
		t.Fatal(err)
	}
	want, err := merkle.CID(root)
	if err != nil || c != want {
		t.Fatalf("cid %v want %v (%v)", c, want, err)
	}
	s.Close()
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mustVerifyClose(t, s)
	got, err := s.Get(c)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.PinsLoaded(); n != 1 {
		t.Fatalf("Get loaded %d pins, want 1", n)
	}
	if s.PageReads() != 0 {
		t.Fatalf("Get read %d pages of the large child", s.PageReads())
	}
	if !plan.Equal(got, build()) {
		t.Fatal("round trip differs")
	}
	// root (by Get), mid, big, and the leaf twice: root and mid each hold
	// their own reference to it.
	if n := s.PinsLoaded(); n != 5 {
		t.Fatalf("Equal loaded %d pins, want 5", n)
	}
	// Storing again writes nothing.
	before, _ := s.Stat()
	if _, err := s.PutPin(got); err != nil {
		t.Fatal(err)
	}
	after, _ := s.Stat()
	if after.Generation != before.Generation || after.BytesStored != before.BytesStored {
		t.Fatalf("re-put wrote: %+v -> %+v", before, after)
	}
}

func TestWalkDAGAndRefHelpers(t *testing.T) {
	s, _ := openTest(t, Options{NoSync: true})
	leaf := plan.P(plan.N(1))
	a := plan.P(plan.A(plan.N(2), leaf))
	root := plan.P(plan.A(plan.N(3), a, leaf))
	c, err := s.PutPin(root)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := merkle.DigestOf(c)
	var order []plan.Digest
	if err := s.WalkDAG(d, func(x plan.Digest, _ []plan.Digest) error { order = append(order, x); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(order) != 3 || order[0] != d {
		t.Fatalf("walk visited %d pins", len(order))
	}
	if err := s.SetRef("root", d); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRef("root"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRef("root"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting a missing ref: %v", err)
	}
}

// TestAlignedBuf: the O_DIRECT index write buffer starts 4096-aligned and
// holds the requested capacity.
func TestAlignedBuf(t *testing.T) {
	for _, n := range []int{pageSize, 3 * pageSize, 1 << 20} {
		for range 8 {
			b := alignedBuf(n)
			if len(b) != 0 || cap(b) != n {
				t.Fatalf("alignedBuf(%d): len %d cap %d", n, len(b), cap(b))
			}
			if a := reflect.ValueOf(b[:1]).Pointer(); a%directAlign != 0 {
				t.Fatalf("alignedBuf(%d) at %#x, not %d-aligned", n, a, directAlign)
			}
		}
	}
}
