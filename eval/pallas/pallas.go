package pallas

import (
	"context"
	"errors"
	"fmt"

	"pstore/eval"
	"pstore/plan"
)

// Evaluator is the pallas evaluator. The zero value is ready to use and
// safe for concurrent use: every Eval builds its own heap graph.
type Evaluator struct{}

var _ eval.Evaluator = Evaluator{}

func init() { eval.Register(Evaluator{}) }

// Name returns "pallas".
func (Evaluator) Name() string { return "pallas" }

// Dialect returns "pallas": `@file.seed` is read with the Pallas
// interchange convention.
func (Evaluator) Dialect() string { return "pallas" }

// Eval evaluates v (see eval.Evaluator). On a budget or context stop the
// error is an *eval.StoppedError whose Residual is the graph read back
// (black holes restored to their thunks). Options.Trace, when set, gets one
// line when the evaluation fails or stops.
func (Evaluator) Eval(ctx context.Context, v plan.Value, opts eval.Options) (eval.Result, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	m := newMachine(ctx, opts)
	root := m.wrap(v)
	r, err := m.run(root, !opts.WHNF)
	if err != nil {
		if opts.Trace != nil {
			cause := err
			if errors.Is(err, errStop) {
				cause = m.stopErr
			}
			opts.Trace(fmt.Sprintf("pallas: %v after %d steps (%d law calls, %d jet calls, %d pins loaded)",
				cause, m.stats.Steps, m.stats.LawCalls, m.stats.JetCalls, m.stats.PinsLoaded))
		}
		if errors.Is(err, errStop) {
			return eval.Result{Stats: m.stats}, &eval.StoppedError{
				Cause:    m.stopErr,
				Steps:    m.stats.Steps,
				Residual: m.residual(root),
			}
		}
		return eval.Result{Stats: m.stats}, err
	}
	var out plan.Value
	if opts.WHNF {
		out = m.residual(r)
	} else {
		out, err = m.value(r)
		if err != nil {
			return eval.Result{Stats: m.stats}, err
		}
	}
	return eval.Result{Value: out, Stats: m.stats}, nil
}
