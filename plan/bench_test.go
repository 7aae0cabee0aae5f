package plan

import (
	"math/big"
	"strings"
	"testing"
)

func benchText() string {
	var sb strings.Builder
	sb.WriteString("(0")
	for i := 0; i < 2000; i++ {
		sb.WriteString(` ({"_Exec" 3 (0 (0 (0 (2 2) 2) (0 (0 0 1) (0 1 2))) 3)} 3 0x10ffff 18446744073709551616 <"toNat">)`)
	}
	sb.WriteString(")")
	return sb.String()
}

func BenchmarkParse(b *testing.B) {
	src := benchText()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPrint(b *testing.B) {
	v, err := Parse(benchText())
	if err != nil {
		b.Fatal(err)
	}
	s := String(v)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, err := Sprint(v, PrintOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func decimalDigits(n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteByte(byte('1' + (i*7)%9))
	}
	return sb.String()
}

// Compare with math/big's own conversion, which is quadratic.
func BenchmarkParseDecimal1M(b *testing.B) {
	s := decimalDigits(1_000_000)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		parseDecimal(s)
	}
}

func BenchmarkBigSetString1M(b *testing.B) {
	s := decimalDigits(1_000_000)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		new(big.Int).SetString(s, 10)
	}
}
