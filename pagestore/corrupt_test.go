package pagestore

import (
	"encoding/binary"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pstore/merkle"
	"pstore/plan"
)

// corruptFixture stores a small pin and a large one and returns their
// digests and index entries.
func corruptFixture(t *testing.T) (dir string, small, large plan.Digest, es, el entry) {
	dir = t.TempDir()
	s, err := Open(dir, Options{Create: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(6))
	cs, err := s.PutPin(plan.P(plan.A(plan.N(1), plan.NatFromBytes(append(randBytes(r, 500), 1)))))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := s.PutPin(bigNatPin(append(randBytes(r, 1<<20), 1)))
	if err != nil {
		t.Fatal(err)
	}
	small, _ = merkle.DigestOf(cs)
	large, _ = merkle.DigestOf(cl)
	v := s.view.Load()
	es, _, _ = s.lookup(v, small)
	el, _, _ = s.lookup(v, large)
	s.Close()
	return
}

func flip(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// expectCorrupt checks that err is a corruption error naming the CID and a
// file.
func expectCorrupt(t *testing.T, err error, d plan.Digest, file string) {
	t.Helper()
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, merkle.CIDOf(d).String()) || !strings.Contains(msg, file) || !strings.Contains(msg, "offset") {
		t.Fatalf("error does not name CID, file and offset: %v", err)
	}
}

func TestCorruptFlipSegment(t *testing.T) {
	dir, small, large, es, el := corruptFixture(t)
	// Every byte of the small body, one at a time: never wrong data.
	seg := filepath.Join(dir, segName(es.seg))
	for i := int64(0); i < int64(es.n); i += 7 {
		flip(t, seg, int64(es.off)+i)
		s, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Get(merkle.CIDOf(small))
		expectCorrupt(t, err, small, segName(es.seg))
		if err := s.Verify(nil); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("verify: %v", err)
		}
		s.Close()
		flip(t, seg, int64(es.off)+i) // restore
	}
	// A byte of a page of the large body.
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	_, locs, err := s.pagesOf(s.view.Load(), &el)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := locs[len(locs)/2].e
	flip(t, filepath.Join(dir, segName(p.seg)), int64(p.off)+100)
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Get(merkle.CIDOf(large))
	expectCorrupt(t, err, large, segName(p.seg))
	var problems []error
	if err := s.Verify(func(e error) { problems = append(problems, e) }); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("verify: %v", err)
	}
	// The page itself and the body that contains it.
	if len(problems) != 2 {
		t.Fatalf("verify reported %d problems: %v", len(problems), problems)
	}
	if _, err := s.Get(merkle.CIDOf(small)); err != nil {
		t.Fatalf("intact pin: %v", err)
	}
}

func TestCorruptTruncate(t *testing.T) {
	dir, _, large, _, el := corruptFixture(t)
	seg := filepath.Join(dir, segName(el.seg))
	if err := os.Truncate(seg, int64(el.off)-1000); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Get(merkle.CIDOf(large))
	expectCorrupt(t, err, large, segName(el.seg))
	if !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("%v", err)
	}
	if err := s.Verify(nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("verify: %v", err)
	}
}

func TestCorruptIndexSlot(t *testing.T) {
	dir, small, _, _, _ := corruptFixture(t)
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	v := s.view.Load()
	i := slotOf(&small, v.m.indexCap)
	for binary.LittleEndian.Uint64(v.idx.data[indexHdr+entrySize*i:]) != binary.LittleEndian.Uint64(small[:]) {
		i = (i + 1) & (v.m.indexCap - 1)
	}
	s.Close()
	flip(t, filepath.Join(dir, indexName(v.m.indexID)), int64(indexHdr+entrySize*i+33)) // the offset field
	s, err = Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Get(merkle.CIDOf(small))
	expectCorrupt(t, err, small, indexName(v.m.indexID))
	if err := s.Verify(nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("verify: %v", err)
	}
}

func TestCorruptMeta(t *testing.T) {
	dir, small, large, _, _ := corruptFixture(t)
	metaPath := filepath.Join(dir, "meta")
	b, _ := os.ReadFile(metaPath)
	m, err := pickMeta(b, "meta")
	if err != nil {
		t.Fatal(err)
	}
	// Damage the newest commit record: the previous one is used (it does
	// not have the large pin, committed last).
	flip(t, metaPath, int64(metaSlot(m.gen))+20)
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Stat(); st.Generation != m.gen-1 {
		t.Fatalf("generation %d, want %d", st.Generation, m.gen-1)
	}
	if !s.Has(small) || s.Has(large) {
		t.Fatal("fallback commit has the wrong contents")
	}
	s.Close()
	// Both damaged: a clear error.
	flip(t, metaPath, int64(metaSlot(m.gen-1))+20)
	if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "no valid commit record") {
		t.Fatalf("both commit records damaged: %v", err)
	}
	// Header checks, in order: magic, version, checksum.
	flip(t, metaPath, 0)
	if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, ErrBadFormat) {
		t.Fatalf("bad magic: %v", err)
	}
	flip(t, metaPath, 0)
	flip(t, metaPath, 8)
	if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, ErrVersion) {
		t.Fatalf("bad version: %v", err)
	}
	flip(t, metaPath, 8)
	flip(t, metaPath, 20)
	if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "format header checksum") {
		t.Fatalf("bad header checksum: %v", err)
	}
}
