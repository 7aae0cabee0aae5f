package eval

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"pstore/plan"
)

// Evaluator is a PLAN dialect behind pstore's store. Implementations must be
// safe for concurrent use: each Eval call owns its own heap graph.
type Evaluator interface {
	// Name is the registry name ("pallas", "plan4").
	Name() string
	// Dialect names the seed interchange convention this evaluator reads
	// `@file.seed` with: "pallas" or "plan4" (ARCHITECTURE.md "Interchange
	// files").
	Dialect() string
	// Eval reduces v (an expression: apps are thunks until evaluated) to
	// normal form, or to WHNF when opts.WHNF is set. Pins in v that are
	// unloaded references are loaded through their own loader on first
	// use, never before.
	//
	// Errors: ErrCrash, ErrLoop, ErrBudget, ErrCanceled (each wrapped, test
	// with errors.Is), or a pin load error. When the evaluation was
	// stopped by its budget or its context, the error is a *StoppedError
	// carrying the residual computation (see Residual).
	Eval(ctx context.Context, v plan.Value, opts Options) (Result, error)
}

// Options bound and shape one evaluation. The zero value means: normal
// form, no step limit, jets on.
type Options struct {
	// Steps is the step budget (0 = unlimited). A step is one reduction of a
	// saturated call (an opcode, a law application or a jet call).
	Steps int64
	// NoJets runs every law's own body (for testing and benchmarking).
	NoJets bool
	// WHNF stops at weak head normal form instead of normal form.
	WHNF bool
	// Trace, when set, receives optional tracing events (implementations
	// may ignore it).
	Trace func(event string)
}

// Stats describes the work an evaluation did.
type Stats struct {
	Steps      int64 // reductions, as counted against Options.Steps
	LawCalls   int64 // law applications (jetted or not)
	JetCalls   int64 // calls answered by a jet
	PinsLoaded int64 // pins whose contents this evaluation faulted in from a loader
}

// Result is a finished evaluation.
type Result struct {
	Value plan.Value
	Stats Stats
}

// Sentinel errors shared by every evaluator.
var (
	// ErrCrash: the program has no value (applying a non-opcode nat, opcode
	// 0 with arity 0 in pallas, an unmatched case; PLAN.md section 9).
	ErrCrash = errors.New("eval: crash")
	// ErrLoop: a black hole was entered (a value that needs itself).
	ErrLoop = errors.New("eval: loop (black hole)")
	// ErrBudget: the step budget ran out.
	ErrBudget = errors.New("eval: step budget exhausted")
	// ErrCanceled: the context was canceled or its deadline passed.
	ErrCanceled = errors.New("eval: canceled")
	// ErrUnknown: no evaluator of that name is registered.
	ErrUnknown = errors.New("eval: unknown evaluator")
)

// StoppedError is returned when an evaluation is stopped by its step budget
// or its context before it finished. It wraps ErrBudget or ErrCanceled.
type StoppedError struct {
	Cause error // ErrBudget or ErrCanceled (possibly wrapping ctx.Err())
	Steps int64 // steps run before stopping
	// Residual is a plain PLAN value that, evaluated to normal form by the
	// same evaluator, gives the same result as the stopped evaluation would
	// have: the residual heap graph with every black hole restored to the
	// thunk it stands for. Cyclic or shared graphs are expressed as a law
	// whose body rebuilds the graph with let bindings, applied to a dummy
	// argument. Nil if the evaluator cannot produce one.
	Residual plan.Value
}

func (e *StoppedError) Error() string {
	return fmt.Sprintf("%v after %d steps", e.Cause, e.Steps)
}

func (e *StoppedError) Unwrap() error { return e.Cause }

// Registry of evaluators by name.
var registry struct {
	// mu guards byName.
	mu     sync.RWMutex
	byName map[string]Evaluator
}

// DefaultName is the evaluator used when none is named.
const DefaultName = "pallas"

// Register makes e available by e.Name(). Registering a name twice panics
// (it is a programming error, as with database/sql drivers).
func Register(e Evaluator) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.byName == nil {
		registry.byName = map[string]Evaluator{}
	}
	if _, dup := registry.byName[e.Name()]; dup {
		panic("eval: evaluator registered twice: " + e.Name())
	}
	registry.byName[e.Name()] = e
}

// Get returns the evaluator registered under name ("" means DefaultName).
func Get(name string) (Evaluator, error) {
	if name == "" {
		name = DefaultName
	}
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	e, ok := registry.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (have %v)", ErrUnknown, name, namesLocked())
	}
	return e, nil
}

// Names lists the registered evaluators, sorted.
func Names() []string {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	var out []string
	for n := range registry.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
