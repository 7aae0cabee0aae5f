package torrent

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// benchSize is the big-value size: 64 MiB by default, PSTORE_BENCH_MB to
// change it (256 for the figure).
func benchSize() int {
	if s, err := strconv.Atoi(os.Getenv("PSTORE_BENCH_MB")); err == nil && s > 0 {
		return s << 20
	}
	return 64 << 20
}

// BenchmarkFetchLarge fetches a big nat from one seeder over loopback into
// a fresh page store (durability off: the network path is measured).
func BenchmarkFetchLarge(b *testing.B) {
	size := benchSize()
	src := openStore(b)
	root, err := src.PutPin(natPin(randomBytes(size, 1)))
	if err != nil {
		b.Fatal(err)
	}
	s := seedT(b, StoreAdapter{src}, root)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dst := openStore(b)
		b.StartTimer()
		st := fetchT(b, StoreAdapter{dst}, s.Magnets()[0])
		b.ReportMetric(float64(st.MetadataTime.Microseconds())/1000, "ms-metadata")
	}
}

// BenchmarkFetchLargeMem is BenchmarkFetchLarge between in-memory stores.
func BenchmarkFetchLargeMem(b *testing.B) {
	size := benchSize()
	src := NewMemStore()
	root := mustPut(b, src, natPin(randomBytes(size, 1)))
	s := seedT(b, src, root)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fetchT(b, NewMemStore(), s.Magnets()[0])
	}
}

// BenchmarkFetch10kPins fetches a DAG of 10,000 small pins.
func BenchmarkFetch10kPins(b *testing.B) {
	src := openStore(b)
	root, err := src.PutPin(treeDAG(10000, 2))
	if err != nil {
		b.Fatal(err)
	}
	s := seedT(b, StoreAdapter{src}, root)
	b.ResetTimer()
	var pins int
	var meta, total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dst := openStore(b)
		b.StartTimer()
		st := fetchT(b, StoreAdapter{dst}, s.Magnets()[0])
		pins += st.Pins
		meta += st.MetadataTime
		total += st.Duration
	}
	b.ReportMetric(float64(pins)/total.Seconds(), "pins/s")
	b.ReportMetric(float64(meta.Microseconds())/1000/float64(b.N), "ms-metadata")
}

// BenchmarkIncremental fetches version 2 of a big nat (one byte inserted
// in the middle) into a store holding version 1 and reports the bytes
// transferred.
func BenchmarkIncremental(b *testing.B) {
	size := benchSize()
	b1 := randomBytes(size, 5)
	b2 := append(append(append([]byte{}, b1[:size/2]...), 0x42), b1[size/2:]...)
	src := openStore(b)
	r1, err := src.PutPin(natPin(b1))
	if err != nil {
		b.Fatal(err)
	}
	r2, err := src.PutPin(natPin(b2))
	if err != nil {
		b.Fatal(err)
	}
	s := seedT(b, StoreAdapter{src}, r1, r2)
	var fetched, wire int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dst := openStore(b)
		fetchT(b, StoreAdapter{dst}, s.Magnets()[0])
		b.StartTimer()
		st := fetchT(b, StoreAdapter{dst}, s.Magnets()[1])
		fetched += st.Fetched
		wire += st.WireRead
	}
	b.ReportMetric(float64(fetched)/float64(b.N), "data-bytes")
	b.ReportMetric(float64(wire)/float64(b.N), "wire-bytes")
}
