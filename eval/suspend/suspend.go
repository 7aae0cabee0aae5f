package suspend

import (
	"context"
	"errors"
	"fmt"

	"pstore/eval"
	"pstore/plan"
)

// Version is the format version written in the record.
const Version = 1

// Sentinel errors.
var (
	// ErrNotSuspended: the value is not a suspended-computation record.
	ErrNotSuspended = errors.New("suspend: not a suspended computation")
	// ErrVersion: a record of a format version this package cannot read.
	ErrVersion = errors.New("suspend: unsupported format version")
	// ErrNoResidual: the evaluator stopped without a residual, so there is
	// nothing to suspend.
	ErrNoResidual = errors.New("suspend: the evaluator gave no residual")
)

// recordName is the name of the record law.
var recordName = plan.NatFromBytes([]byte("pstore:suspended"))

const recordArity = 6 // version evaluator steps law dummy: 5 fields

var recordLaw = plan.L(recordName, plan.N(recordArity), plan.N(0))

// Job is a decoded suspended computation.
type Job struct {
	Evaluator string     // registry name of the evaluator that must resume it
	Steps     int64      // steps run so far, over every run of the job
	Law       *plan.Law  // the residual law (arity 1)
	Dummy     plan.Value // its argument
}

// Expr is the expression that resumes the job: (Law Dummy).
func (j *Job) Expr() plan.Value { return plan.A(j.Law, j.Dummy) }

// Record returns the contents of a suspended-computation pin (normal in
// both dialects).
func (j *Job) Record() plan.Value {
	steps := j.Steps
	if steps < 0 {
		steps = 0
	}
	return plan.A(recordLaw, plan.N(Version), plan.NatFromBytes([]byte(j.Evaluator)), plan.N(uint64(steps)), j.Law, j.Dummy)
}

// Encode rewrites residual (a *eval.StoppedError's Residual from the
// evaluator named evaluator) into a job whose record is normal in the
// evaluator's dialect. steps is the total of steps run so far.
func Encode(evaluator string, residual plan.Value, steps int64) (*Job, error) {
	if residual == nil {
		return nil, ErrNoResidual
	}
	e, err := eval.Get(evaluator)
	if err != nil {
		return nil, err
	}
	l := residualLaw(residual, e.Dialect() == "plan4")
	return &Job{Evaluator: e.Name(), Steps: steps, Law: l, Dummy: plan.N(0)}, nil
}

// Suspend turns a stopped evaluation of the evaluator named evaluator
// into a suspended-computation pin. prevSteps are the steps of earlier
// runs of the same job (0 for a fresh evaluation).
func Suspend(evaluator string, stopped *eval.StoppedError, prevSteps int64) (*plan.Pin, error) {
	j, err := Encode(evaluator, stopped.Residual, prevSteps+stopped.Steps)
	if err != nil {
		return nil, err
	}
	return plan.P(j.Record()), nil
}

// Decode reads a record (the contents of a suspended-computation pin).
func Decode(v plan.Value) (*Job, error) {
	a, ok := v.(*plan.App)
	if !ok {
		return nil, ErrNotSuspended
	}
	h, args := a.Spine()
	l, ok := h.(*plan.Law)
	if !ok || !l.Name.Equal(recordName) {
		return nil, ErrNotSuspended
	}
	if ar, small := l.Arity.Uint64(); !small || ar != recordArity || len(args) != recordArity-1 {
		return nil, fmt.Errorf("%w: record law of arity %v with %d fields", ErrNotSuspended, l.Arity, len(args))
	}
	ver, ok := args[0].(plan.Nat)
	if !ok {
		return nil, fmt.Errorf("%w: version is not a nat", ErrNotSuspended)
	}
	if v, small := ver.Uint64(); !small || v != Version {
		return nil, fmt.Errorf("%w %v (this reads %d)", ErrVersion, ver, Version)
	}
	name, ok := args[1].(plan.Nat)
	if !ok {
		return nil, fmt.Errorf("%w: evaluator name is not a nat", ErrNotSuspended)
	}
	steps, ok := args[2].(plan.Nat)
	if !ok {
		return nil, fmt.Errorf("%w: steps is not a nat", ErrNotSuspended)
	}
	s, small := steps.Uint64()
	if !small || s > 1<<62 {
		s = 1 << 62
	}
	law, ok := args[3].(*plan.Law)
	if !ok {
		return nil, fmt.Errorf("%w: the residual is not a law", ErrNotSuspended)
	}
	if ar, small := law.Arity.Uint64(); !small || ar != 1 {
		return nil, fmt.Errorf("%w: residual law of arity %v", ErrNotSuspended, law.Arity)
	}
	return &Job{Evaluator: string(name.AppendBytes(nil)), Steps: int64(s), Law: law, Dummy: args[4]}, nil
}

// Outcome is the result of Run or Resume: either the normal form, or a
// new suspended computation.
type Outcome struct {
	Value     plan.Value // the normal form, when the computation finished
	Suspended *plan.Pin  // the suspended computation, when it stopped
	Cause     error      // why it stopped (eval.ErrBudget or eval.ErrCanceled, wrapped)
	Steps     int64      // steps over every run of the job so far
	Stats     eval.Stats // this run
}

// Done reports whether the computation finished.
func (o *Outcome) Done() bool { return o.Suspended == nil }

// Run evaluates expr to normal form; if the step budget, the deadline or
// the cancellation of ctx stops it, the computation is suspended instead
// of lost (Outcome.Suspended). Other failures (crash, loop, pin load
// errors) are returned as errors. opts.WHNF is ignored: a job runs to
// normal form.
func Run(ctx context.Context, e eval.Evaluator, expr plan.Value, opts eval.Options) (Outcome, error) {
	return run(ctx, e, expr, 0, opts)
}

// Resume continues the suspended computation in pin p (its contents are
// loaded if needed) with the evaluator it names.
func Resume(ctx context.Context, p *plan.Pin, opts eval.Options) (Outcome, error) {
	v, err := p.Item()
	if err != nil {
		return Outcome{}, err
	}
	j, err := Decode(v)
	if err != nil {
		return Outcome{}, err
	}
	return ResumeJob(ctx, j, opts)
}

// ResumeJob continues a decoded job. A step budget (opts.Steps) counts the
// computation's own steps: the one step that applies the residual law is
// added to it, so that any budget makes progress.
func ResumeJob(ctx context.Context, j *Job, opts eval.Options) (Outcome, error) {
	e, err := eval.Get(j.Evaluator)
	if err != nil {
		return Outcome{}, err
	}
	if opts.Steps > 0 {
		opts.Steps++
	}
	return run(ctx, e, j.Expr(), j.Steps, opts)
}

func run(ctx context.Context, e eval.Evaluator, expr plan.Value, prev int64, opts eval.Options) (Outcome, error) {
	opts.WHNF = false
	res, err := e.Eval(ctx, expr, opts)
	out := Outcome{Stats: res.Stats, Steps: prev + res.Stats.Steps}
	if err == nil {
		out.Value = res.Value
		return out, nil
	}
	var se *eval.StoppedError
	if !errors.As(err, &se) {
		return out, err
	}
	out.Steps = prev + se.Steps
	if out.Stats.Steps == 0 {
		out.Stats.Steps = se.Steps
	}
	p, serr := Suspend(e.Name(), se, prev)
	if serr != nil {
		return out, fmt.Errorf("%w (cannot suspend: %w)", err, serr)
	}
	out.Suspended, out.Cause = p, se.Cause
	return out, nil
}
