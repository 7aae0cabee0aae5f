package torrent

import (
	"context"
	"errors"
	"testing"
	"time"

	"pstore/pagestore"
	"pstore/plan"
)

// slowSource delays every page read, so that a fetch lasts long enough on
// loopback to be interrupted half-way.
type slowSource struct {
	Source
	delay time.Duration
}

func (s slowSource) Page(p plan.Digest) ([]byte, error) {
	time.Sleep(s.delay)
	return s.Source.Page(p)
}

// TestResumeInsideLargeBody interrupts the fetch of one large nat into a
// page store once about half of it has arrived, reopens the store (a new
// process) and fetches again: the pages stored by the first fetch are not
// downloaded again, and the result verifies.
//
// What the first fetch had received but not yet verified when it was
// interrupted is lost: pieces still incomplete (a seeder answers the
// outstanding requests in any order, and anacrolix keeps a few MiB of
// requests in flight per peer), and pages whose last piece had not come.
// Hence the bound on the second fetch: everything but what was stored, plus
// a little (pieces that straddle a stored page and a missing one).
func TestResumeInsideLargeBody(t *testing.T) {
	testResume(t, 30<<20, 0.5, 200*time.Microsecond)
}

// testResume fetches a size-byte nat into a page store, interrupts the
// fetch when the fraction at of it has been received, reopens the store
// and fetches again.
func testResume(t *testing.T, size int, at float64, delay time.Duration) {
	src := NewMemStore()
	root := mustPut(t, src, natPin(randomBytes(size, 31)))
	l, err := BuildTorrent(src, root)
	if err != nil {
		t.Fatal(err)
	}
	seeder, err := SeedLayouts(slowSource{src, delay}, []*Layout{l}, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer seeder.Close()

	dir := t.TempDir()
	ps, err := pagestore.Open(dir, pagestore.Options{Create: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var atCancel int64
	var pagesAtCancel uint64
	_, _, err = Fetch(ctx, StoreAdapter{ps}, l.Magnet(), FetchOptions{
		Config: testConfig(), Peers: []string{seeder.Addr()}, ProgressInterval: 10 * time.Millisecond,
		Progress: func(p Progress) {
			if p.Phase == "data" && atCancel == 0 && float64(p.Fetched) >= at*float64(p.Size) {
				atCancel = p.Fetched
				// Committed by the periodic batches so far (the fetch
				// commits once more as it stops).
				if st, err := ps.Stat(); err == nil {
					pagesAtCancel = st.Pages
				}
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted fetch: %v", err)
	}
	st1, err := ps.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if ps.Has(mustDigest(root)) || pagesAtCancel == 0 || st1.Pages < pagesAtCancel {
		t.Fatalf("after the interruption: root stored %v, %d pages stored (%d when cancelled)", ps.Has(mustDigest(root)), st1.Pages, pagesAtCancel)
	}
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}

	ps, err = pagestore.Open(dir, pagestore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	dst := StoreAdapter{ps}
	st := fetchT(t, dst, l.Magnet(), seeder.Addr())
	if !st.Root.Equals(root) {
		t.Fatalf("root %s, want %s", st.Root, root)
	}
	checkDAG(t, src, dst, root)
	if err := ps.Verify(func(p error) { t.Errorf("verify: %v", p) }); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d-byte value: interrupted after %d bytes received (%d pages committed by then, %d with the last commit, %d bytes); resumed: had %d, fetched %d (%.1f%% of the value)",
		st.Size, atCancel, pagesAtCancel, st1.Pages, st1.BytesStored, st.Have, st.Fetched, 100*float64(st.Fetched)/float64(st.Size))
	// Everything stored is used; the rest, at most, is downloaded again.
	if st.Fetched > st.Size-int64(st1.BytesStored)+3<<20 {
		t.Fatalf("the resumed fetch downloaded %d of %d bytes, %d were stored", st.Fetched, st.Size, st1.BytesStored)
	}
	if limit := (1 - at + 0.25) * float64(st.Size); float64(st.Fetched) >= limit {
		t.Fatalf("the resumed fetch downloaded %d of %d bytes (limit %.0f)", st.Fetched, st.Size, limit)
	}
}
