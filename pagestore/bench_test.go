package pagestore

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"pstore/merkle"
	"pstore/plan"
)

// Benchmarks. Sizes: PSTORE_BENCH_MB sets the large-body size (default
// 256 MiB; the target is stated for 1 GiB, run with
// PSTORE_BENCH_MB=1024). Every put is durable at the end (fdatasync).

func benchMB() int {
	if n, err := strconv.Atoi(os.Getenv("PSTORE_BENCH_MB")); err == nil && n > 0 {
		return n
	}
	return 256
}

var largeOnce struct {
	sync.Once
	pin  *plan.Pin
	d    plan.Digest
	body []byte
}

func largeFixture(b *testing.B) (*plan.Pin, plan.Digest, []byte) {
	largeOnce.Do(func() {
		r := rand.New(rand.NewSource(7))
		data := append(randBytes(r, benchMB()<<20), 1)
		largeOnce.pin = bigNatPin(data)
		largeOnce.d, largeOnce.body = bodyOf(b, largeOnce.pin)
	})
	return largeOnce.pin, largeOnce.d, largeOnce.body
}

// BenchmarkPutLargeBody: PutBody + Commit of a large canonical body whose
// digest is known (chunking, page hashing, writes, fdatasync).
func BenchmarkPutLargeBody(b *testing.B) { benchPutLargeBody(b, false) }

// BenchmarkPutLargeBodyNoSync is the same without fdatasync: the CPU and
// page-cache side alone (not durable; for comparison with a noisy disk).
func BenchmarkPutLargeBodyNoSync(b *testing.B) { benchPutLargeBody(b, true) }

func benchPutLargeBody(b *testing.B, noSync bool) {
	if testing.Short() {
		b.Skip("large")
	}
	_, d, body := largeFixture(b)
	b.SetBytes(int64(len(body)))
	eachFreshStore(b, Options{Create: true, NoSync: noSync}, func(s *Store) {
		bt := s.NewBatch()
		if err := bt.PutBody(d, body); err != nil {
			b.Fatal(err)
		}
		if err := bt.Commit(); err != nil {
			b.Fatal(err)
		}
	})
}

// eachFreshStore runs put b.N times, each on a new store; opening and
// closing the store and removing its files are not timed.
func eachFreshStore(b *testing.B, opts Options, put func(s *Store)) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		s, err := Open(dir, opts)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		put(s)
		b.StopTimer()
		s.Close()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}

// BenchmarkPutLargePin: the whole `put --raw` path for a big nat: canonical
// body (merkle), digest, chunking, writes, fdatasync.
func BenchmarkPutLargePin(b *testing.B) {
	if testing.Short() {
		b.Skip("large")
	}
	p, _, body := largeFixture(b)
	nat := p.MustItem()
	b.SetBytes(int64(len(body)))
	eachFreshStore(b, Options{Create: true}, func(s *Store) {
		if _, err := s.PutPin(plan.P(nat)); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkGetLargeZeroCopy: Get of the large pin from a fresh read-only
// open: page lookups, CRC-32C of every page, a nat aliasing the mapping.
func BenchmarkGetLargeZeroCopy(b *testing.B) {
	if testing.Short() {
		b.Skip("large")
	}
	p, d, body := largeFixture(b)
	dir := b.TempDir()
	s, err := Open(dir, Options{Create: true, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.PutPin(p); err != nil {
		b.Fatal(err)
	}
	s.Close()
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pin, err := r.GetDigest(d)
		if err != nil {
			b.Fatal(err)
		}
		if pin.MustItem().(plan.Nat).BitLen() == 0 {
			b.Fatal("empty")
		}
	}
}

// manyOnce caches the stores built by manyPinsStore for the life of the
// test binary (TestMain removes them); guarded by manyMu.
var manyOnce = map[int]string{}
var manyMu sync.Mutex

func removeBenchStores() {
	manyMu.Lock()
	defer manyMu.Unlock()
	for _, d := range manyOnce {
		os.RemoveAll(d)
	}
}

// manyPinsStore returns a store (built once per size, in a directory
// removed at exit of the benchmark binary's temp dir) with n pins of
// pinSize bytes of payload each, and one digest to get.
func manyPinsStore(b *testing.B, n, pinSize int) (string, plan.Digest) {
	manyMu.Lock()
	defer manyMu.Unlock()
	dir, ok := manyOnce[n]
	if !ok {
		var err error
		dir, err = os.MkdirTemp("", fmt.Sprintf("pstore-bench-%d-", n))
		if err != nil {
			b.Fatal(err)
		}
		s, err := Open(filepath.Join(dir, "s"), Options{Create: true, NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewSource(8))
		buf := randBytes(r, pinSize+n)
		for i := 0; i < n; i += 10000 {
			bt := s.NewBatch()
			for j := i; j < min(n, i+10000); j++ {
				if _, err := bt.PutPin(plan.P(plan.A(plan.N(uint64(j)), plan.NatFromBytes(append(buf[j:j+pinSize:j+pinSize], 1))))); err != nil {
					b.Fatal(err)
				}
			}
			if err := bt.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		bt := s.NewBatch()
		c, _ := bt.PutPin(plan.P(plan.N(12345)))
		d, _ := merkle.DigestOf(c)
		bt.SetRef("small", d)
		if err := bt.Commit(); err != nil {
			b.Fatal(err)
		}
		s.Close()
		manyOnce[n] = dir
	}
	s, err := Open(filepath.Join(dir, "s"), Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	d, err := s.Ref("small")
	if err != nil {
		b.Fatal(err)
	}
	return filepath.Join(dir, "s"), d
}

func benchOpenGet(b *testing.B, n int) {
	dir, d := manyPinsStore(b, n, 10<<10)
	size, _ := DirSize(dir)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.GetDigest(d); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	b.ReportMetric(float64(size)/(1<<20), "store-MiB")
}

// BenchmarkOpenGet: open a store and Get one small pin; 100,000 pins of
// 10 KiB (1 GiB) against 1,000 (10 MiB).
func BenchmarkOpenGet100k(b *testing.B) {
	if testing.Short() {
		b.Skip("large")
	}
	benchOpenGet(b, 100000)
}

func BenchmarkOpenGet1k(b *testing.B) { benchOpenGet(b, 1000) }

// BenchmarkSmallPinsBatch: 100,000 pins of about 100 bytes in one durable
// batch (PutPin hashes each: merkle.Body + BLAKE3).
func BenchmarkSmallPinsBatch(b *testing.B) {
	const n = 100000
	r := rand.New(rand.NewSource(9))
	buf := randBytes(r, n+100)
	pins := make([]plan.Value, n)
	for i := range pins {
		pins[i] = plan.A(plan.N(uint64(i)), plan.NatFromBytes(append(buf[i:i+80:i+80], 1)))
	}
	eachFreshStore(b, Options{Create: true}, func(s *Store) {
		bt := s.NewBatch()
		for _, v := range pins {
			if _, err := bt.PutPin(plan.P(v)); err != nil {
				b.Fatal(err)
			}
		}
		if err := bt.Commit(); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "pins/s")
}

// BenchmarkSmallBodiesBatch: the store's share of the above: 100,000
// precomputed ~100-byte bodies through PutBody and one durable Commit.
func BenchmarkSmallBodiesBatch(b *testing.B) {
	const n = 100000
	r := rand.New(rand.NewSource(10))
	bodies := make([][]byte, n)
	ds := make([]plan.Digest, n)
	for i := range bodies {
		bodies[i] = randBytes(r, 100)
		ds[i] = merkle.HashBytes(bodies[i])
	}
	eachFreshStore(b, Options{Create: true}, func(s *Store) {
		bt := s.NewBatch()
		for j := range bodies {
			if err := bt.PutBody(ds[j], bodies[j]); err != nil {
				b.Fatal(err)
			}
		}
		if err := bt.Commit(); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "pins/s")
}
