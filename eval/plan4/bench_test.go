package plan4

import (
	"context"
	"strings"
	"testing"

	"pstore/eval"
	"pstore/plan"
)

// Workloads in plan4 syntax. ADD/SUB/... are pins whose name and arity
// get the jets (the body is never run when jets are on).
var fibSrc = func() string {
	s := `<{"Fib" 1 (0 (0 (0 (0 (0 (0 <3> (0 0)) (0 0)) (0 0)) (0 0)) (0 F1 0)) 1)}>`
	s = strings.Replace(s, "F1", `{"F1" 2 (0 (0 (0 (0 (0 (0 <3> (0 0)) (0 0)) (0 0)) (0 1)) (0 (0 F2 1) 2)) 2)}`, 1)
	s = strings.Replace(s, "F2", `{"F2" 3 (0 (0 ADD (0 1 2)) (0 1 3))}`, 1)
	return strings.Replace(s, "ADD", `<Add.seed>`, 1)
}()

// revSrc reverses the bytes of a nat: Rev x acc.
var revSrc = strings.NewReplacer(
	"R2", `{"R2" 4 (0 (0 1 (0 (0 DIV 2) 256)) (0 (0 ADD (0 (0 MUL 3) 256)) (0 (0 MOD 2) 256)))}`,
).Replace(`<{"Rev" 2 (0 (0 (0 (0 (0 (0 <3> (0 0)) (0 0)) (0 0)) 2) (0 (0 (0 R2 0) 1) 2)) 1)}>`)

func arithPins(s string) string {
	return strings.NewReplacer(
		"DIV", `<{"Div" 2 0}>`, "MOD", `<{"Mod" 2 0}>`, "MUL", `<{"Mul" 2 0}>`, "ADD", `<{"Add" 2 0}>`,
	).Replace(s)
}

func TestWorkloads(t *testing.T) {
	got := mustEval(t, "("+fibSrc+" 15)")
	if !plan.Equal(got, plan.N(610)) {
		t.Fatalf("fib 15 = %s", plan.String(got))
	}
	got = mustEval(t, "("+arithPins(revSrc)+` "abcdef" 0)`)
	if !plan.Equal(got, parseExpr(t, `"fedcba"`)) {
		t.Fatalf("rev = %s", plan.String(got))
	}
}

func benchEval(b *testing.B, src string, opts eval.Options) {
	expr := parseExpr(b, src)
	var laws int64
	for b.Loop() {
		r, err := Evaluator{}.Eval(context.Background(), expr, opts)
		if err != nil {
			b.Fatal(err)
		}
		laws += r.Stats.LawCalls
	}
	b.ReportMetric(float64(laws)/b.Elapsed().Seconds(), "laws/s")
}

// BenchmarkLawsNoJets: unary multiplication through the Sire laws (Times,
// NatCase, Case, Add, Inc, ...), every law run by its body.
func BenchmarkLawsNoJets(b *testing.B) {
	benchEval(b, `(<Mul.seed> 30 30)`, eval.Options{NoJets: true})
}

// BenchmarkFibJets: naive Fib 22 with the Add jet.
func BenchmarkFibJets(b *testing.B) {
	benchEval(b, "("+fibSrc+" 22)", eval.Options{})
}

// BenchmarkDeepRecursion: a 100000-deep non-tail recursion.
func BenchmarkDeepRecursion(b *testing.B) {
	benchEval(b, `(<{"Deep" 1 (0 (0 (0 (0 (0 (0 <3> (0 0)) (0 0)) (0 0)) (0 0)) (0 {"H" 2 (0 <2> (0 1 2))} 0)) 1)}> 100000)`, eval.Options{})
}

// BenchmarkCmpSeeds: the Cmp jet on two whole seed laws.
func BenchmarkCmpSeeds(b *testing.B) {
	benchEval(b, `(<Cmp.seed> <Cmp.seed> <Eql.seed>)`, eval.Options{})
}
