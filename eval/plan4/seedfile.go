package plan4

import (
	"context"
	"fmt"

	"pstore/eval"
	"pstore/plan"
	"pstore/seed"
)

// LoadSeed reads a plan-di-c seed file (PLAN4.md section 9): it decodes the
// tree with its one hole filled with <0>, then evaluates the tree to normal
// form, which is what builds its pins and laws. The value returned carries
// no jets: each Eval that is given it works out its pins' jets again.
// opts bounds that evaluation (its WHNF field is ignored). Decoding errors
// wrap seed.ErrCorrupt; evaluation errors are the evaluator's.
func LoadSeed(ctx context.Context, data []byte, opts eval.Options) (plan.Value, error) {
	tree, err := seed.Decode(data, seed.Plan4, []plan.Value{plan.P(plan.N(0))})
	if err != nil {
		return nil, err
	}
	opts.WHNF = false
	r, err := Evaluator{}.Eval(ctx, tree, opts)
	if err != nil {
		return nil, fmt.Errorf("plan4: evaluating seed: %w", err)
	}
	return r.Value, nil
}
