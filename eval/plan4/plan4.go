package plan4

import (
	"context"
	"errors"
	"fmt"

	"pstore/eval"
	"pstore/plan"
)

func init() { eval.Register(Evaluator{}) }

// Evaluator is the plan4 evaluator. The zero value is ready to use and
// safe for concurrent use (each Eval builds its own heap).
type Evaluator struct{}

var _ eval.Evaluator = Evaluator{}

// Name implements eval.Evaluator.
func (Evaluator) Name() string { return "plan4" }

// Dialect implements eval.Evaluator.
func (Evaluator) Dialect() string { return "plan4" }

// Eval implements eval.Evaluator.
func (Evaluator) Eval(ctx context.Context, v plan.Value, opts eval.Options) (eval.Result, error) {
	if v == nil {
		return eval.Result{}, errors.New("plan4: nil value")
	}
	m := newMachine(opts)
	if err := m.start(ctx); err != nil {
		return eval.Result{}, err
	}
	root := valNode(v, false)
	r, err := m.run(root, !opts.WHNF)
	if err != nil {
		return eval.Result{Stats: m.stats}, m.wrapErr(err)
	}
	if opts.WHNF {
		// Below a WHNF value there may be thunks, shared or cyclic:
		// write it plainly when it is acyclic, else as a let graph.
		if v, cyclic := m.exportGraph(r, true); !cyclic {
			return eval.Result{Value: v, Stats: m.stats}, nil
		}
		return eval.Result{Value: m.writeGraph(r), Stats: m.stats}, nil
	}
	return eval.Result{Value: m.export(r), Stats: m.stats}, nil
}

// start prepares a run under ctx.
func (m *machine) start(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return &eval.StoppedError{Cause: fmt.Errorf("%w: %w", eval.ErrCanceled, err)}
	}
	m.ctx, m.done = ctx, ctx.Done()
	m.stats = eval.Stats{}
	m.tick = 0
	return nil
}

// wrapErr turns a stop into a *eval.StoppedError with its residual.
func (m *machine) wrapErr(err error) error {
	if err != errStopped {
		return err
	}
	return &eval.StoppedError{Cause: m.stop, Steps: m.stats.Steps, Residual: m.residual()}
}
