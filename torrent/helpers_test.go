package torrent

import (
	"bytes"
	"context"
	"math/rand"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"pstore/merkle"
	"pstore/plan"
)

// testConfig is loopback only: no DHT, trackers, PEX or uTP (the zero
// Config), listening on 127.0.0.1:0.
func testConfig() Config { return Config{ListenAddr: "127.0.0.1:0"} }

// treeDAG returns a DAG of about n pins: n-1 leaves (small nats and short
// apps) under a tree of interior pins with up to fanout children each.
func treeDAG(n int, seed int64) *plan.Pin {
	r := rand.New(rand.NewSource(seed))
	var level []plan.Value
	for i := 0; i < n*15/16; i++ {
		var v plan.Value = plan.N(uint64(r.Int63()))
		if i%3 == 0 {
			v = plan.A(plan.N(uint64(i)), plan.N(uint64(r.Int63())), plan.N(7))
		}
		level = append(level, plan.P(v))
	}
	const fanout = 16
	for len(level) > 1 {
		var next []plan.Value
		for i := 0; i < len(level); i += fanout {
			kids := level[i:min(i+fanout, len(level))]
			next = append(next, plan.P(plan.A(plan.N(uint64(i)), kids...)))
		}
		level = next
	}
	return level[0].(*plan.Pin)
}

// randomBytes returns n random bytes whose last byte is non-zero (so the
// nat keeps all n bytes).
func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	b[n-1] |= 1
	return b
}

// natPin pins a big nat made of b, next to a small sibling so the DAG has
// more than one pin.
func natPin(b []byte) *plan.Pin {
	return plan.P(plan.A(plan.N(1), plan.P(plan.NatFromBytes(b)), plan.P(plan.N(42))))
}

func mustPut(t testing.TB, s *MemStore, p *plan.Pin) cid.Cid {
	t.Helper()
	c, err := s.PutPin(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkDAG verifies that dst holds the whole DAG under root with the same
// bodies as src, every body verifying against its CID.
func checkDAG(t testing.TB, src, dst Source, root cid.Cid) int {
	t.Helper()
	rd, _ := merkle.DigestOf(root)
	seen := map[plan.Digest]bool{rd: true}
	stack := []plan.Digest{rd}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !dst.Has(d) {
			t.Fatalf("pin %s missing from the destination", merkle.CIDOf(d))
		}
		got, err := dst.Body(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := merkle.Verify(merkle.CIDOf(d), got); err != nil {
			t.Fatal(err)
		}
		if src != nil {
			want, _ := src.Body(d)
			if !bytes.Equal(got, want) {
				t.Fatalf("pin %s differs", merkle.CIDOf(d))
			}
		}
		kids, err := merkle.ChildDigests(got)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kids {
			if !seen[k] {
				seen[k] = true
				stack = append(stack, k)
			}
		}
	}
	return len(seen)
}

func seedT(t testing.TB, src Source, roots ...cid.Cid) *Seeder {
	t.Helper()
	s, err := Seed(context.Background(), src, roots, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func fetchT(t testing.TB, dst Sink, magnet string, peers ...string) Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	root, st, err := Fetch(ctx, dst, magnet, FetchOptions{Config: testConfig(), Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	if !root.Equals(st.Root) {
		t.Fatalf("root %s, stats root %s", root, st.Root)
	}
	return st
}

// collect returns the digests of the DAG under root (any order).
func collect(t testing.TB, s Source, root cid.Cid) []plan.Digest {
	t.Helper()
	rd, _ := merkle.DigestOf(root)
	seen := map[plan.Digest]bool{rd: true}
	out := []plan.Digest{rd}
	for i := 0; i < len(out); i++ {
		body, err := s.Body(out[i])
		if err != nil {
			t.Fatal(err)
		}
		kids, _ := merkle.ChildDigests(body)
		for _, k := range kids {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}
