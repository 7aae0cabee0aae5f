package pagestore

import (
	"errors"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"pstore/merkle"
	"pstore/plan"
)

func TestSecondWriterLocked(t *testing.T) {
	s, dir := openTest(t, Options{NoSync: true})
	_ = s
	start := time.Now()
	_, err := Open(dir, Options{Wait: 150 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: %v, want ErrLocked", err)
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("gave up after %v, before Wait", el)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Fatalf("error does not name the store: %v", err)
	}
	// After the writer closes, the lock is free.
	s.Close()
	s2, err := Open(dir, Options{Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrNoStore) {
		t.Fatalf("no store: %v", err)
	}
	if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, ErrNoStore) {
		t.Fatalf("no store read-only: %v", err)
	}
	s, err := Open(dir, Options{Create: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("double close: %v", err)
	}
	if _, err := s.Body(plan.Digest{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("use after close: %v", err)
	}
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.PutPin(plan.P(plan.N(1))); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("put on read-only: %v", err)
	}
	if _, err := ro.GC(); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("gc on read-only: %v", err)
	}
}

func TestReaderSeesCommits(t *testing.T) {
	w, dir := openTest(t, Options{NoSync: true})
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	// A second reader polls concurrently with the commits.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := ro.Verify(nil); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	// Enough pins to make the index grow (a new index file) on the way.
	for i := 0; i < 30; i++ {
		b := w.NewBatch()
		var last plan.Digest
		for j := 0; j < 100; j++ {
			c, err := b.PutPin(plan.P(plan.N(uint64(i*1000 + j))))
			if err != nil {
				t.Fatal(err)
			}
			last, _ = merkle.DigestOf(c)
		}
		b.SetRef("last", last)
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		if !ro.Has(last) {
			t.Fatalf("batch %d: reader does not see the commit", i)
		}
		if d, err := ro.Ref("last"); err != nil || d != last {
			t.Fatalf("batch %d: reader ref %x %v", i, d[:4], err)
		}
	}
	if err := ro.Verify(nil); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentGoroutines(t *testing.T) {
	s, _ := openTest(t, Options{NoSync: true})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var all []plan.Digest
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(g)))
			for i := 0; i < 20; i++ {
				p := plan.P(plan.A(plan.N(uint64(g)), plan.NatFromBytes(append(randBytes(r, 1+r.Intn(3000)), 1))))
				c, err := s.PutPin(p)
				if err != nil {
					t.Error(err)
					return
				}
				d, _ := merkle.DigestOf(c)
				mu.Lock()
				all = append(all, d)
				snapshot := append([]plan.Digest(nil), all...)
				mu.Unlock()
				for _, d := range snapshot {
					if _, err := s.LoadPin(d); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestRefs(t *testing.T) {
	s, dir := openTest(t, Options{NoSync: true})
	c, err := s.PutPin(plan.P(plan.N(5)))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := merkle.DigestOf(c)
	b := s.NewBatch()
	b.SetRef("a", d)
	b.SetRef("b/c", d)
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	b = s.NewBatch()
	b.DeleteRef("a")
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	b = s.NewBatch()
	b.SetRef("missing", plan.Digest{9})
	if err := b.Commit(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ref to a missing pin: %v", err)
	}
	b = s.NewBatch()
	b.SetRef("", d)
	if err := b.Commit(); !errors.Is(err, ErrBadRef) {
		t.Fatalf("empty ref name: %v", err)
	}
	s.Close()
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mustVerifyClose(t, s)
	refs, err := s.Refs()
	if err != nil || len(refs) != 1 || refs["b/c"] != d {
		t.Fatalf("refs %v %v", refs, err)
	}
	if _, err := s.Ref("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted ref: %v", err)
	}
}

func TestGC(t *testing.T) {
	s, dir := openTest(t, Options{NoSync: true, SegmentSize: 1 << 20})
	r := rand.New(rand.NewSource(5))
	keepBig := append(randBytes(r, 2<<20), 1)
	keep := plan.P(plan.A(plan.N(1), plan.P(plan.N(2)), bigNatPin(keepBig)))
	kc, err := s.PutPin(keep)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := merkle.DigestOf(kc)
	var dead []plan.Digest
	for i := 0; i < 20; i++ {
		c, err := s.PutPin(plan.P(plan.A(plan.N(3), plan.NatFromBytes(append(randBytes(r, 100000), 1)))))
		if err != nil {
			t.Fatal(err)
		}
		d, _ := merkle.DigestOf(c)
		dead = append(dead, d)
	}
	b := s.NewBatch()
	b.SetRef("keep", kd)
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	// A reader holding a zero-copy slice across the GC.
	held, err := s.Body(kd)
	if err != nil {
		t.Fatal(err)
	}
	heldCopy := append([]byte(nil), held...)
	before := storeSize(t, dir)
	st, err := s.GC()
	if err != nil {
		t.Fatal(err)
	}
	after := storeSize(t, dir)
	t.Logf("gc: %+v; store %d -> %d bytes", st, before, after)
	if after >= before-1<<20 {
		t.Errorf("store did not shrink: %d -> %d", before, after)
	}
	if string(held) != string(heldCopy) {
		t.Fatal("a slice read before GC changed")
	}
	for _, d := range dead {
		if s.Has(d) {
			t.Fatalf("unreachable pin %x survived", d[:4])
		}
	}
	s.Close()
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mustVerifyClose(t, s)
	got, err := s.Get(kc)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Equal(got, plan.P(plan.A(plan.N(1), plan.P(plan.N(2)), bigNatPin(keepBig)))) {
		t.Fatal("kept pin changed")
	}
	if _, large, _ := s.Pages(merkle.HashBytes(mustBody(t, bigNatPin(keepBig)))); !large {
		t.Fatal("large body lost its pages")
	}
}

func mustBody(t testing.TB, p *plan.Pin) []byte {
	_, b := bodyOf(t, p)
	return b
}

// A reader that opened before a GC and had not yet touched the old files
// finds them gone, reloads the commit record and reads the new ones.
func TestReaderAcrossGC(t *testing.T) {
	w, dir := openTest(t, Options{NoSync: true})
	c, err := w.PutPin(plan.P(plan.A(plan.N(1), plan.P(plan.N(2)))))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := merkle.DigestOf(c)
	if err := w.SetRef("x", d); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := w.GC(); err != nil {
		t.Fatal(err)
	}
	got, err := ro.Get(c)
	if err != nil {
		t.Fatalf("reader after GC: %v", err)
	}
	if !plan.Equal(got, plan.P(plan.A(plan.N(1), plan.P(plan.N(2))))) {
		t.Fatal("wrong value")
	}
	if st, _ := ro.Stat(); st.GCs != 1 {
		t.Fatalf("reader sees %d GCs", st.GCs)
	}
}
