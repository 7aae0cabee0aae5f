package db

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"pstore/eval/suspend"
	"pstore/plan"
)

// workPallas counts its inputs and, for input x, runs a countdown of x law
// calls: state n, (DB x) = (0 (0 (n+1) (down x)) (DB (n+1))), so the
// output (0 n+1 0) shows in which order inputs were applied.
const workPallas = `({"w" 2 (1 (0 (2 3) 1) (1 (0 {"down" 1 (0 (0 (2 (2 0)) 0) 1)} 2) (0 (0 (2 0) (0 (0 (2 0) 3) 4)) (0 0 3))))} 0)`

func wantOut(t *testing.T, got plan.Value, n uint64) {
	t.Helper()
	if want := plan.A(plan.N(0), plan.N(n), plan.N(0)); !plan.Equal(got, want) {
		t.Fatalf("output %s, want %s", plan.String(got), plan.String(want))
	}
}

// TestPendingInputFinishedAfterRestart: an input over the per-input budget
// is logged pending, the database is closed while it runs (its progress is
// kept in the head), and after reopening the store it is resumed, not
// restarted; its result is logged, later inputs wait behind it, and
// replay (without a budget) reproduces everything.
func TestPendingInputFinishedAfterRestart(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	d := mustCreate(t, st, "work", mustParse(t, workPallas), CreateOptions{Steps: 1000, OnBudget: OnBudgetSuspend})
	out, _, err := d.Send(ctx, plan.N(3))
	if err != nil {
		t.Fatal(err)
	}
	wantOut(t, out, 1)
	// Big enough to be still running at Close on a fast machine: the
	// evaluator makes about 11M law calls a second here, so 2M calls
	// were done within the 200 ms below on a quiet machine and the test
	// failed there.
	const big = 8_000_000
	_, ev, err := d.Send(ctx, plan.N(big))
	if !errors.Is(err, ErrPending) || ev != 2 {
		t.Fatalf("big input: event %d, %v", ev, err)
	}
	// Close while the writer is finishing it (after it made some
	// progress beyond the logged job).
	time.Sleep(200 * time.Millisecond)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	h, _, err := headRef(st, "work")
	if err != nil {
		t.Fatal(err)
	}
	if h.version != FormatVersionSuspend || h.pendingJob == nil {
		t.Fatalf("head version %d, pending job %v", h.version, h.pendingJob)
	}
	j, err := suspend.Decode(h.pendingJob.MustItem())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("suspended at close after %d steps", j.Steps)
	if j.Steps <= 1000 {
		t.Fatalf("no progress kept: %d steps", j.Steps)
	}

	// Restart: reopen the store and the database.
	st = reopenStore(t, st)
	d, err = Open(ctx, st, "work")
	if err != nil {
		t.Fatal(err)
	}
	// A later input waits behind the pending one.
	out, ev, err = d.Send(ctx, plan.N(4))
	if err != nil || ev != 3 {
		t.Fatalf("event %d: %v", ev, err)
	}
	wantOut(t, out, 3)
	var ents []Entry
	for e, err := range d.Log(1) {
		if err != nil {
			t.Fatal(err)
		}
		ents = append(ents, e)
	}
	// 1 accepted, 2 pending, resolution of 2 (accepted), 3 accepted.
	if len(ents) != 4 || ents[1].Outcome != Pending || ents[1].Job == nil ||
		!ents[2].Resolution || ents[2].Event != 2 || ents[2].Outcome != Accepted || ents[3].Event != 3 {
		t.Fatalf("log: %+v", ents)
	}
	wantOut(t, ents[2].Output, 2)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	h, _, _ = headRef(st, "work")
	if h.pendingJob != nil {
		t.Fatal("pending job left in the head")
	}
	// Replay without a budget, and verify.
	d, err = Open(ctx, st, "work")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rep, err := d.ReplayVerify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events != 3 || !rep.CheckedLive {
		t.Fatalf("verify: %+v", rep)
	}
	out, _, err = d.Send(ctx, plan.N(1))
	if err != nil {
		t.Fatal(err)
	}
	wantOut(t, out, 4)
	if _, _, err := d.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestPendingDefaultRejects: without the policy, the same input is
// rejected, and version-1 heads are still written.
func TestPendingDefaultRejects(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	d := mustCreate(t, st, "work", mustParse(t, workPallas), CreateOptions{Steps: 1000})
	defer d.Close()
	if _, _, err := d.Send(ctx, plan.N(5000)); !errors.Is(err, ErrRejected) {
		t.Fatal(err)
	}
	if d.h.version != FormatVersion {
		t.Fatalf("version %d", d.h.version)
	}
}

// TestPendingStopsStream: a stream that stops on errors stops at a pending
// input (its sender is answered ErrPending); nothing submitted after it is
// applied, while a stream that does not stop goes on behind it.
func TestPendingStopsStream(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	d := mustCreate(t, st, "work", mustParse(t, workPallas), CreateOptions{Steps: 1000, OnBudget: OnBudgetSuspend})
	defer d.Close()
	for _, stop := range []bool{true, false} {
		s := d.NewStream(stop)
		var rs []*Receipt
		for _, x := range []uint64{1, 5000, 1, 1} {
			r, err := s.Submit(ctx, plan.N(x))
			if err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		for i, r := range rs {
			_, _, err := r.Wait()
			switch {
			case i == 0:
				if err != nil {
					t.Fatalf("stop %v: input %d: %v", stop, i, err)
				}
			case i == 1:
				if !errors.Is(err, ErrPending) || !strings.Contains(err.Error(), "suspended computation bag") {
					t.Fatalf("stop %v: input %d: %v, want pending, naming the job", stop, i, err)
				}
			case stop:
				if !errors.Is(err, ErrStopped) {
					t.Fatalf("stop %v: input %d: %v, want stopped", stop, i, err)
				}
			default:
				if err != nil {
					t.Fatalf("stop %v: input %d: %v", stop, i, err)
				}
			}
		}
	}
	// Two inputs of the first stream, four of the second.
	if got := d.Status().Events; got != 6 {
		t.Fatalf("%d events, want 6", got)
	}
}
