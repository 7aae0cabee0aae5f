package seed

import (
	"sync"
	"testing"

	"pstore/plan"
)

var benchOnce struct {
	sync.Once
	v    plan.Value
	data []byte
}

func benchValue(b *testing.B) (plan.Value, []byte) {
	benchOnce.Do(func() {
		benchOnce.v = BenchTree(22)
		var err error
		benchOnce.data, err = Encode(benchOnce.v, Raw)
		if err != nil {
			panic(err)
		}
	})
	return benchOnce.v, benchOnce.data
}

func BenchmarkDecode(b *testing.B) {
	_, data := benchValue(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, err := Decode(data, Raw, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	v, data := benchValue(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, err := Encode(v, Raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeBody(b *testing.B) {
	v, data := benchValue(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, _, err := EncodeBody(v); err != nil {
			b.Fatal(err)
		}
	}
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
