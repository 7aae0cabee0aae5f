package pallas_test

import (
	"context"
	"testing"

	"pstore/eval"
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
// million law applications (Add iterates over the accumulator).
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
}
