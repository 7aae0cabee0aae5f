package seed

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

func TestZZTiming(t *testing.T) {
	v := BenchTree(22)
	runtime.GC()
	TimingHook = func(a, b, c, d time.Duration) { fmt.Println("walk", a, "intern", b, "dedup", c, "write", d) }
	for range 6 {
		runtime.GC()
		Encode(v, Raw)
	}
	TimingHook = nil
}
