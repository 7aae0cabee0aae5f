//go:build long

package torrent

import "testing"

// TestLong256MiB: the figures, page store to page store: a 256 MiB
// nat (at least 100 MB/s on an idle machine) and version 2 with one byte
// inserted in the middle (under 2 MiB transferred).
func TestLong256MiB(t *testing.T) {
	const size = 256 << 20
	b1 := randomBytes(size, 41)
	b2 := append(append(append([]byte{}, b1[:size/2]...), 0x99), b1[size/2:]...)
	a := openStore(t)
	r1, err := a.PutPin(natPin(b1))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := a.PutPin(natPin(b2))
	if err != nil {
		t.Fatal(err)
	}
	s := seedT(t, StoreAdapter{a}, r1, r2)
	dst := openStore(t)
	st1 := fetchT(t, StoreAdapter{dst}, s.Magnets()[0])
	checkDAG(t, StoreAdapter{a}, StoreAdapter{dst}, r1)
	t.Logf("256 MiB: %v, %.0f MB/s, metadata %v", st1.Duration, float64(size)/st1.Duration.Seconds()/1e6, st1.MetadataTime)
	st2 := fetchT(t, StoreAdapter{dst}, s.Magnets()[1])
	checkDAG(t, StoreAdapter{a}, StoreAdapter{dst}, r2)
	t.Logf("version 2: fetched %d data bytes, %d on the wire", st2.Fetched, st2.WireRead)
	if st2.WireRead > 2<<20 {
		t.Fatalf("incremental fetch read %d bytes", st2.WireRead)
	}
	if err := dst.Verify(func(p error) { t.Errorf("verify: %v", p) }); err != nil {
		t.Fatal(err)
	}
}

// TestLongResume: a 250 MB nat interrupted after 90% of it has arrived,
// then resumed.
func TestLongResume(t *testing.T) {
	testResume(t, 250_000_000, 0.9, 0)
}
