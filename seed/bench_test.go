package seed

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	"pstore/plan"
)

// benchSeed is the seed of BenchTree(22). The value itself is not kept:
// a retained 200 MB value would make every garbage collection during the
// decode benchmark rescan it, measuring the harness rather than the codec.
var benchSeed = sync.OnceValue(func() []byte {
	data, err := Encode(BenchTree(22), Raw)
	if err != nil {
		panic(err)
	}
	return data
})

// settle drops garbage left by setup so that it is not collected inside
// the timed region. It returns a function to call after the loop that
// reports the process CPU time per operation (all threads, so including
// the garbage collector's background work): on a shared machine wall time
// depends on the other processes, CPU time much less.
func settle(b *testing.B) func() {
	runtime.GC()
	b.ResetTimer()
	start, gcStart := cpuTime(), gcCPU()
	return func() {
		b.StopTimer()
		cpu := cpuTime() - start
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric((gcCPU()-gcStart)*1e9/float64(b.N), "gc-cpu-ns/op")
		if cpu > 0 {
			b.ReportMetric(float64(b.N)*float64(len(benchSeed()))/cpu.Seconds()/1e6, "cpu-MB/s")
		}
	}
}

// gcCPU returns the CPU seconds the garbage collector has used so far
// (runtime/metrics' estimate: mark assists, background and idle marking,
// pauses).
func gcCPU() float64 {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return s[0].Value.Float64()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkDecode(b *testing.B) {
	data := benchSeed()
	b.SetBytes(int64(len(data)))
	// Making the seed left the encoder's scratch tables (about 200 MB)
	// kept for the next encoding, until a timer releases them 5 s later:
	// release them now, so that the decoder runs with the same heap
	// however long the benchmark runs (only the seed live).
	dropKept()
	runtime.GC()
	done := settle(b)
	for range b.N {
		if _, err := Decode(data, Raw, nil); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

func BenchmarkEncode(b *testing.B) {
	data := benchSeed()
	v := BenchTree(22)
	b.SetBytes(int64(len(data)))
	done := settle(b)
	for range b.N {
		if _, err := Encode(v, Raw); err != nil {
			b.Fatal(err)
		}
	}
	done()
	runtime.KeepAlive(v)
}

func BenchmarkEncodeBody(b *testing.B) {
	data := benchSeed()
	v := BenchTree(22)
	b.SetBytes(int64(len(data)))
	done := settle(b)
	for range b.N {
		if _, _, err := EncodeBody(v); err != nil {
			b.Fatal(err)
		}
	}
	done()
	runtime.KeepAlive(v)
}

// Small values: typical pin bodies are kilobytes, not megabytes.
func BenchmarkEncodeBodySmall(b *testing.B) {
	v := BenchTree(8)
	data, _, err := EncodeBody(v)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, _, err := EncodeBody(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBodySmall(b *testing.B) {
	data, _, err := EncodeBody(BenchTree(8))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, err := Decode(data, Body, []plan.Value{nil}); err != nil {
			b.Fatal(err)
		}
	}
}
