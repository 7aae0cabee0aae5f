package plan4

import (
	"context"
	"os"
	"testing"

	"pstore/eval"
	"pstore/plan"
	"pstore/seed"
)

func TestZZ(t *testing.T) {
	data, _ := os.ReadFile("/work/shared/vectors/plan4/Sub.seed")
	tr, _ := seed.Decode(data, seed.Plan4, []plan.Value{plan.P(plan.N(0))})
	s := plan.String(tr)
	v1, _ := plan.Parse(s)
	r, err := Evaluator{}.Eval(context.Background(), v1, eval.Options{})
	t.Log("parsed:", err, r.Stats)
	r, err = Evaluator{}.Eval(context.Background(), tr, eval.Options{})
	t.Log("tree:", err, r.Stats)
	debugLoop = true
	r, err = Evaluator{}.Eval(context.Background(), tr, eval.Options{})
}
