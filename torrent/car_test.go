package torrent

import (
	"bytes"
	"errors"
	"testing"

	"pstore/merkle"
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

// wholeSource hides that a Source keeps bodies in pages: Export then reads
// every body whole.
type wholeSource struct{ Source }

func (w wholeSource) Pages(d plan.Digest) ([]PageRef, bool, error) {
	_, _, err := w.Source.Pages(d)
	return nil, false, err
}

// TestCARPagedExport: a DAG whose paged bodies (a large nat, and a pin
// whose child digests span pages) are written page by page exports the
// same bytes as when every body is read whole, from a MemStore and from a
// page store.
func TestCARPagedExport(t *testing.T) {
	const nkids = 3000
	kids := []plan.Value{plan.NatFromBytes(randomBytes(200<<10, 23))}
	for i := 0; i < nkids; i++ {
		kids = append(kids, plan.P(plan.N(uint64(i))))
	}
	wide := plan.P(plan.A(plan.N(4), kids...))
	p := plan.P(plan.A(plan.N(3), wide, natPin(randomBytes(600<<10, 22))))
	src := NewMemStore()
	root := mustPut(t, src, p)
	paged := 0
	for _, d := range collect(t, src, root) {
		if pages, ok, _ := src.Pages(d); ok && len(pages) > 1 {
			paged++
		}
	}
	if paged != 2 {
		t.Fatalf("%d paged bodies, the test wants 2", paged)
	}
	wc, err := merkle.CID(wide)
	if err != nil {
		t.Fatal(err)
	}
	if pages, _, _ := src.Pages(mustDigest(wc)); len(pages) == 0 || pages[0].Size >= 8+32*nkids {
		t.Fatalf("the first page (%d bytes) holds every child digest; the test wants them to span pages", pages[0].Size)
	}
	var whole, mem, disk bytes.Buffer
	if err := Export(wholeSource{src}, root, &whole); err != nil {
		t.Fatal(err)
	}
	if err := Export(src, root, &mem); err != nil {
		t.Fatal(err)
	}
	ps := openStore(t)
	if _, err := ps.PutPin(p); err != nil {
		t.Fatal(err)
	}
	if err := Export(StoreAdapter{ps}, root, &disk); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mem.Bytes(), whole.Bytes()) || !bytes.Equal(disk.Bytes(), whole.Bytes()) {
		t.Fatalf("CAR files differ: %d bytes whole, %d paged (MemStore), %d paged (page store)", whole.Len(), mem.Len(), disk.Len())
	}
	if _, err := Import(NewMemStore(), bytes.NewReader(whole.Bytes()), Limits{}); err != nil {
		t.Fatal(err)
	}
}
