package pagestore

import (
	"bytes"
	"errors"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"pstore/merkle"
	"pstore/plan"
)

// splitPages returns the format-1 pages of body.
func splitPages(body []byte) [][]byte {
	var out [][]byte
	off := 0
	for _, n := range Chunk(body) {
		out = append(out, body[off:off+n])
		off += n
	}
	return out
}

// countEntries returns the number of committed index entries for d.
func countEntries(s *Store, d plan.Digest) int {
	v := s.view.Load()
	n := 0
	for i := uint64(0); i < v.m.indexCap; i++ {
		o := indexHdr + entrySize*i
		if v.idx.data[o+48] == 0 {
			continue
		}
		if e, ok := getEntry(v.idx.data[o : o+entrySize]); ok && v.m.valid(&e) && e.d == d {
			n++
		}
	}
	return n
}

func putPages(t *testing.T, s *Store, pages ...[]byte) {
	t.Helper()
	b := s.NewBatch()
	for _, p := range pages {
		if err := b.PutPage(merkle.HashBytes(p), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestPutPageThenBody stores two pages of a large body alone, then the
// body: only the other pages are written, and the stored ones are reused
// where they are.
func TestPutPageThenBody(t *testing.T) {
	s, dir := openTest(t, Options{NoSync: true})
	r := rand.New(rand.NewSource(21))
	d, body := bodyOf(t, bigNatPin(append(randBytes(r, 2<<20), 1)))
	pages := splitPages(body)
	k1, k2 := len(pages)/3, len(pages)/2
	pre := [][]byte{pages[k1], pages[k2]}
	putPages(t, s, pre...)
	st, _ := s.Stat()
	if st.Pages != 2 || st.Pins != 0 || st.BytesStored != uint64(len(pre[0])+len(pre[1])) || st.BytesOffered != 0 {
		t.Fatalf("after PutPage: %+v", st)
	}
	d1 := merkle.HashBytes(pre[0])
	if got, err := s.Page(d1); err != nil || !bytes.Equal(got, pre[0]) || !s.Has(d1) {
		t.Fatalf("Page: %v", err)
	}
	e0, _, _ := s.lookup(s.view.Load(), d1)
	size1 := storeSize(t, dir)

	b := s.NewBatch()
	if err := b.PutBody(d, body); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	grew := storeSize(t, dir) - size1
	newBytes := int64(len(body) - len(pre[0]) - len(pre[1]))
	t.Logf("%d-byte body in %d pages, 2 stored before (%d bytes): the body grew the store by %d bytes", len(body), len(pages), len(pre[0])+len(pre[1]), grew)
	if grew < newBytes || grew > newBytes+16<<10 {
		t.Fatalf("store grew by %d bytes, want the %d bytes of the other pages plus the page list", grew, newBytes)
	}
	st, _ = s.Stat()
	if st.Pages != uint64(len(pages)) || st.Pins != 1 || st.LargePins != 1 || st.BytesStored != uint64(len(body)) {
		t.Fatalf("after PutBody: %+v (%d pages)", st, len(pages))
	}
	if e1, _, _ := s.lookup(s.view.Load(), d1); e1 != e0 || countEntries(s, d1) != 1 {
		t.Fatalf("page entry moved or duplicated: %+v, %+v", e0, e1)
	}
	got, err := s.Body(d)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("Body: %v", err)
	}
	refs, large, err := s.Pages(d)
	if err != nil || !large || len(refs) != len(pages) || refs[k1].Digest != d1 {
		t.Fatalf("Pages: %v", err)
	}
}

// TestPutPageSameBatch puts pages and their body in one batch, pages after
// the body: each page is written once.
func TestPutPageSameBatch(t *testing.T) {
	s, dir := openTest(t, Options{NoSync: true})
	r := rand.New(rand.NewSource(22))
	d, body := bodyOf(t, bigNatPin(append(randBytes(r, 1<<20), 1)))
	pages := splitPages(body)
	b := s.NewBatch()
	if err := b.PutBody(d, body); err != nil {
		t.Fatal(err)
	}
	for _, p := range pages[:len(pages)/2] {
		if err := b.PutPage(merkle.HashBytes(p), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Stat()
	if st.Pages != uint64(len(pages)) || st.BytesStored != uint64(len(body)) {
		t.Fatalf("%+v (%d pages, %d bytes)", st, len(pages), len(body))
	}
	for _, p := range pages {
		if n := countEntries(s, merkle.HashBytes(p)); n != 1 {
			t.Fatalf("page stored %d times", n)
		}
	}
	if size := storeSize(t, dir); size > int64(len(body))+4*metaFile+1<<20 {
		t.Fatalf("store is %d bytes for a %d-byte body", size, len(body))
	}
	if got, err := s.Body(d); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("Body: %v", err)
	}
}

// TestPutPageGC: a page no reachable body lists is reclaimed; a page a
// reachable body lists survives, and so does the body.
func TestPutPageGC(t *testing.T) {
	s, _ := openTest(t, Options{NoSync: true})
	r := rand.New(rand.NewSource(23))
	d, body := bodyOf(t, bigNatPin(append(randBytes(r, 1<<20), 1)))
	pages := splitPages(body)
	_, other := bodyOf(t, bigNatPin(append(randBytes(r, 1<<20), 1)))
	orphans := [][]byte{randBytes(r, 40<<10), splitPages(other)[2]}
	putPages(t, s, pages[1])
	putPages(t, s, orphans...)
	b := s.NewBatch()
	if err := b.PutBody(d, body); err != nil {
		t.Fatal(err)
	}
	b.SetRef("keep", d)
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	st, err := s.GC()
	if err != nil {
		t.Fatal(err)
	}
	if st.DeadEntries != uint64(len(orphans)) || st.LivePages != uint64(len(pages)) {
		t.Fatalf("GC: %+v, want %d dead entries and %d live pages", st, len(orphans), len(pages))
	}
	for _, o := range orphans {
		if s.Has(merkle.HashBytes(o)) {
			t.Fatal("orphan page survived GC")
		}
	}
	if !s.Has(merkle.HashBytes(pages[1])) {
		t.Fatal("a page of a reachable body was reclaimed")
	}
	if got, err := s.Body(d); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("Body after GC: %v", err)
	}
	// GC made the body contiguous again: a slice of the mapping.
	b1, _ := s.Body(d)
	b2, _ := s.Body(d)
	if &b1[0] != &b2[0] {
		t.Fatal("body not zero copy after GC")
	}
	// Only orphans: GC with no refs at all drops them too.
	s2, _ := openTest(t, Options{NoSync: true})
	putPages(t, s2, orphans...)
	if st, err := s2.GC(); err != nil || st.DeadEntries != 2 {
		t.Fatalf("GC: %+v %v", st, err)
	}
	if st, _ := s2.Stat(); st.Pages != 0 || st.BytesStored != 0 {
		t.Fatalf("after GC: %+v", st)
	}
}

// TestVerifyStandalonePage: Verify re-hashes pages stored alone and reports
// a damaged one, naming it.
func TestVerifyStandalonePage(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Create: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(24))
	page := randBytes(r, 30<<10)
	pd := merkle.HashBytes(page)
	putPages(t, s, page)
	if err := s.Verify(nil); err != nil {
		t.Fatal(err)
	}
	e, _, _ := s.lookup(s.view.Load(), pd)
	s.Close()
	flip(t, filepath.Join(dir, segName(e.seg)), int64(e.off)+1000)
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var problems []error
	if err := s.Verify(func(p error) { problems = append(problems, p) }); !isCorrupt(err) {
		t.Fatalf("verify: %v", err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), merkle.PageCIDOf(pd).String()) {
		t.Fatalf("problems: %v", problems)
	}
	if _, err := s.Page(pd); !isCorrupt(err) {
		t.Fatalf("Page of a damaged page: %v", err)
	}
}

func TestPutPageErrors(t *testing.T) {
	s, dir := openTest(t, Options{NoSync: true})
	b := s.NewBatch()
	for _, n := range []int{0, PageMax + 1} {
		p := make([]byte, n)
		if err := b.PutPage(merkle.HashBytes(p), p); !errors.Is(err, ErrPageSize) {
			t.Fatalf("%d-byte page: %v", n, err)
		}
	}
	p := make([]byte, PageMax)
	if err := b.PutPage(merkle.HashBytes(p), p); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := b.PutPage(merkle.HashBytes(p), p); !errors.Is(err, ErrBatchDone) {
		t.Fatalf("after Commit: %v", err)
	}
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if !ro.Has(merkle.HashBytes(p)) {
		t.Fatal("reader does not see the page")
	}
	if err := ro.NewBatch().PutPage(merkle.HashBytes(p), p); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only: %v", err)
	}
}

// TestPutPageSameBatchContiguous puts every other page of a large body and
// the body in one batch, pages before the body and after it: the body is
// written whole, back to back, so Body returns a slice of the mapping (the
// same bytes on every call), and each page is stored once.
func TestPutPageSameBatchContiguous(t *testing.T) {
	for _, pagesFirst := range []bool{true, false} {
		s, _ := openTest(t, Options{NoSync: true})
		r := rand.New(rand.NewSource(25))
		d, body := bodyOf(t, bigNatPin(append(randBytes(r, 2<<20), 1)))
		pages := splitPages(body)
		b := s.NewBatch()
		putSome := func() {
			for i := 1; i < len(pages); i += 2 {
				if err := b.PutPage(merkle.HashBytes(pages[i]), pages[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		if pagesFirst {
			putSome()
		}
		if err := b.PutBody(d, body); err != nil {
			t.Fatal(err)
		}
		if !pagesFirst {
			putSome()
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		st, _ := s.Stat()
		if st.Pages != uint64(len(pages)) || st.Pins != 1 || st.BytesStored != uint64(len(body)) {
			t.Fatalf("pages first %v: %+v (%d pages, %d bytes)", pagesFirst, st, len(pages), len(body))
		}
		for _, p := range pages {
			if n := countEntries(s, merkle.HashBytes(p)); n != 1 {
				t.Fatalf("pages first %v: page stored %d times", pagesFirst, n)
			}
		}
		b1, err := s.Body(d)
		if err != nil || !bytes.Equal(b1, body) {
			t.Fatalf("pages first %v: Body: %v", pagesFirst, err)
		}
		if b2, _ := s.Body(d); &b1[0] != &b2[0] {
			t.Fatalf("pages first %v: body not contiguous (Body copies it)", pagesFirst)
		}
	}
}

// TestWholeBodyEqualsPageSameBatch puts a large body and, as a whole body,
// the bytes of one of its pages in one batch, in both orders: one namespace
// of byte strings, so the bytes are stored once (one index entry, counted
// once), both read back, and the large body stays contiguous.
func TestWholeBodyEqualsPageSameBatch(t *testing.T) {
	for _, wholeFirst := range []bool{true, false} {
		s, _ := openTest(t, Options{NoSync: true})
		r := rand.New(rand.NewSource(26))
		d, body := bodyOf(t, bigNatPin(append(randBytes(r, 2<<20), 1)))
		pages := splitPages(body)
		w := pages[len(pages)/2]
		wd := merkle.HashBytes(w)
		b := s.NewBatch()
		if wholeFirst {
			if err := b.PutBody(wd, w); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.PutBody(d, body); err != nil {
			t.Fatal(err)
		}
		if !wholeFirst {
			if err := b.PutBody(wd, w); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		if n := countEntries(s, wd); n != 1 {
			t.Fatalf("whole first %v: the bytes have %d index entries", wholeFirst, n)
		}
		st, _ := s.Stat()
		if st.Pages != uint64(len(pages)) || st.BytesStored != uint64(len(body)) {
			t.Fatalf("whole first %v: %+v (%d pages, %d bytes)", wholeFirst, st, len(pages), len(body))
		}
		if got, err := s.Body(wd); err != nil || !bytes.Equal(got, w) {
			t.Fatalf("whole first %v: Body of the page-sized body: %v", wholeFirst, err)
		}
		b1, err := s.Body(d)
		if err != nil || !bytes.Equal(b1, body) {
			t.Fatalf("whole first %v: Body: %v", wholeFirst, err)
		}
		if b2, _ := s.Body(d); &b1[0] != &b2[0] {
			t.Fatalf("whole first %v: large body not contiguous (Body copies it)", wholeFirst)
		}
	}
}
