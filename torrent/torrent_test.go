package torrent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"pstore/merkle"
	"pstore/plan"
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
		b.PutBatch(nil, leaves[i:i+1])
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

// flipSource serves src with one byte flipped in every body and page it
// returns: a malicious seeder.
type flipSource struct{ Source }

func flip(b []byte) []byte {
	c := append([]byte(nil), b...)
	c[len(c)/2] ^= 0xff
	return c
}

func (f flipSource) Body(d plan.Digest) ([]byte, error) {
	b, err := f.Source.Body(d)
	if err != nil {
		return nil, err
	}
	return flip(b), nil
}

func (f flipSource) Page(d plan.Digest) ([]byte, error) {
	b, err := f.Source.Page(d)
	if err != nil {
		return nil, err
	}
	return flip(b), nil
}

func TestMaliciousSeeder(t *testing.T) {
	src := NewMemStore()
	p := plan.P(plan.A(plan.N(0), treeDAG(500, 9), natPin(randomBytes(3<<20, 9))))
	root := mustPut(t, src, p)
	l, err := BuildTorrent(src, root)
	if err != nil {
		t.Fatal(err)
	}
	// The liar gets an address of its own (127.0.0.2): anacrolix bans
	// a peer by IP, and peers on one machine share one.
	badCfg := testConfig()
	badCfg.ListenAddr = "127.0.0.2:0"
	bad, err := SeedLayouts(flipSource{src}, []*Layout{l}, badCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()

	// Only the liar: nothing verifies, nothing is stored, the fetch times out.
	dst := NewMemStore()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_, _, err = Fetch(ctx, dst, l.Magnet(), FetchOptions{Config: testConfig(), Peers: []string{bad.Addr()}})
	cancel()
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("fetch from a lying seeder: %v, want ErrTimeout", err)
	}
	if pins, _ := dst.Stat(); pins != 0 {
		t.Fatalf("%d pins stored from a lying seeder", pins)
	}

	// The liar and an honest seeder: the fetch succeeds, everything verifies.
	good := seedT(t, src, root)
	st := fetchT(t, dst, l.Magnet(), bad.Addr(), good.Addr())
	checkDAG(t, src, dst, root)
	t.Logf("fetched %d bytes (wire %d) of %d", st.Fetched, st.WireRead, st.Size)
}

func TestResume(t *testing.T) {
	src := NewMemStore()
	var kids []plan.Value
	for i := 0; i < 48; i++ {
		kids = append(kids, plan.P(plan.NatFromBytes(randomBytes(200<<10, int64(100+i)))))
	}
	root := mustPut(t, src, plan.P(plan.A(plan.N(0), kids...)))
	s := seedT(t, src, root)
	dst := NewMemStore()
	// The first commit stores 5 bodies and then the "process dies": the
	// store fails every later write.
	crashing := &crashSink{MemStore: dst, keep: 5}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err := Fetch(ctx, crashing, s.Magnets()[0], FetchOptions{Config: testConfig()})
	if !errors.Is(err, errCrash) {
		t.Fatalf("interrupted fetch: %v", err)
	}
	had, _ := dst.Stat()
	if had == 0 || dst.Has(mustDigest(root)) {
		t.Fatalf("after the interruption the store has %d pins (root: %v)", had, dst.Has(mustDigest(root)))
	}
	st := fetchT(t, dst, s.Magnets()[0])
	checkDAG(t, src, dst, root)
	t.Logf("interrupted with %d of %d pins; resumed: had %d of %d bytes, fetched %d", had, st.Pins, st.Have, st.Size, st.Fetched)
	if st.Have == 0 || st.Fetched > st.Size-st.Have+PieceLength {
		t.Fatalf("resume fetched %d bytes with %d held of %d", st.Fetched, st.Have, st.Size)
	}
}

func TestRootMismatchAndNoPeer(t *testing.T) {
	src := NewMemStore()
	root := mustPut(t, src, treeDAG(20, 4))
	other := mustPut(t, src, treeDAG(20, 5))
	s := seedT(t, src, root)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := Fetch(ctx, NewMemStore(), s.Magnets()[0], FetchOptions{Config: testConfig(), Root: other})
	if !errors.Is(err, ErrRootMismatch) {
		t.Fatalf("got %v, want ErrRootMismatch", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	l, _ := BuildTorrent(src, other)
	_, _, err = Fetch(ctx2, NewMemStore(), l.Magnet(), FetchOptions{Config: testConfig(), Peers: []string{s.Addr()}})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	// Already held: nothing to download.
	dst := NewMemStore()
	fetchT(t, dst, s.Magnets()[0])
	st := fetchT(t, dst, s.Magnets()[0])
	if st.Fetched != 0 || st.Have != st.Size {
		t.Fatalf("second fetch of a held DAG: %+v", st)
	}
}

func mustDigest(c cid.Cid) plan.Digest {
	d, err := merkle.DigestOf(c)
	if err != nil {
		panic(err)
	}
	return d
}

var errCrash = errors.New("simulated crash")

type crashSink struct {
	*MemStore
	keep    int
	crashed bool
}

// PutBatch stores the pages and the first keep bodies of the first batch,
// then fails, as does every later call.
func (c *crashSink) PutBatch(p []PagePut, b []BodyPut) error {
	if c.crashed {
		return errCrash
	}
	c.crashed = true
	return errors.Join(c.MemStore.PutBatch(p, b[:min(c.keep, len(b))]), errCrash)
}

// TestGoldenInfoHash pins the layout format: this DAG's torrent must not
// change (a change needs a new LayoutVersion), and a page store and a
// MemStore holding it offer the same torrent.
func TestGoldenInfoHash(t *testing.T) {
	p := plan.P(plan.A(plan.N(5), treeDAG(200, 51), natPin(randomBytes(700<<10, 51))))
	m := NewMemStore()
	root := mustPut(t, m, p)
	lm, err := BuildTorrent(m, root)
	if err != nil {
		t.Fatal(err)
	}
	ps := openStore(t)
	if _, err := ps.PutPin(p); err != nil {
		t.Fatal(err)
	}
	lp, err := BuildTorrent(StoreAdapter{ps}, root)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(lm.InfoBytes(), lp.InfoBytes()) {
		t.Fatal("MemStore and page store offer different torrents")
	}
	ih := lm.InfoHash()
	const golden = "26344a151f833f5c2a1df79cee1de89da5d988b717a07fd33e7422e06f74bc31"
	if got := fmt.Sprintf("%x", ih); got != golden {
		t.Fatalf("infohash %s, golden %s (%s)", got, golden, lm.Magnet())
	}
}
