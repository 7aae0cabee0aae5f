package db

import (
	"context"
	"fmt"
	"iter"

	"pstore/eval"
	"pstore/merkle"
	"pstore/pagestore"
	"pstore/plan"
)

// chainDigests returns the digests of the batches holding events after
// event `after`, oldest first. It walks back from the head's last batch;
// only the digests are kept, so the walk holds one batch in memory at a
// time.
func chainDigests(st *pagestore.Store, h *head, after uint64) ([]plan.Digest, error) {
	var ds []plan.Digest
	want := h.events + 1
	for p := h.lastBatch; p != nil; {
		d, ok := p.CachedDigest()
		if !ok {
			var err error
			if d, err = merkle.Digest(p); err != nil {
				return nil, err
			}
		}
		b, err := loadBatch(plan.NewPinRef(d, st))
		if err != nil {
			return nil, err
		}
		end := b.first + uint64(len(b.inputs))
		if end != want {
			return nil, fmt.Errorf("%w: log batch %d..%d is followed by event %d", ErrCorrupt, b.first, end-1, want)
		}
		want = b.first
		if end-1 <= after {
			break
		}
		ds = append(ds, d)
		if b.first <= after+1 {
			break
		}
		p = b.prev
		if p == nil && b.first != h.baseEvent+1 {
			return nil, fmt.Errorf("%w: log starts at event %d, base is event %d", ErrCorrupt, b.first, h.baseEvent)
		}
	}
	for i, j := 0, len(ds)-1; i < j; i, j = i+1, j-1 {
		ds[i], ds[j] = ds[j], ds[i]
	}
	return ds, nil
}

// logEntries iterates over the events numbered from `from` on.
func logEntries(st *pagestore.Store, h *head) func(from uint64) iter.Seq2[Entry, error] {
	return func(from uint64) iter.Seq2[Entry, error] {
		return func(yield func(Entry, error) bool) {
			after := uint64(0)
			if from > 0 {
				after = from - 1
			}
			if after < h.baseEvent {
				after = h.baseEvent
			}
			ds, err := chainDigests(st, h, after)
			if err != nil {
				yield(Entry{}, err)
				return
			}
			for _, d := range ds {
				b, err := loadBatch(plan.NewPinRef(d, st))
				if err != nil {
					yield(Entry{}, err)
					return
				}
				ents, err := b.entries()
				if err != nil {
					yield(Entry{}, err)
					return
				}
				res, err := b.resolutionEntries()
				if err != nil {
					yield(Entry{}, err)
					return
				}
				for _, e := range append(ents, res...) {
					if e.Event <= after {
						continue
					}
					if !yield(e, nil) {
						return
					}
				}
			}
		}
	}
}

// Log iterates over the logged events from event `from` (1 = the first);
// events before the base (dropped by Compact) are not available. It reads
// the log as of the last commit.
func (d *DB) Log(from uint64) iter.Seq2[Entry, error] {
	// The state request checkpoints: the whole log is then in the store.
	_, h, err := d.currentState(context.Background())
	if err != nil {
		return func(yield func(Entry, error) bool) { yield(Entry{}, err) }
	}
	return logEntries(d.st, &h)(from)
}

// ReadLog is Log for a database that is not open here (the store may be
// read-only).
func ReadLog(st *pagestore.Store, name string, from uint64) (iter.Seq2[Entry, error], error) {
	h, _, err := headRef(st, name)
	if err != nil {
		return nil, err
	}
	return logEntries(st, h)(from), nil
}

// VerifyReport is what a successful replay checked.
type VerifyReport struct {
	FromEvent   uint64 `json:"from_event"` // replay started from the state after this event (the base)
	Events      uint64 `json:"events"`     // events replayed (FromEvent+1 .. FromEvent+Events)
	Accepted    uint64 `json:"accepted"`
	Rejected    uint64 `json:"rejected"` // skipped, never re-run
	Snapshots   int    `json:"snapshots_checked"`
	StateCID    string `json:"state_cid"` // the replayed state's pin CID
	CheckedLive bool   `json:"checked_live"`
}

// ReplayVerify re-runs every accepted input of the log from the base
// (the initial value, unless the log was compacted) without a step budget,
// skipping rejected inputs. Each output is compared with the logged one,
// the state with every snapshot recorded along the way, and the final
// state's pin CID with a fresh pin of the database's current state. A
// mismatch is a *NondeterminismError (errors.Is ErrNondeterminism).
//
// It runs on the caller's goroutine against the state as of the call;
// inputs sent meanwhile are not waited for.
func (d *DB) ReplayVerify(ctx context.Context) (VerifyReport, error) {
	state, h, err := d.currentState(ctx)
	if err != nil {
		return VerifyReport{}, err
	}
	return verify(ctx, d.st, d.ev, &h, state)
}

// Verify is ReplayVerify for a database that is not open here. The
// replayed state is compared with the snapshots and with the state that
// recovery would build (latest snapshot plus the inputs after it).
func Verify(ctx context.Context, st *pagestore.Store, name string) (VerifyReport, error) {
	h, _, err := headRef(st, name)
	if err != nil {
		return VerifyReport{}, err
	}
	ev, err := eval.Get(h.evaluator)
	if err != nil {
		return VerifyReport{}, err
	}
	live, _, err := recoverState(ctx, st, name, ev, h)
	if err != nil {
		return VerifyReport{}, err
	}
	return verify(ctx, st, ev, h, live)
}

func stateDigest(v plan.Value) (plan.Digest, error) {
	return merkle.Digest(plan.P(v))
}

func pinDigest(p *plan.Pin) (plan.Digest, error) {
	if d, ok := p.CachedDigest(); ok {
		return d, nil
	}
	return merkle.Digest(p)
}

func verify(ctx context.Context, st *pagestore.Store, ev eval.Evaluator, h *head, live plan.Value) (VerifyReport, error) {
	rep := VerifyReport{FromEvent: h.baseEvent}
	state, err := h.baseState.Item()
	if err != nil {
		return rep, fmt.Errorf("db: loading the base state: %w", err)
	}
	lastOK := h.baseEvent // last event at which the state is known to agree
	checkAt := func(event uint64, want plan.Digest, what string) error {
		got, err := stateDigest(state)
		if err != nil {
			return err
		}
		if got != want {
			return &NondeterminismError{Event: event, AfterEvent: lastOK, What: "state",
				Detail: fmt.Sprintf("replay gives %s, %s has %s", merkle.CIDOf(got), what, merkle.CIDOf(want))}
		}
		rep.Snapshots++
		lastOK = event
		return nil
	}
	ds, err := chainDigests(st, h, h.baseEvent)
	if err != nil {
		return rep, err
	}
	snapDigest, err := pinDigest(h.snapState)
	if err != nil {
		return rep, err
	}
	if h.snapEvent == h.baseEvent {
		if err := checkAt(h.snapEvent, snapDigest, "the head's snapshot"); err != nil {
			return rep, err
		}
	}
	// One batch and the one after it in memory at a time: a pending
	// event is the last of its batch, and the writer logs its resolution
	// in the next batch, before any other input.
	load := func(i int) (*batch, error) {
		if i >= len(ds) {
			return nil, nil
		}
		return loadBatch(plan.NewPinRef(ds[i], st))
	}
	next, err := load(0)
	if err != nil {
		return rep, err
	}
	for i := range ds {
		b := next
		if next, err = load(i + 1); err != nil {
			return rep, err
		}
		var resolved map[uint64]Entry
		if next != nil {
			if resolved, err = resolutionsOf([]*batch{next}); err != nil {
				return rep, err
			}
		}
		ents, err := b.entries()
		if err != nil {
			return rep, err
		}
		for _, e := range ents {
			rep.Events++
			// An unresolved pending input, like a rejected one, has no
			// effect.
			if e = resolve(e, resolved); e.Outcome != Accepted {
				rep.Rejected++
				continue
			}
			rep.Accepted++
			next, err := reapply(ctx, ev, state, e, "replay")
			if err != nil {
				if nd, ok := err.(*NondeterminismError); ok {
					nd.AfterEvent = lastOK
					return rep, nd
				}
				return rep, fmt.Errorf("db: %w", err)
			}
			state = next
		}
		end := b.first + uint64(len(b.inputs)) - 1
		if b.hasState {
			if err := checkAt(end, b.stateAfter, "the snapshot logged with the batch"); err != nil {
				return rep, err
			}
		}
		if end == h.snapEvent && !b.hasState {
			if err := checkAt(end, snapDigest, "the head's snapshot"); err != nil {
				return rep, err
			}
		}
	}
	final, err := stateDigest(state)
	if err != nil {
		return rep, err
	}
	rep.StateCID = merkle.CIDOf(final).String()
	if live != nil {
		ld, err := stateDigest(live)
		if err != nil {
			return rep, err
		}
		if ld != final {
			return rep, &NondeterminismError{Event: h.events, AfterEvent: lastOK, What: "state",
				Detail: fmt.Sprintf("replay gives %s, the current state is %s", merkle.CIDOf(final), merkle.CIDOf(ld))}
		}
		rep.CheckedLive = true
	}
	return rep, nil
}
