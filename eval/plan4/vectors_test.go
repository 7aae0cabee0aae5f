package plan4

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"pstore/eval"
	"pstore/eval/evaltest"
	"pstore/plan"
	"pstore/seed"
)

const vectorDir = "../../../shared/vectors/plan4"

// seedRef resolves <name.seed> to the normal-form pin the file in
// vectorDir evaluates to (PLAN4.md section 9), once per file.
var seedRef = evaltest.SeedDir(vectorDir, func(data []byte) (plan.Value, error) {
	return LoadSeed(context.Background(), data, eval.Options{})
})

func parseExpr(t testing.TB, src string) plan.Value {
	t.Helper()
	v, err := plan.ParseWith(src, plan.ParseOptions{SeedRef: seedRef})
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return v
}

// TestVectors runs cases.tsv with jets off (TestVectorsConformance runs it
// with jets on), but for the cases the laws alone take too long for.
func TestVectors(t *testing.T) {
	cases, err := evaltest.ReadCases(filepath.Join(vectorDir, "cases.tsv"))
	if err != nil {
		t.Fatal("vectors not available:", err)
	}
	for _, c := range cases {
		if slowWithoutJets(c.Expr) {
			continue
		}
		v := parseExpr(t, c.Expr)
		r, err := Evaluator{}.Eval(context.Background(), v, eval.Options{NoJets: true, Steps: 5_000_000})
		if c.Want == "!error" {
			if !evaltest.IsEvalFailure(err) {
				t.Errorf("line %d (nojets): %s: want a crash, loop or budget error, got %v", c.Line, c.Expr, err)
			}
			continue
		}
		want := parseExpr(t, c.Want)
		if err != nil {
			t.Errorf("line %d (nojets): %s: %v", c.Line, c.Expr, err)
			continue
		}
		if !plan.Equal(r.Value, want) {
			t.Errorf("line %d (nojets): %s\n got %s\nwant %s", c.Line, c.Expr, plan.String(r.Value), c.Want)
		}
	}
}

// slowWithoutJets lists the vector lines the spec says need 2^22 or more
// unary steps without jets (PLAN4.md section 7).
func slowWithoutJets(expr string) bool {
	for _, s := range []string{
		"(<Mul.seed> 0x100000000 0x100000000)",
		"<Add.seed> <Sub.seed>", "<Add.seed> <Add.seed>",
		"0x10000000000000000 0xffffffffffffffff",
		"(<BitSz.seed> 0x10000000000000000)",
		"(<Sub.seed> 0x10000000000000000 0x1000",
		"(<Sub.seed> 0x100000000000000000000000000000000 1)",
		"(<Add.seed> 0xffffffffffffffff 1)",
	} {
		if strings.Contains(expr, s) {
			return true
		}
	}
	return false
}

func TestLoadSeedErrors(t *testing.T) {
	// Two holes: the plan-di-c loader accepts at most one.
	bad := make([]byte, 40)
	bad[0] = 2
	if _, err := LoadSeed(context.Background(), bad, eval.Options{}); !errors.Is(err, seed.ErrCorrupt) {
		t.Fatalf("two holes accepted: %v", err)
	}
	if _, err := LoadSeed(context.Background(), []byte{1, 2, 3}, eval.Options{}); !errors.Is(err, seed.ErrCorrupt) {
		t.Fatal("short file accepted")
	}
	v, err := seedRef("PinItem.seed")
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := v.(*plan.Pin); !ok || p.MustItem().(*plan.Law).Arity.Cmp(plan.N(1)) != 0 {
		t.Fatalf("PinItem.seed: %s", plan.String(v))
	}
}
