package db

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"pstore/plan"
)

// BenchmarkCounter64 measures acknowledged inputs per second with 64
// concurrent senders and group commit (synced store).
func BenchmarkCounter64(b *testing.B) {
	ctx := context.Background()
	st := newStore(b, true)
	d, err := Create(ctx, st, "c", mustParse(b, counterPallas), CreateOptions{})
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
	d, err := Create(ctx, st, "c", mustParse(b, counterPallas), CreateOptions{})
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
