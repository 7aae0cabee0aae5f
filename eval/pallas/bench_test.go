package pallas_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"pstore/eval"
	"pstore/eval/evaltest"
	"pstore/eval/pallas"
	"pstore/plan"
)

func parseB(b *testing.B, src string, ref func(string) (plan.Value, error)) plan.Value {
	b.Helper()
	v, err := plan.ParseWith(src, plan.ParseOptions{SeedRef: ref})
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// BenchmarkMulNoJets is (<mul.seed> 300 400) with jets off: about 24
// million law applications (Add iterates over the accumulator), 71 million
// steps. Target (issue 4): 10 million law calls per second.
//
// Log, process CPU per op (law calls per CPU second), 3 runs each, on the
// shared 2-core machine (load average about 11, so wall time is 1 to 1.5x
// CPU time):
//
//	start                                  14.2-15.1 s  (1.6-1.7 M/s)
//	lawLoop (tail.go) + stale inl cleared   4.0-4.1 s   (5.8-5.9 M/s)
//	no clear()/copy() of pointer slices     3.4-3.8 s   (6.3-7.1 M/s)
//	frames pushed field by field            3.3-3.5 s   (6.8-7.2 M/s)
//	(3 x) without flattening (kInc)         3.1-3.2 s   (7.6-7.9 M/s)
//	64-byte node (was 96)                   2.3-2.4 s   (9.8-10.3 M/s)
//	pointer stores only where they change   2.26-2.29 s (10.5-10.6 M/s)
//	lawLoop: arguments in a stack array     2.09-2.23 s (10.7-11.4 M/s)
//	fewer barriers in kInc frames           2.04-2.16 s (11.1-11.7 M/s)
//
// What the time went into at the start: about 3 nodes per law call (the
// pending increment, the closure p of the loop case, the counter), 96
// bytes each, so GC ran ~600 times per op and was marking about half the
// time, which made every pointer store pay a write barrier; bulk barriers
// of clear()/copy() on tiny slices, and flattening the same call back out
// of the thunk it had just been written into. Now: one 64-byte node per
// law call (the pending increment, which the program really keeps: a chain
// up to 120,000 long), ~100 GC cycles per op; allocation, write barriers
// and GC are still about half of the CPU profile.
//
// Tried and rejected: writing new nodes as composite literals to drop
// their write barriers (the compiler only drops them for pointers to
// globals; no change); GOGC or a memory limit set by the evaluator (breaks
// the memory bound); node slabs (see newNode).
func BenchmarkMulNoJets(b *testing.B) {
	benchMul(b, "(<mul.seed> 300 400)", seedRef, true)
}

// BenchmarkMulNoJetsSmall is the same law on (30 40), for quick profiles.
func BenchmarkMulNoJetsSmall(b *testing.B) {
	benchMul(b, "(<mul.seed> 30 40)", seedRef, true)
}

// BenchmarkMulJets is (<mul.seed> 300 400) with jets on, the seed given
// as its raw tree (every call builds and hashes the pins).
func BenchmarkMulJets(b *testing.B) {
	benchMul(b, "(<mul.seed> 300 400)", seedRef, false)
}

// BenchmarkMulJetsPinned is the same call with the seed's normal form (the
// _Mul pin) as the function, as a stored program would be.
func BenchmarkMulJetsPinned(b *testing.B) {
	benchMul(b, "(<mul.seed> 300 400)", seedRefNormal, false)
}

func benchMul(b *testing.B, src string, ref func(string) (plan.Value, error), noJets bool) {
	v := parseB(b, src, ref)
	var st eval.Stats
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := pallas.Evaluator{}.Eval(context.Background(), v, eval.Options{NoJets: noJets})
		if err != nil {
			b.Fatal(err)
		}
		st = r.Stats
	}
	secs := b.Elapsed().Seconds()
	if secs > 0 {
		b.ReportMetric(float64(st.LawCalls)*float64(b.N)/secs, "lawcalls/s")
		b.ReportMetric(float64(st.Steps)*float64(b.N)/secs, "steps/s")
	}
	// CPU time of the whole process (GC workers included): on a loaded
	// machine wall-clock rates mostly measure the other processes.
	if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(st.LawCalls)*float64(b.N)/cpu, "lawcalls/cpu-s")
		b.ReportMetric(cpu*1e9/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLazyPins evaluates (head 5) through a chain of 10 pinned laws
// inside a DAG of 100,000 stored pins, with a fresh (unloaded) reference
// to the head each time, so every iteration faults the 11 pins it touches
// in through the PinLoader. It is written against evaltest.PinStore so the
// page store can be plugged in instead of the in-memory map.
func BenchmarkLazyPins(b *testing.B) {
	k := pallasKit(b)
	st := evaltest.NewMemStore(b).(*evaltest.MemStore)
	head, _ := evaltest.BuildPinDAG(b, k, st, 100_000, 10)
	d, _ := head.CachedDigest()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A fresh reference: nothing below it is loaded yet.
		ref := plan.NewPinRef(d, st)
		r, err := pallas.Evaluator{}.Eval(context.Background(), plan.A(ref, plan.N(5)), eval.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if r.Stats.PinsLoaded > 13 {
			b.Fatalf("loaded %d pins", r.Stats.PinsLoaded)
		}
	}
}
