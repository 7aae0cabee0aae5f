package torrent

import (
	"bytes"
	"errors"
	"testing"

	"pstore/plan"
)

func TestCARRoundTrip(t *testing.T) {
	src := NewMemStore()
	root := mustPut(t, src, plan.P(plan.A(plan.N(3), treeDAG(300, 21), natPin(randomBytes(600<<10, 21)))))
	var buf bytes.Buffer
	if err := Export(src, root, &buf); err != nil {
		t.Fatal(err)
	}
	dst := NewMemStore()
	roots, err := Import(dst, bytes.NewReader(buf.Bytes()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) != 1 || !roots[0].Equals(root) {
		t.Fatalf("roots %v", roots)
	}
	checkDAG(t, src, dst, root)
	// Header bytes are what go-car writes for one root.
	h := carHeader(roots)
	if got, err := parseCarHeader(h); err != nil || !got[0].Equals(root) {
		t.Fatal(got, err)
	}

	// A flipped byte anywhere in a block is caught, and nothing of the
	// damaged DAG's upper part is stored.
	data := buf.Bytes()
	for _, off := range []int{len(data) - 10, len(data) / 2, 200} {
		bad := append([]byte(nil), data...)
		bad[off] ^= 1
		d := NewMemStore()
		if _, err := Import(d, bytes.NewReader(bad), Limits{}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flip at %d: %v", off, err)
		}
		if d.Has(mustDigest(root)) {
			t.Fatalf("flip at %d: root stored", off)
		}
	}
	// Truncated files.
	for _, n := range []int{0, 5, 60, len(data) / 3, len(data) - 1} {
		if _, err := Import(NewMemStore(), bytes.NewReader(data[:n]), Limits{}); err == nil {
			t.Fatalf("truncated to %d: no error", n)
		}
	}
}

func FuzzImport(f *testing.F) {
	src := NewMemStore()
	root := mustPut(f, src, treeDAG(10, 1))
	var buf bytes.Buffer
	Export(src, root, &buf)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		Import(NewMemStore(), bytes.NewReader(b), Limits{MaxBody: 1 << 20})
	})
}

func FuzzParseInfo(f *testing.F) {
	src := NewMemStore()
	root := mustPut(f, src, natPin(randomBytes(100<<10, 1)))
	l, _ := BuildTorrent(src, root)
	f.Add(l.InfoBytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseInfo(b, Limits{MaxSize: 1 << 30, MaxBody: 1 << 20})
	})
}
