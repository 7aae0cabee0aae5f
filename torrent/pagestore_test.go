package torrent

import (
	"testing"

	"pstore/pagestore"
	"pstore/plan"
)

func openStore(t testing.TB) *pagestore.Store {
	t.Helper()
	s, err := pagestore.Open(t.TempDir(), pagestore.Options{Create: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPageStore seeds from one page store into another: a DAG of small
// pins and a large nat, then version 2 of the nat (one byte inserted).
func TestPageStore(t *testing.T) {
	const size = 16 << 20
	b1 := randomBytes(size, 11)
	b2 := append(append(append([]byte{}, b1[:size/2]...), 0x17), b1[size/2:]...)
	a := openStore(t)
	p1 := plan.P(plan.A(plan.N(0), treeDAG(2000, 12), natPin(b1)))
	p2 := plan.P(plan.A(plan.N(0), treeDAG(2000, 12), natPin(b2)))
	r1, err := a.PutPin(p1)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := a.PutPin(p2)
	if err != nil {
		t.Fatal(err)
	}
	src := StoreAdapter{a}
	s := seedT(t, src, r1, r2)
	b := openStore(t)
	dst := StoreAdapter{b}
	st1 := fetchT(t, dst, s.Magnets()[0])
	n := checkDAG(t, src, dst, r1)
	t.Logf("v1: %d pins, %d bytes in %v (%.0f MB/s)", n, st1.Fetched, st1.Duration, float64(st1.Fetched)/st1.Duration.Seconds()/1e6)
	st2 := fetchT(t, dst, s.Magnets()[1])
	checkDAG(t, src, dst, r2)
	t.Logf("v2: had %d of %d bytes, fetched %d (wire %d)", st2.Have, st2.Size, st2.Fetched, st2.WireRead)
	if st2.Fetched > 1<<20 {
		t.Fatalf("incremental fetch transferred %d bytes", st2.Fetched)
	}
	if err := b.Verify(func(p error) { t.Errorf("verify: %v", p) }); err != nil {
		t.Fatal(err)
	}
	// The destination's torrent is the seeder's.
	l, err := BuildTorrent(dst, r2)
	if err != nil {
		t.Fatal(err)
	}
	if l.Magnet() != s.Layouts()[1].Magnet() {
		t.Fatal("the fetched DAG gives another torrent")
	}
}
