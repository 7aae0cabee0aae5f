package pallas_test

import (
	"context"
	"errors"
	"testing"

	"pstore/eval"
	"pstore/eval/pallas"
	"pstore/plan"
)

// TestResumeWithSmallBudgetMakesProgress: 20,000 nested pending increments,
// resumed again and again with a budget far below the nesting depth. Each
// resume must complete work (reductions are counted when they finish, and
// what finished is kept in the residual), so the chain ends after about
// depth/budget rounds and gives the straight-through result.
func TestResumeWithSmallBudgetMakesProgress(t *testing.T) {
	const depth, budget = 20_000, 500
	var v plan.Value = plan.N(0)
	for i := 0; i < depth; i++ {
		v = plan.A(plan.N(3), v)
	}
	var e pallas.Evaluator
	var total, stops int64
	for round := 0; ; round++ {
		if round > 2*depth/budget+10 {
			t.Fatalf("no progress: still running after %d rounds", round)
		}
		r, err := e.Eval(context.Background(), v, eval.Options{Steps: budget})
		var se *eval.StoppedError
		if errors.As(err, &se) {
			if se.Steps > budget {
				t.Fatalf("round %d: %d steps counted with a budget of %d", round, se.Steps, budget)
			}
			total += se.Steps
			stops++
			v = se.Residual
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		total += r.Stats.Steps
		if !plan.Equal(r.Value, plan.N(depth)) {
			t.Fatalf("result %v", r.Value)
		}
		// One increment per increment, except that the completion a stop
		// comes right after is kept but not counted (the budget was spent).
		if total != depth-stops {
			t.Errorf("%d steps over all rounds and %d stops, want %d", total, stops, depth-stops)
		}
		return
	}
}
