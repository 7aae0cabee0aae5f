package db

import (
	"context"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"pstore/pagestore"
	"pstore/plan"
)

// BenchmarkCounter64 measures acknowledged inputs per second with 64
// concurrent senders and group commit (synced store).
func BenchmarkCounter64(b *testing.B) { benchCounter(b, true) }

// BenchmarkCounter64NoSync is BenchmarkCounter64 without fdatasync: the
// CPU-bound ceiling of the database layer.
func BenchmarkCounter64NoSync(b *testing.B) { benchCounter(b, false) }

func benchCounter(b *testing.B, synced bool) {
	ctx := context.Background()
	st := newStore(b, synced)
	d, err := Create(ctx, st, "c", mustParse(b, counterPallasPinned), CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	const senders = 64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	var next int64
	var mu sync.Mutex
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= int64(b.N) {
					mu.Unlock()
					return
				}
				next++
				mu.Unlock()
				if _, _, err := d.Send(ctx, plan.N(1)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	s := d.Status()
	b.ReportMetric(float64(b.N)/el.Seconds(), "inputs/s")
	if s.Batches > 0 {
		b.ReportMetric(float64(s.Events)/float64(s.Batches), "inputs/batch")
	}
}

// BenchmarkCounterLatency measures single-sender latency (one synced
// commit per input).
func BenchmarkCounterLatency(b *testing.B) {
	ctx := context.Background()
	st := newStore(b, true)
	d, err := Create(ctx, st, "c", mustParse(b, counterPallasPinned), CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, _, err := d.Send(ctx, plan.N(1)); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-us")
}

// BenchmarkReopenBig reopens a store and a database whose snapshot is a
// 64 MiB value (a tree of 1024 pinned 64 KiB leaves under pinned nodes;
// set PSTORE_DB_BENCH_MB for another size) and answers one input that
// touches one leaf path. Each iteration: close, open store, open database,
// send one input (durable), report ms/op.
func BenchmarkReopenBig(b *testing.B) {
	ctx := context.Background()
	mb := 64
	if s := os.Getenv("PSTORE_DB_BENCH_MB"); s != "" {
		mb, _ = strconv.Atoi(s)
	}
	const leafSize = 64 << 10
	leaves := mb << 20 / leafSize
	depth := 0
	for 1<<depth < leaves {
		depth++
	}
	k := newMapKit(b)
	rng := rand.New(rand.NewSource(1))
	root := k.tree(depth, func(i int) plan.Value {
		buf := make([]byte, leafSize)
		rng.Read(buf)
		buf[leafSize-1] |= 1
		return plan.P(plan.NatFromBytes(buf))
	})
	dir := b.TempDir()
	st, err := pagestore.Open(dir, pagestore.Options{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.PutPin(root.(*plan.Pin)); err != nil {
		b.Fatal(err)
	}
	d, err := Create(ctx, st, "big", plan.A(k.M, root), CreateOptions{SnapshotEvery: -1, SnapshotBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	d.Close()
	stats, _ := st.Stat()
	st.Close()
	var times []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		st, err := pagestore.Open(dir, pagestore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		d, err := Open(ctx, st, "big")
		if err != nil {
			b.Fatal(err)
		}
		out, _, err := d.Send(ctx, k.input(depth, rng.Intn(1<<depth), plan.N(uint64(i))))
		if err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(t0))
		b.StopTimer()
		if _, ok := out.(*plan.Pin); !ok && i == 0 {
			b.Fatalf("output %s", plan.String(out))
		}
		if _, _, err := d.Snapshot(ctx); err != nil {
			b.Fatal(err)
		}
		d.Close()
		st.Close()
		b.StartTimer()
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(stats.BytesStored)/(1<<20), "state-MiB")
}

// BenchmarkSnapshotMap measures the bytes one snapshot writes after one
// entry of a 16384-entry map of pins changed.
func BenchmarkSnapshotMap(b *testing.B) {
	ctx := context.Background()
	st := newStore(b, true)
	k := newMapKit(b)
	const depth = 14
	root := k.tree(depth, func(i int) plan.Value { return plan.N(uint64(1_000_000 + i)) })
	if _, err := st.PutPin(root.(*plan.Pin)); err != nil {
		b.Fatal(err)
	}
	full := stored(b, st)
	d, err := Create(ctx, st, "m", plan.A(k.M, root), CreateOptions{SnapshotEvery: -1, SnapshotBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	var written uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := d.Send(ctx, k.input(depth, i%(1<<depth), plan.N(uint64(i)))); err != nil {
			b.Fatal(err)
		}
		before := stored(b, st)
		if _, _, err := d.Snapshot(ctx); err != nil {
			b.Fatal(err)
		}
		written += stored(b, st) - before
	}
	b.ReportMetric(float64(full), "state-bytes")
	b.ReportMetric(float64(written)/float64(b.N), "bytes/snapshot")
}

// counterPallasPinned is counterPallas with its law pinned, as a real
// database's code would be (the evaluator then compiles it once).
const counterPallasPinned = `(<{"counter" 2 (1 (0 (2 3) 1) (0 (0 (2 0) 3) (0 0 3)))}> 0)`
