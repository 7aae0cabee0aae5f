package torrent

import (
	"testing"

	"pstore/pagestore"
)

func TestZZDurableFetch(t *testing.T) {
	src := NewMemStore()
	root := mustPut(t, src, natPin(randomBytes(100_000_000, 5)))
	s := seedT(t, src, root)
	for i := 0; i < 2; i++ {
		ps, err := pagestore.Open(t.TempDir(), pagestore.Options{Create: true})
		if err != nil {
			t.Fatal(err)
		}
		st := fetchT(t, StoreAdapter{ps}, s.Magnets()[0])
		t.Logf("durable fetch: %v, %.0f MB/s", st.Duration, float64(st.Size)/st.Duration.Seconds()/1e6)
		ps.Close()
	}
}
