package torrent

import (
	"bytes"
	"testing"
)

func TestSeedFetchSmall(t *testing.T) {
	src := NewMemStore()
	root := mustPut(t, src, treeDAG(50, 1))
	s := seedT(t, src, root)
	dst := NewMemStore()
	st := fetchT(t, dst, s.Magnets()[0])
	n := checkDAG(t, src, dst, root)
	if st.Pins != n || st.PinsFetched != n {
		t.Fatalf("stats %+v, DAG has %d pins", st, n)
	}
	t.Logf("%d pins, %d bytes, fetched %d, wire %d, metadata %v, total %v", n, st.Size, st.Fetched, st.WireRead, st.MetadataTime, st.Duration)
}

func TestDeterministic(t *testing.T) {
	p1 := treeDAG(300, 7)
	a := NewMemStore()
	root := mustPut(t, a, p1)
	// The same DAG inserted in another order (leaves one by one first).
	b := NewMemStore()
	p2 := treeDAG(300, 7)
	var leaves []BodyPut
	bodies := map[string]bool{}
	for _, d := range collect(t, a, root) {
		body, _ := a.Body(d)
		leaves = append(leaves, BodyPut{d, body})
		bodies[string(body)] = true
	}
	for i := len(leaves) - 1; i >= 0; i-- {
		b.PutBodies(leaves[i : i+1])
	}
	if c := mustPut(t, b, p2); !c.Equals(root) {
		t.Fatal("CID differs")
	}
	la, err := BuildTorrent(a, root)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := BuildTorrent(b, root)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(la.InfoBytes(), lb.InfoBytes()) || la.InfoHash() != lb.InfoHash() || la.Magnet() != lb.Magnet() {
		t.Fatal("torrents differ")
	}
	pl, err := ParseInfo(la.InfoBytes(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if pl.InfoHash() != la.InfoHash() || pl.NumPins() != la.NumPins() || pl.Size() != la.Size() {
		t.Fatal("parse round trip differs")
	}
	t.Logf("magnet %s (%d pins, %d bytes, info %d bytes)", la.Magnet(), la.NumPins(), la.Size(), len(la.InfoBytes()))
}

func Test10kPins(t *testing.T) {
	src := NewMemStore()
	root := mustPut(t, src, treeDAG(10000, 2))
	s := seedT(t, src, root)
	dst := NewMemStore()
	st := fetchT(t, dst, s.Magnets()[0])
	n := checkDAG(t, src, dst, root)
	if n < 10000 || st.PinsFetched != n {
		t.Fatalf("%d pins in DAG, %d fetched", n, st.PinsFetched)
	}
	t.Logf("%d pins, %d bytes: metadata %v, total %v (%.0f pins/s), wire %d bytes", n, st.Size, st.MetadataTime, st.Duration, float64(n)/st.Duration.Seconds(), st.WireRead)
}

func TestLargeNatIncremental(t *testing.T) {
	const size = 24 << 20
	b1 := randomBytes(size, 3)
	src := NewMemStore()
	r1 := mustPut(t, src, natPin(b1))
	// Version 2: one byte inserted in the middle.
	b2 := append(append(append([]byte{}, b1[:size/2]...), 0x5a), b1[size/2:]...)
	r2 := mustPut(t, src, natPin(b2))
	s := seedT(t, src, r1, r2)
	dst := NewMemStore()
	st1 := fetchT(t, dst, s.Magnets()[0])
	checkDAG(t, src, dst, r1)
	t.Logf("v1: %d bytes in %v (%.0f MB/s), metadata %v", st1.Fetched, st1.Duration, float64(st1.Fetched)/st1.Duration.Seconds()/1e6, st1.MetadataTime)
	if st1.Fetched < size {
		t.Fatalf("fetched %d bytes of a %d-byte value", st1.Fetched, size)
	}
	st2 := fetchT(t, dst, s.Magnets()[1])
	checkDAG(t, src, dst, r2)
	t.Logf("v2: had %d of %d bytes, fetched %d (wire %d) in %v", st2.Have, st2.Size, st2.Fetched, st2.WireRead, st2.Duration)
	if st2.Fetched > 1<<20 {
		t.Fatalf("incremental fetch transferred %d bytes", st2.Fetched)
	}
}
