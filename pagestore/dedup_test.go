package pagestore

import (
	"math/rand"
	"testing"
	"unsafe"

	"pstore/merkle"
	"pstore/plan"
)

func storeSize(t testing.TB, dir string) int64 {
	n, err := DirSize(dir)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// testDedup stores an n-byte nat, the same nat again, then the nat with one
// byte inserted in the middle, and checks the store's growth.
func testDedup(t *testing.T, n int, maxSame, maxEdit int64) {
	s, dir := openTest(t, Options{NoSync: true})
	r := rand.New(rand.NewSource(3))
	data := append(randBytes(r, n), 1)
	if _, err := s.PutPin(bigNatPin(data)); err != nil {
		t.Fatal(err)
	}
	size1 := storeSize(t, dir)
	if _, err := s.PutPin(bigNatPin(data)); err != nil {
		t.Fatal(err)
	}
	size2 := storeSize(t, dir)
	edited := make([]byte, 0, len(data)+1)
	edited = append(edited, data[:n/2]...)
	edited = append(edited, 0x5a)
	edited = append(edited, data[n/2:]...)
	c, err := s.PutPin(bigNatPin(edited))
	if err != nil {
		t.Fatal(err)
	}
	size3 := storeSize(t, dir)
	t.Logf("%d-byte nat: first %d bytes, again +%d, one byte inserted +%d", n, size1, size2-size1, size3-size2)
	if size2-size1 > maxSame {
		t.Errorf("same nat again grew the store by %d bytes (limit %d)", size2-size1, maxSame)
	}
	if size3-size2 > maxEdit {
		t.Errorf("one inserted byte grew the store by %d bytes (limit %d)", size3-size2, maxEdit)
	}
	got, err := s.Get(c)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Equal(got, bigNatPin(edited)) {
		t.Fatal("edited nat reads back wrong")
	}
	st, _ := s.Stat()
	if st.BytesDeduped < uint64(n) {
		t.Errorf("stat: %d bytes deduplicated, want >= %d", st.BytesDeduped, n)
	}
}

func TestDedup(t *testing.T) {
	// Growth with one inserted byte: at most two new pages (the edited one,
	// and its neighbour if the boundary moved) plus a new page list and
	// intent record.
	testDedup(t, 8<<20, 64<<10, 2*PageMax+64<<10)
}

func TestChunkerDeterministic(t *testing.T) {
	r := rand.New(rand.NewSource(42))
	data := randBytes(r, 4<<20)
	pages := Chunk(data)
	sum := 0
	for i, n := range pages {
		if n > PageMax || (n < PageMin && i != len(pages)-1) {
			t.Fatalf("page %d has %d bytes", i, n)
		}
		sum += n
	}
	if sum != len(data) {
		t.Fatal("pages do not cover the data")
	}
	avg := len(data) / len(pages)
	if avg < PageAvg/2 || avg > 2*PageAvg {
		t.Errorf("average page %d bytes, want about %d", avg, PageAvg)
	}
	// Golden: format version 1 fixes these boundaries. A change here means
	// a change of format (ARCHITECTURE.md invariant 5).
	d := merkle.HashBytes(data[:pages[0]+pages[1]+pages[2]])
	t.Logf("first pages %v, golden %x", pages[:3], d[:8])
	if want := goldenChunks; pages[0] != want[0] || pages[1] != want[1] || pages[2] != want[2] {
		t.Errorf("first pages %v, want %v", pages[:3], want)
	}
}

func TestZeroCopy(t *testing.T) {
	s, dir := openTest(t, Options{NoSync: true})
	r := rand.New(rand.NewSource(4))
	data := append(randBytes(r, 4<<20), 1)
	c, err := s.PutPin(bigNatPin(data))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Get(c)
	if err != nil {
		t.Fatal(err)
	}
	nat := p.MustItem().(plan.Nat)
	words := nat.Bits()
	if len(words) == 0 {
		t.Fatal("not a big nat")
	}
	addr := uintptr(unsafe.Pointer(&words[0]))
	if !s.inMapping(addr) {
		t.Fatalf("big nat words at %#x are not in a mapping (copied)", addr)
	}
	if !plan.Equal(nat, plan.NatFromBytes(data)) {
		t.Fatal("wrong value")
	}
}

// inMapping reports whether addr lies inside one of the store's segment
// mappings.
func (s *Store) inMapping(addr uintptr) bool {
	s.mapMu.Lock()
	defer s.mapMu.Unlock()
	in := func(b []byte) bool {
		if len(b) == 0 {
			return false
		}
		lo := uintptr(unsafe.Pointer(&b[0]))
		return addr >= lo && addr < lo+uintptr(len(b))
	}
	for _, sg := range s.segs {
		if in(sg.data) {
			return true
		}
	}
	for _, b := range s.oldMaps {
		if in(b) {
			return true
		}
	}
	return false
}

var goldenChunks = [3]int{69674, 89358, 117139}

func TestStreamPagesMatchesChunk(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	for _, n := range []int{LargeThreshold + 1, 2*PageMin + 1, 3 * PageMax, 5<<20 + 3} {
		body := randBytes(r, n)
		if n < PageMax { // long runs of one byte: boundaries only at PageMax
			for i := range body {
				body[i] = 7
			}
		}
		want := Chunk(body)
		var got []int
		off := 0
		err := streamPages(body, func(p *pageInfo) error {
			if p.start != off || merkle.HashBytes(body[p.start:p.start+p.n]) != p.d {
				t.Fatalf("page at %d: wrong start or digest", off)
			}
			off += p.n
			got = append(got, p.n)
			return nil
		})
		if err != nil || len(got) != len(want) || off != n {
			t.Fatalf("size %d: %d pages, want %d (%v)", n, len(got), len(want), err)
		}
	}
}
