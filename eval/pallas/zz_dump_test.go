package pallas_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pstore/eval"
	"pstore/eval/pallas"
	"pstore/plan"
)

func TestDumpStats(t *testing.T) {
	for _, src := range []string{"(<mul.seed> 300 400)", "(<cmp.seed> 300 400)", "(<cmp.seed> (0 1) (0 1))"} {
		for _, nj := range []bool{false, true} {
			v, err := plan.ParseWith(src, plan.ParseOptions{SeedRef: seedRef})
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			r, err := pallas.Evaluator{}.Eval(context.Background(), v, eval.Options{NoJets: nj})
			fmt.Println(src, nj, plan.String(r.Value), err, r.Stats, time.Since(t0))
		}
	}
}
