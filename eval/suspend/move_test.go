package suspend_test

import (
	"context"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"pstore/eval"
	"pstore/eval/suspend"
	"pstore/pagestore"
	"pstore/plan"
	"pstore/torrent"
)

func openStore(t *testing.T) *pagestore.Store {
	t.Helper()
	st, err := pagestore.Open(t.TempDir(), pagestore.Options{Create: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestMoveOverTorrent: a long computation is suspended on one page store,
// carried to another by BitTorrent over loopback (torrent.Seed and
// torrent.Fetch) and finished there, for both evaluators.
func TestMoveOverTorrent(t *testing.T) {
	cases := []struct {
		ev, src string
		want    plan.Value
	}{
		{"pallas", "(<mul.seed> 300 400)", plan.N(120000)},
		{"plan4", "FIB 15", plan.N(610)},
	}
	for _, c := range cases {
		e, _ := eval.Get(c.ev)
		src, dst := openStore(t), openStore(t)
		out, err := suspend.Run(context.Background(), e, parse(t, c.ev, c.src), eval.Options{NoJets: true, Steps: 5000})
		if err != nil || out.Done() {
			t.Fatalf("%s: not suspended: %v", c.ev, err)
		}
		root, err := src.PutPin(out.Suspended)
		if err != nil {
			t.Fatal(err)
		}
		s, err := torrent.Seed(context.Background(), torrent.StoreAdapter{S: src}, []cid.Cid{root}, torrent.Config{ListenAddr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		got, _, err := torrent.Fetch(ctx, torrent.StoreAdapter{S: dst}, s.Magnets()[0], torrent.FetchOptions{Config: torrent.Config{ListenAddr: "127.0.0.1:0"}})
		cancel()
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equals(root) {
			t.Fatalf("fetched %s, want %s", got, root)
		}
		p, err := dst.Get(root)
		if err != nil {
			t.Fatal(err)
		}
		res, err := suspend.Resume(context.Background(), p, eval.Options{NoJets: true})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Done() || !plan.Equal(res.Value, c.want) {
			t.Fatalf("%s: resumed to %v", c.ev, res.Value)
		}
		if res.Steps <= 5000 {
			t.Fatalf("%s: total steps %d", c.ev, res.Steps)
		}
	}
}
