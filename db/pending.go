package db

import (
	"context"
	"errors"
	"fmt"

	"pstore/eval"
	"pstore/eval/suspend"
	"pstore/plan"
)

// Suspended inputs (issue 9): with CreateOptions.OnBudget set to
// OnBudgetSuspend, an input whose evaluation runs out of the per-input
// budget is logged as pending with its suspended computation
// (eval/suspend); the writer then finishes it before it takes any other
// request, and logs the result as a resolution in a batch of its own.

// Budget policies (CreateOptions.OnBudget, head field 16).
const (
	OnBudgetReject  = 0 // an input over budget is rejected (KindBudget)
	OnBudgetSuspend = 1 // it is suspended, logged pending, and finished later
)

// ErrPending answers Send for an input that was suspended by its budget:
// it is logged (pending) and will be finished before any later input; its
// result appears in the log as a resolution.
var ErrPending = errors.New("db: input pending (suspended by its budget; finished before any later input)")

// pendingInput is the unresolved pending event the writer is finishing.
type pendingInput struct {
	event uint64
	job   *plan.Pin // latest suspended computation of (state input)
}

// applySuspendable is apply for a database that suspends over-budget
// inputs: the input is normalized within the budget (running out there
// rejects it, as before), then (state input) runs with what is left; if
// the budget stops it, job is its suspended computation.
func applySuspendable(ctx context.Context, ev eval.Evaluator, state, input plan.Value, steps uint64) (nf, out, next plan.Value, job *plan.Pin, err error) {
	input, budget, err := normalizeInput(ctx, ev, input, steps)
	if err != nil {
		return input, nil, nil, nil, err
	}
	o, err := suspend.Run(ctx, ev, plan.A(state, input), eval.Options{Steps: budget})
	if err != nil {
		return input, nil, nil, nil, err
	}
	if !o.Done() {
		if !errors.Is(o.Cause, eval.ErrBudget) {
			return input, nil, nil, nil, o.Cause // canceled: not a fact about the input
		}
		return input, nil, nil, o.Suspended, nil
	}
	out, next, err = splitResult(o.Value)
	return input, out, next, nil, err
}

// runPending finishes the pending input: it resumes its computation
// without a budget until it ends or the database is closed. When it ends,
// the resolution is committed (one page-store commit) and the state moves
// on; when the database closes first, the latest suspended computation is
// stored in the head, so the next Open resumes from there. It returns
// false when the database is closing.
func (d *DB) runPending() bool {
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan struct{})
	go func() {
		select {
		case <-d.closing:
			cancel()
		case <-stop:
		}
	}()
	o, err := suspend.Resume(ctx, d.pend.job, eval.Options{})
	close(stop)
	cancel()
	if err == nil && !o.Done() {
		// Closing: keep the progress.
		d.drain()
		h := *d.h
		h.pendingJob = o.Suspended
		if cerr := d.commit(&h, nil, false); cerr != nil {
			d.setFatal(cerr)
		} else {
			d.pend.job = d.h.pendingJob
		}
		return false
	}
	var outcome plan.Value
	next := d.state
	if err == nil {
		var out, nx plan.Value
		out, nx, err = splitResult(o.Value)
		if err == nil {
			outcome, next = okOutcome(out), nx
		}
	}
	if outcome == nil {
		kind, fact := classify(err)
		if !fact {
			// A pin that cannot be loaded, say: not a fact about the
			// input. The database cannot go on past it.
			d.setFatal(fmt.Errorf("db %q: finishing pending event %d: %w", d.name, d.pend.event, err))
			return true
		}
		outcome = rejectedOutcome(kind, err.Error())
	}
	d.drain()
	h := *d.h
	h.pendingJob = nil
	b := &batch{prev: h.lastBatch, first: h.events + 1, timeMs: nowMs(),
		resolutions: []plan.Value{resolvedRecord(d.pend.event, outcome)}}
	h.batches++
	prevState := d.state
	d.state = next
	if err := d.commit(&h, b, false); err != nil {
		d.state = prevState
		d.setFatal(err)
		return true
	}
	d.pend = nil
	return true
}

// resolutionsOf collects the resolutions of pending events in a chain.
func resolutionsOf(chain []*batch) (map[uint64]Entry, error) {
	res := map[uint64]Entry{}
	for _, b := range chain {
		rs, err := b.resolutionEntries()
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			res[r.Event] = r
		}
	}
	return res, nil
}

// resolve returns the entry of a pending event as its resolution decided
// it (accepted with the logged output, or rejected), or unchanged
// (Pending) while it is unresolved.
func resolve(e Entry, res map[uint64]Entry) Entry {
	if e.Outcome != Pending {
		return e
	}
	r, ok := res[e.Event]
	if !ok {
		return e
	}
	r.Input, r.Resolution = e.Input, false
	return r
}

// reapply re-applies an accepted input without a budget, as recovery and
// replay do, and checks that it gives the logged output; pass names the
// pass ("recovery", "replay") in errors.
func reapply(ctx context.Context, ev eval.Evaluator, state plan.Value, e Entry, pass string) (plan.Value, error) {
	_, out, next, err := apply(ctx, ev, state, e.Input, 0)
	if err != nil {
		if _, fact := classify(err); fact {
			return nil, &NondeterminismError{Event: e.Event, What: "output",
				Detail: fmt.Sprintf("accepted input fails on %s: %v", pass, err)}
		}
		return nil, fmt.Errorf("re-applying event %d: %w", e.Event, err)
	}
	eq, err := plan.EqualErr(out, e.Output)
	if err != nil {
		return nil, fmt.Errorf("comparing the output of event %d: %w", e.Event, err)
	}
	if !eq {
		return nil, &NondeterminismError{Event: e.Event, What: "output",
			Detail: fmt.Sprintf("%s gives %s, the log has %s", pass, short(out), short(e.Output))}
	}
	return next, nil
}
