package seed

import "testing"

func BenchmarkEncodeNoSplit(b *testing.B) {
	old := splitMin
	splitMin = 1 << 30
	defer func() { splitMin = old }()
	BenchmarkEncode(b)
}
func BenchmarkDecodeSeq(b *testing.B) {
	old := pipeMin
	pipeMin = 1 << 62
	defer func() { pipeMin = old }()
	BenchmarkDecode(b)
}
