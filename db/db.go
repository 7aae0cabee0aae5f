package db

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"

	"pstore/eval"
	"pstore/eval/runner"
	"pstore/merkle"
	"pstore/pagestore"
	"pstore/plan"
)

// RefPrefix is the prefix of the store ref that names a database's head:
// database NAME is the ref "db/NAME".
const RefPrefix = "db/"

// HistoryPrefix prefixes the refs that keep compacted history alive:
// "db-history/NAME/N" names the batch that ends at event N.
const HistoryPrefix = "db-history/"

// Defaults for CreateOptions.
const (
	DefaultSteps         = 100_000_000
	DefaultSnapshotEvery = 10_000
	DefaultSnapshotBytes = 16 << 20
	// maxBatch bounds the inputs of one group commit, so one commit never
	// holds its callers for long.
	maxBatch = 4096
	// checkpointAfter and checkpointBytes bound how long and how much the
	// journal grows before a checkpoint moves it into the store (a writer
	// policy, not part of the format).
	checkpointAfter = 100 * time.Millisecond
	checkpointBytes = 8 << 20
)

// CreateOptions configure a new database. They are stored in its head.
type CreateOptions struct {
	// Evaluator names the evaluator ("" = eval.DefaultName).
	Evaluator string
	// Steps is the per-input step budget: 0 means DefaultSteps, negative
	// means unlimited.
	Steps int64
	// SnapshotEvery takes a snapshot when this many events have been
	// logged since the last one: 0 means DefaultSnapshotEvery, negative
	// means never (by count).
	SnapshotEvery int64
	// SnapshotBytes takes a snapshot when about this many bytes of log
	// (an estimate of the inputs' and outputs' encoded size) have been
	// written since the last one: 0 means DefaultSnapshotBytes, negative
	// means never (by size).
	SnapshotBytes int64
	// OnBudget says what becomes of an input whose evaluation runs out of
	// the step budget: OnBudgetReject (the default) logs it rejected;
	// OnBudgetSuspend logs it pending with its suspended computation and
	// finishes it, without a budget, before any later input (the head is
	// then a version-2 head).
	OnBudget int
}

func policy(v, def int64) uint64 {
	switch {
	case v == 0:
		return uint64(def)
	case v < 0:
		return 0
	}
	return uint64(v)
}

// CheckName reports whether name can name a database: 1 to 200 bytes of
// letters, digits, '.', '_' and '-', not starting with '.'.
func CheckName(name string) error {
	if name == "" || len(name) > 200 || name[0] == '.' {
		return fmt.Errorf("%w: %q", ErrBadName, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %q (use letters, digits, '.', '_', '-')", ErrBadName, name)
		}
	}
	return nil
}

// openDBs is the process-wide set of open databases: a database has one
// writer goroutine, so it may be open once per store per process.
var openDBs struct {
	mu sync.Mutex // guards m
	m  map[openKey]*DB
}

type openKey struct {
	st   *pagestore.Store
	name string
}

// DB is an open database. All methods are safe for concurrent use.
//
// One writer goroutine owns the database's state and head: Send, Snapshot
// and Compact hand it requests and wait for its reply, so inputs are applied
// one at a time in arrival order and concurrent senders share one commit.
type DB struct {
	st   *pagestore.Store
	name string
	ev   eval.Evaluator

	reqs    chan *request
	closing chan struct{} // closed by Close: the writer drains and exits
	done    chan struct{} // closed when the writer has exited
	once    sync.Once

	// Writer-owned (only the writer goroutine touches these after Open).
	h     *head
	state plan.Value
	pend  *pendingInput // the unresolved pending input, finished before anything else
	j     *journal
	id    plan.Digest // journal identity (see identity)
	// dirty is set while the journal holds batches that the store's head
	// does not cover yet; timer fires the checkpoint.
	dirty bool
	timer *time.Timer
	// syncq feeds the syncer goroutine, which writes journal records,
	// syncs them (one fdatasync for all it finds queued) and then answers
	// their callers. The writer prepares the next group meanwhile.
	syncq    chan syncJob
	syncDone chan struct{}
	inflight atomic.Int64  // journal records queued and not yet synced
	idle     chan struct{} // the syncer signals here after each sync (cap 1)

	// mu guards the published view of the head and the fatal error.
	mu struct {
		sync.Mutex
		h     head    // copy of the head as of the last group handed to the journal (ahead of durability by the groups being synced)
		hcid  cid.Cid // CID of the head pin in the store (last checkpoint)
		fatal error   // set when a commit failed: the database is unusable
	}
}

type reqKind uint8

const (
	reqSend reqKind = iota
	reqSnapshot
	reqCompact
	reqState
)

type request struct {
	kind     reqKind
	ctx      context.Context
	input    plan.Value
	keepHist bool
	stream   *Stream // nil for Send
	reply    chan reply
}

type reply struct {
	out   plan.Value
	event uint64
	state plan.Value
	h     head
	err   error
}

// headRef reads and decodes the head of database name.
func headRef(st *pagestore.Store, name string) (*head, plan.Digest, error) {
	if err := CheckName(name); err != nil {
		return nil, plan.Digest{}, err
	}
	d, err := st.Ref(RefPrefix + name)
	if err != nil {
		if errors.Is(err, pagestore.ErrNotFound) {
			return nil, d, fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		return nil, d, err
	}
	v, err := st.LoadPin(d)
	if err != nil {
		return nil, d, fmt.Errorf("db %q: loading head %s: %w", name, merkle.CIDOf(d), err)
	}
	h, err := decodeHead(v)
	if err != nil {
		return nil, d, fmt.Errorf("db %q: head %s: %w", name, merkle.CIDOf(d), err)
	}
	return h, d, nil
}

func nowMs() uint64 { return uint64(time.Now().UnixMilli()) }

// Create makes a new database name on st whose initial value is init (it
// is normalized first, within the step budget) and opens it.
func Create(ctx context.Context, st *pagestore.Store, name string, init plan.Value, opts CreateOptions) (*DB, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	ev, err := eval.Get(opts.Evaluator)
	if err != nil {
		return nil, err
	}
	if _, err := st.Ref(RefPrefix + name); err == nil {
		return nil, fmt.Errorf("%w: %q", ErrExists, name)
	} else if !errors.Is(err, pagestore.ErrNotFound) {
		return nil, err
	}
	steps := policy(opts.Steps, DefaultSteps)
	v := init
	if needsEval(v) {
		res, err := ev.Eval(ctx, v, eval.Options{Steps: int64(steps)})
		if err != nil {
			return nil, fmt.Errorf("db %q: normalizing the initial value: %w", name, err)
		}
		v = res.Value
	}
	initPin := plan.P(v)
	now := nowMs()
	h := &head{
		version:    FormatVersion,
		evaluator:  ev.Name(),
		steps:      steps,
		snapEvery:  policy(opts.SnapshotEvery, DefaultSnapshotEvery),
		snapBytes:  policy(opts.SnapshotBytes, DefaultSnapshotBytes),
		snapState:  initPin,
		snapTimeMs: now,
		initPin:    initPin,
		baseState:  initPin,
		createdMs:  now,
	}
	switch opts.OnBudget {
	case OnBudgetReject:
	case OnBudgetSuspend:
		h.version, h.onBudget = FormatVersionSuspend, OnBudgetSuspend
	default:
		return nil, fmt.Errorf("db %q: unknown budget policy %d", name, opts.OnBudget)
	}
	hp := plan.P(h.value())
	// A journal left by a dropped database of the same name must not be
	// replayed into this one.
	if err := removeJournal(st, name); err != nil {
		return nil, err
	}
	b := st.NewBatch()
	hc, err := b.PutPin(hp)
	if err != nil {
		return nil, fmt.Errorf("db %q: storing the head: %w", name, err)
	}
	hd, _ := merkle.DigestOf(hc)
	b.SetRef(RefPrefix+name, hd)
	if err := b.Commit(); err != nil {
		return nil, fmt.Errorf("db %q: committing: %w", name, err)
	}
	return Open(ctx, st, name)
}

// needsEval reports whether v may not be in normal form: nats, laws and
// pins always are (laws and pins are normal by construction).
func needsEval(v plan.Value) bool {
	_, ok := v.(*plan.App)
	return ok
}

// Open opens database name: it reads the head, loads the latest snapshot
// lazily (only its top pin) and re-applies the accepted inputs logged after
// it, and resumes an input left pending there. The store must be open for
// writing.
func Open(ctx context.Context, st *pagestore.Store, name string) (*DB, error) {
	if st.ReadOnly() {
		// An open database writes (journal, checkpoints): refuse now
		// rather than at the first input. Info, List, ReadLog and Verify
		// read a read-only store.
		return nil, fmt.Errorf("db %q: %w", name, pagestore.ErrReadOnly)
	}
	h, hd, err := headRef(st, name)
	if err != nil {
		return nil, err
	}
	ev, err := eval.Get(h.evaluator)
	if err != nil {
		return nil, fmt.Errorf("db %q: %w", name, err)
	}
	key := openKey{st, name}
	openDBs.mu.Lock()
	if openDBs.m == nil {
		openDBs.m = map[openKey]*DB{}
	}
	if openDBs.m[key] != nil {
		openDBs.mu.Unlock()
		return nil, fmt.Errorf("%w: %q", ErrBusy, name)
	}
	d := &DB{st: st, name: name, ev: ev, reqs: make(chan *request),
		closing: make(chan struct{}), done: make(chan struct{})}
	openDBs.m[key] = d
	openDBs.mu.Unlock()
	fail := func(err error) (*DB, error) {
		if d.j != nil {
			d.j.close()
		}
		openDBs.mu.Lock()
		delete(openDBs.m, key)
		openDBs.mu.Unlock()
		return nil, err
	}

	// Batches acknowledged from the journal but not yet checkpointed are
	// moved into the store first; then the log is whole.
	j, recs, err := openJournal(st, name)
	if err != nil {
		return fail(err)
	}
	d.j = j
	if len(recs) > 0 {
		nh, err := importJournal(st, name, h, recs)
		if err != nil {
			return fail(err)
		}
		if nh != h {
			h = nh
			if hd, err = pinDigest(plan.P(h.value())); err != nil {
				return fail(err)
			}
		}
		if err := j.reset(); err != nil {
			return fail(err)
		}
	}
	state, pend, err := recoverState(ctx, st, name, ev, h)
	if err != nil {
		return fail(err)
	}
	d.pend = pend
	if d.id, err = identity(h); err != nil {
		return fail(err)
	}
	d.h, d.state = h, state
	d.mu.h, d.mu.hcid = *h, merkle.CIDOf(hd)
	d.timer = time.NewTimer(time.Hour)
	d.timer.Stop()
	d.syncq = make(chan syncJob, 64)
	d.idle = make(chan struct{}, 1)
	d.syncDone = make(chan struct{})
	go d.syncer()
	go d.loop()
	return d, nil
}

// syncJob is a journal record to make durable and the answers to give
// once it is; or, with barrier set, a request to say when everything
// queued before it is durable.
type syncJob struct {
	rec     []byte
	off     int64
	answers []answer
	barrier chan struct{}
}

type answer struct {
	ch  chan reply
	rep reply
}

// syncer writes and syncs journal records in order; see DB.syncq.
func (d *DB) syncer() {
	defer close(d.syncDone)
	for job := range d.syncq {
		jobs := []syncJob{job}
	more:
		for job.barrier == nil {
			select {
			case job = <-d.syncq:
				jobs = append(jobs, job)
			default:
				break more
			}
		}
		var recs [][]byte
		var offs []int64
		for _, jb := range jobs {
			if jb.rec != nil {
				recs, offs = append(recs, jb.rec), append(offs, jb.off)
			}
		}
		var err error
		if len(recs) > 0 {
			if err = d.fatal(); err == nil {
				if err = d.j.write(recs, offs); err != nil {
					d.setFatal(err)
				}
			}
		}
		for _, jb := range jobs {
			for _, a := range jb.answers {
				if err != nil {
					// Not durable, so not acknowledged, rejections included.
					a.rep = reply{err: fmt.Errorf("db %q: journal write failed: %w", d.name, err)}
				}
				a.ch <- a.rep
			}
			if jb.barrier != nil {
				close(jb.barrier)
			}
		}
		// Answer first, then say idle: the writer then gives the senders
		// just answered a moment to send again before it closes the next
		// group.
		d.inflight.Add(-int64(len(recs)))
		select {
		case d.idle <- struct{}{}:
		default:
		}
	}
}

// drain waits until every journal record queued so far is durable (or
// failed: then the database is fatal).
func (d *DB) drain() {
	b := make(chan struct{})
	d.syncq <- syncJob{barrier: b}
	<-b
}

// recoverState loads the snapshot and re-applies the accepted inputs
// logged after it (a resolved pending input as its resolution says);
// replayed outputs are compared with the logged ones. It returns an input
// left pending, for Open to resume.
func recoverState(ctx context.Context, st *pagestore.Store, name string, ev eval.Evaluator, h *head) (plan.Value, *pendingInput, error) {
	state, err := h.snapState.Item()
	if err != nil {
		return nil, nil, fmt.Errorf("db %q: loading snapshot: %w", name, err)
	}
	if h.events == h.snapEvent {
		return state, nil, nil
	}
	chain, err := batchesAfter(h, h.snapEvent)
	if err != nil {
		return nil, nil, fmt.Errorf("db %q: %w", name, err)
	}
	resolved, err := resolutionsOf(chain)
	if err != nil {
		return nil, nil, fmt.Errorf("db %q: %w", name, err)
	}
	var pend *pendingInput
	for i := len(chain) - 1; i >= 0; i-- {
		ents, err := chain[i].entries()
		if err != nil {
			return nil, nil, fmt.Errorf("db %q: %w", name, err)
		}
		for _, e := range ents {
			if e.Event <= h.snapEvent {
				continue
			}
			if pend != nil {
				return nil, nil, fmt.Errorf("%w: db %q: event %d follows unresolved pending event %d", ErrCorrupt, name, e.Event, pend.event)
			}
			e := resolve(e, resolved)
			if e.Outcome == Pending {
				// Still pending: resume from the latest progress.
				pend = &pendingInput{event: e.Event, job: e.Job}
				if h.pendingJob != nil {
					pend.job = h.pendingJob
				}
				continue
			}
			if e.Outcome != Accepted {
				continue
			}
			next, err := reapply(ctx, ev, state, e, "recovery")
			if err != nil {
				if _, nd := err.(*NondeterminismError); nd {
					return nil, nil, err
				}
				return nil, nil, fmt.Errorf("db %q: %w", name, err)
			}
			state = next
		}
	}
	return state, pend, nil
}

// batchesAfter returns the batches holding events after event `after`,
// newest first, checking that they are contiguous and end at h.events.
func batchesAfter(h *head, after uint64) ([]*batch, error) {
	var chain []*batch
	want := h.events + 1 // first event of the batch after the current one
	for p := h.lastBatch; p != nil; {
		b, err := loadBatch(p)
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
		chain = append(chain, b)
		if b.first <= after+1 {
			break
		}
		p = b.prev
		if p == nil && b.first != h.baseEvent+1 {
			return nil, fmt.Errorf("%w: log starts at event %d, base is event %d", ErrCorrupt, b.first, h.baseEvent)
		}
	}
	if want > after+1 && h.events > after {
		return nil, fmt.Errorf("%w: log ends before event %d", ErrCorrupt, after+1)
	}
	return chain, nil
}

// apply runs one input against state: the input is normalized, then
// (state input) is normalized, and its last two arguments are the output
// and the next state. steps 0 means no budget.
// The returned input is its normal form when that was computed (the
// input as given otherwise); it is what the log records.
func apply(ctx context.Context, ev eval.Evaluator, state, input plan.Value, steps uint64) (nf, out, next plan.Value, err error) {
	input, budget, err := normalizeInput(ctx, ev, input, steps)
	if err != nil {
		return input, nil, nil, err
	}
	res, err := ev.Eval(ctx, plan.A(state, input), eval.Options{Steps: budget})
	if err != nil {
		return input, nil, nil, err
	}
	out, next, err = splitResult(res.Value)
	return input, out, next, err
}

// normalizeInput evaluates an input that is not in normal form, within the
// per-input budget steps (0: none), and returns it with what is left of the
// budget; running out there is a budget error.
func normalizeInput(ctx context.Context, ev eval.Evaluator, input plan.Value, steps uint64) (plan.Value, int64, error) {
	budget := int64(steps)
	if !needsEval(input) {
		return input, budget, nil
	}
	res, err := ev.Eval(ctx, input, eval.Options{Steps: budget})
	if err != nil {
		return input, 0, err
	}
	if budget > 0 {
		budget -= res.Stats.Steps
		if budget <= 0 {
			return res.Value, 0, fmt.Errorf("%w (normalizing the input)", eval.ErrBudget)
		}
	}
	return res.Value, budget, nil
}

// splitResult takes the output and the next state from a result.
func splitResult(v plan.Value) (out, next plan.Value, err error) {
	out, next, ok := runner.Split(v)
	if !ok {
		return nil, nil, ErrBadResult
	}
	return out, next, nil
}

// classify maps an apply error to a rejection kind; ok is false for errors
// that are not facts about the input (cancellation, I/O, corruption), which
// are not logged.
func classify(err error) (kind uint64, ok bool) {
	switch {
	case errors.Is(err, eval.ErrCanceled), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 0, false
	case errors.Is(err, eval.ErrCrash):
		return KindCrash, true
	case errors.Is(err, eval.ErrLoop):
		return KindLoop, true
	case errors.Is(err, eval.ErrBudget):
		return KindBudget, true
	case errors.Is(err, ErrBadResult):
		return KindShape, true
	}
	return 0, false
}

func short(v plan.Value) string {
	s, err := plan.Sprint(v, plan.PrintOptions{Limit: 200})
	if err != nil {
		return s + "..."
	}
	return s
}

// Name returns the database's name.
func (d *DB) Name() string { return d.name }

// Evaluator returns the database's evaluator.
func (d *DB) Evaluator() eval.Evaluator { return d.ev }

// Send applies input and returns its output and event number once the
// batch holding it is durable. A rejected input (crash, loop, budget, bad
// result) is logged too: the error is a *RejectedError carrying its event
// number, and the database keeps its previous value. An input whose
// evaluation was canceled through ctx, or that failed for a reason that is
// not a property of the input (a pin that cannot be loaded), is not logged.
func (d *DB) Send(ctx context.Context, input plan.Value) (output plan.Value, event uint64, err error) {
	r, err := d.do(ctx, &request{kind: reqSend, ctx: ctx, input: input})
	return r.out, r.event, err
}

func (d *DB) do(ctx context.Context, r *request) (reply, error) {
	if err := d.enqueue(ctx, r); err != nil {
		return reply{}, err
	}
	return d.wait(r)
}

// enqueue hands r to the writer; when it returns nil the writer has r,
// after every request enqueued before it by the same goroutine.
func (d *DB) enqueue(ctx context.Context, r *request) error {
	r.reply = make(chan reply, 1)
	select {
	case d.reqs <- r:
		return nil
	case <-d.closing:
		return d.closedErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait returns the writer's answer to an enqueued request. Once the writer
// has a request it always answers (evaluation sees ctx, commits are
// short), so this waits for the answer, not for ctx.
func (d *DB) wait(r *request) (reply, error) {
	select {
	case rep := <-r.reply:
		return rep, rep.err
	case <-d.done:
		select {
		case rep := <-r.reply:
			return rep, rep.err
		default:
			return reply{}, d.closedErr()
		}
	}
}

func (d *DB) closedErr() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mu.fatal != nil {
		return fmt.Errorf("%w (after a failed commit: %w)", ErrClosed, d.mu.fatal)
	}
	return ErrClosed
}

// Snapshot pins the current state now (if anything changed since the last
// snapshot) and returns the event number it covers and its CID.
func (d *DB) Snapshot(ctx context.Context) (event uint64, c cid.Cid, err error) {
	rep, err := d.do(ctx, &request{kind: reqSnapshot, ctx: ctx})
	if err != nil {
		return 0, cid.Undef, err
	}
	sd, _ := rep.h.snapState.CachedDigest()
	return rep.h.snapEvent, merkle.CIDOf(sd), nil
}

// Compact drops the log batches before the latest snapshot: the batches
// after it are rewritten into a chain that starts there, and the snapshot
// becomes the base that replay starts from. With keepHistory the old chain
// stays reachable from the ref "db-history/NAME/N" (N is the snapshot's
// event); without it the old batches are garbage for `pstore gc`.
func (d *DB) Compact(ctx context.Context, keepHistory bool) error {
	_, err := d.do(ctx, &request{kind: reqCompact, ctx: ctx, keepHist: keepHistory})
	return err
}

// Close stops the writer after it has answered every request it took and
// releases the name. It does not close the store.
func (d *DB) Close() error {
	d.once.Do(func() {
		close(d.closing)
		<-d.done
		openDBs.mu.Lock()
		delete(openDBs.m, openKey{d.st, d.name})
		openDBs.mu.Unlock()
	})
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mu.fatal
}

// openBatch is the group the writer is filling: inputs applied (the state
// has moved on) but not yet handed to the journal.
type openBatch struct {
	inputs, outcomes []plan.Value
	answers          []answer // for the logged inputs, given once durable
	logBytes         uint64
	prevState        plan.Value // the state before the group (rollback)
	pending          bool       // the group ends with a pending input
}

// loop is the writer goroutine. It applies each input as it arrives and
// closes the open group when the syncer is idle (or the group is full):
// while one group's journal record is being synced, the next group is
// being evaluated, and it grows as large as the sync is slow.
func (d *DB) loop() {
	defer close(d.done)
	defer d.j.close()
	var ob openBatch
	for {
		if d.pend != nil && d.fatal() == nil {
			// A pending input is finished before any other request.
			d.flush(&ob)
			if !d.runPending() {
				d.checkpoint()
				close(d.syncq)
				<-d.syncDone
				return
			}
			continue
		}
		if len(ob.inputs) > 0 && (d.inflight.Load() == 0 || len(ob.inputs) >= maxBatch) {
			d.flush(&ob)
		}
		select {
		case r := <-d.reqs:
			if r.kind != reqSend {
				d.flush(&ob)
				d.control(r)
				continue
			}
			d.applyReq(&ob, r)
			d.gather(&ob)
		case <-d.idle:
			d.gather(&ob)
		case <-d.timer.C:
			d.flush(&ob)
			d.checkpoint()
		case <-d.closing:
			d.flush(&ob)
			d.checkpoint()
			close(d.syncq)
			<-d.syncDone
			return
		}
	}
}

// gather takes the requests already waiting into the open group. Senders
// answered by the previous commit are about to send again; yielding a few
// times lets them join this group instead of forming a small one of their
// own (a group's sync costs the same whatever its size).
func (d *DB) gather(ob *openBatch) {
	for spins := 0; spins < 4 && len(ob.inputs) < maxBatch && d.pend == nil; spins++ {
		n := len(ob.inputs)
	drain:
		for len(ob.inputs) < maxBatch && d.pend == nil {
			select {
			case r := <-d.reqs:
				if r.kind != reqSend {
					d.flush(ob)
					d.control(r)
					break drain
				}
				d.applyReq(ob, r)
			default:
				break drain
			}
		}
		if len(ob.inputs) == n && spins > 0 {
			break
		}
		runtime.Gosched()
	}
}

func (d *DB) fatal() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mu.fatal
}

func (d *DB) setFatal(err error) {
	d.mu.Lock()
	if d.mu.fatal == nil {
		d.mu.fatal = err
	}
	d.mu.Unlock()
}

// applyReq applies one input into the open group. Inputs that are not
// logged (canceled, I/O errors, stopped streams) are answered at once;
// logged ones when their group is durable.
func (d *DB) applyReq(ob *openBatch, r *request) {
	if err := d.fatal(); err != nil {
		r.reply <- reply{err: d.closedErr()}
		return
	}
	if s := r.stream; s != nil && s.stopOnError && s.failed {
		r.reply <- reply{err: ErrStopped}
		return
	}
	if err := r.ctx.Err(); err != nil {
		r.stopStream()
		r.reply <- reply{err: err}
		return
	}
	if len(ob.inputs) == 0 {
		ob.prevState = d.state
	}
	event := d.h.events + uint64(len(ob.inputs)) + 1
	var input, out, next plan.Value
	var job *plan.Pin
	var err error
	if d.h.onBudget == OnBudgetSuspend {
		input, out, next, job, err = applySuspendable(r.ctx, d.ev, d.state, r.input, d.h.steps)
	} else {
		input, out, next, err = apply(r.ctx, d.ev, d.state, r.input, d.h.steps)
	}
	if err == nil && job != nil {
		// Logged pending; the group ends here and the writer finishes the
		// computation before it takes another request. The sender is
		// answered with an error, so a stopping stream stops here, as
		// pstore db run does.
		r.stopStream()
		ob.inputs = append(ob.inputs, input)
		ob.outcomes = append(ob.outcomes, pendingOutcome(job, 0))
		ob.logBytes += approxSize(input)
		ob.pending = true
		// flush names the job in the answer once it is committed (its
		// digest is then known).
		ob.answers = append(ob.answers, answer{r.reply, reply{event: event, err: ErrPending}})
		d.pend = &pendingInput{event: event, job: job}
		return
	}
	if err != nil {
		r.stopStream()
		kind, ok := classify(err)
		if !ok {
			r.reply <- reply{err: err}
			return
		}
		msg := err.Error()
		ob.inputs = append(ob.inputs, input)
		ob.outcomes = append(ob.outcomes, rejectedOutcome(kind, msg))
		ob.logBytes += approxSize(input) + uint64(len(msg))
		ob.answers = append(ob.answers, answer{r.reply, reply{event: event, err: &RejectedError{Event: event, Kind: kind, Err: err}}})
		return
	}
	ob.inputs = append(ob.inputs, input)
	ob.outcomes = append(ob.outcomes, okOutcome(out))
	ob.logBytes += approxSize(input) + approxSize(out)
	ob.answers = append(ob.answers, answer{r.reply, reply{out: out, event: event}})
	d.state = next
}

// flush closes the open group: one batch, made durable through the
// journal (answered by the syncer) or, when a snapshot is due, through a
// page-store commit (answered here).
func (d *DB) flush(ob *openBatch) {
	if len(ob.inputs) == 0 {
		return
	}
	g := *ob
	*ob = openBatch{}
	h := *d.h
	b := &batch{prev: h.lastBatch, first: h.events + 1, inputs: g.inputs, outcomes: g.outcomes, timeMs: nowMs()}
	h.events += uint64(len(g.inputs))
	h.logBytes += g.logBytes
	h.batches++
	snap := (h.snapEvery > 0 && h.events-h.snapEvent >= h.snapEvery) ||
		(h.snapBytes > 0 && h.logBytes >= h.snapBytes)
	var err error
	if g.pending || snap {
		// One page-store commit now, once the journal is durable: a
		// snapshot, or a pending input, whose job is committed with the
		// batch (and no snapshot while an event is unresolved).
		if g.pending {
			h.pendingJob = d.pend.job
		}
		d.drain()
		if err = d.fatal(); err == nil {
			err = d.commit(&h, b, snap && !g.pending)
		}
		if err == nil {
			if g.pending { // the group's last input
				a := &g.answers[len(g.answers)-1]
				a.rep.err = fmt.Errorf("%w: event %d, suspended computation %s", ErrPending, a.rep.event, pinCID(d.pend.job))
			}
			for _, a := range g.answers {
				a.ch <- a.rep
			}
			return
		}
		if g.pending {
			d.pend = nil
		}
	} else if err = d.journalGroup(&h, b, g.answers); err == nil {
		return
	}
	d.state = g.prevState
	d.setFatal(err)
	for _, a := range g.answers {
		a.ch <- reply{err: fmt.Errorf("db %q: commit failed: %w", d.name, err)}
	}
}

// journalGroup queues batch b for the journal with the answers to give
// once it is durable, and adopts h; the store's head catches up at the
// next checkpoint. On error nothing was queued.
func (d *DB) journalGroup(h *head, b *batch, answers []answer) error {
	batchPin := plan.P(b.value())
	var bodies []jbody
	skip := func(dg plan.Digest) bool { return d.j.has(dg) || d.st.Has(dg) }
	err := merkle.Walk(batchPin, skip, func(_ *plan.Pin, dg plan.Digest, body []byte) error {
		bodies = append(bodies, jbody{d: dg, body: body})
		return nil
	})
	if err != nil {
		return fmt.Errorf("encoding log batch: %w", err)
	}
	rec, off, err := d.j.add(d.id, b.first, len(b.inputs), bodies)
	if err != nil {
		return err
	}
	d.inflight.Add(1)
	d.syncq <- syncJob{rec: rec, off: off, answers: answers}
	h.lastBatch = batchPin
	d.h = h
	d.mu.Lock()
	d.mu.h = *h
	d.mu.Unlock()
	if !d.dirty {
		d.dirty = true
		d.timer.Reset(checkpointAfter)
	}
	if d.j.size >= checkpointBytes {
		// A failure here makes the database fatal; the group itself is
		// answered by the syncer.
		d.checkpoint()
	}
	return nil
}

// checkpoint moves the journal into the store: one commit of the journaled
// bodies and the current head, then the journal is emptied.
func (d *DB) checkpoint() error {
	if !d.dirty {
		return nil
	}
	// The journal's records must be written before it is truncated.
	d.drain()
	if err := d.fatal(); err != nil {
		return err
	}
	h := *d.h
	if err := d.commit(&h, nil, false); err != nil {
		d.setFatal(err)
		return err
	}
	return nil
}

// commit makes batch b (may be nil) and head h durable in one store commit,
// together with everything journaled since the last checkpoint and a
// snapshot of the current state when snap is set, then adopts h.
func (d *DB) commit(h *head, b *batch, snap bool) error {
	var snapPin *plan.Pin
	sb := d.st.NewBatch()
	for _, jb := range d.j.pending {
		if err := sb.PutBody(jb.d, jb.body); err != nil {
			return fmt.Errorf("storing journaled batches: %w", err)
		}
	}
	if snap {
		snapPin = plan.P(d.state)
		if _, err := sb.PutPin(snapPin); err != nil {
			return fmt.Errorf("storing snapshot: %w", err)
		}
		sd, _ := snapPin.CachedDigest()
		h.snapEvent, h.snapState, h.snapTimeMs, h.logBytes = h.events, snapPin, nowMs(), 0
		if b != nil {
			b.stateAfter, b.hasState = sd, true
		}
	}
	var batchPin *plan.Pin
	if b != nil {
		batchPin = plan.P(b.value())
		if _, err := sb.PutPin(batchPin); err != nil {
			return fmt.Errorf("storing log batch: %w", err)
		}
		h.lastBatch = batchPin
	}
	hp := plan.P(h.value())
	hc, err := sb.PutPin(hp)
	if err != nil {
		return fmt.Errorf("storing head: %w", err)
	}
	hd, _ := hp.CachedDigest()
	sb.SetRef(RefPrefix+d.name, hd)
	if err := sb.Commit(); err != nil {
		return err
	}
	if err := d.j.reset(); err != nil {
		return err
	}
	if d.dirty {
		d.dirty = false
		d.timer.Stop()
	}
	// Keep references, not contents: the in-memory log and old states can
	// then be collected, and a big state is faulted back in lazily.
	if h.lastBatch != nil {
		bd, err := pinDigest(h.lastBatch)
		if err != nil {
			return err
		}
		h.lastBatch = plan.NewPinRef(bd, d.st)
	}
	if snapPin != nil {
		sd, _ := snapPin.CachedDigest()
		h.snapState = plan.NewPinRef(sd, d.st)
		if v, err := h.snapState.Item(); err == nil {
			d.state = v
		}
	}
	d.h = h
	d.mu.Lock()
	d.mu.h, d.mu.hcid = *h, hc
	d.mu.Unlock()
	return nil
}

// control runs a snapshot, compaction or state request.
func (d *DB) control(r *request) {
	if err := d.fatal(); err != nil {
		r.reply <- reply{err: d.closedErr()}
		return
	}
	// Every control request sees the log in the store.
	if err := d.checkpoint(); err != nil {
		r.reply <- reply{err: err}
		return
	}
	switch r.kind {
	case reqSnapshot:
		if d.h.snapEvent != d.h.events {
			h := *d.h
			if err := d.commit(&h, nil, true); err != nil {
				d.setFatal(err)
				r.reply <- reply{err: err}
				return
			}
		}
		r.reply <- reply{h: *d.h}
	case reqCompact:
		r.reply <- reply{err: d.compact(r.keepHist)}
	case reqState:
		r.reply <- reply{state: d.state, h: *d.h}
	}
}

// compact rewrites the log so that it starts at the latest snapshot.
func (d *DB) compact(keepHist bool) error {
	h := *d.h
	if h.snapEvent == h.baseEvent {
		return nil
	}
	chain, err := batchesAfter(&h, h.snapEvent)
	if err != nil {
		return err
	}
	// The batch that ends at the snapshot (the new chain's cut point).
	var cut *plan.Pin
	if len(chain) == 0 {
		cut = h.lastBatch
	} else {
		cut = chain[len(chain)-1].prev
	}
	var prev *plan.Pin
	sb := d.st.NewBatch()
	for i := len(chain) - 1; i >= 0; i-- {
		nb := *chain[i]
		nb.prev = prev
		p := plan.P(nb.value())
		if _, err := sb.PutPin(p); err != nil {
			return err
		}
		prev = p
	}
	h.lastBatch = prev
	h.baseEvent = h.snapEvent
	h.baseState = h.snapState
	h.batches = uint64(len(chain))
	hp := plan.P(h.value())
	hc, err := sb.PutPin(hp)
	if err != nil {
		return err
	}
	hd, _ := hp.CachedDigest()
	sb.SetRef(RefPrefix+d.name, hd)
	if keepHist && cut != nil {
		cd, ok := cut.CachedDigest()
		if !ok {
			if cd, err = merkle.Digest(cut); err != nil {
				return err
			}
		}
		sb.SetRef(fmt.Sprintf("%s%s/%d", HistoryPrefix, d.name, h.snapEvent), cd)
	}
	if err := sb.Commit(); err != nil {
		d.setFatal(err)
		return err
	}
	if prev != nil {
		pd, _ := prev.CachedDigest()
		h.lastBatch = plan.NewPinRef(pd, d.st)
	}
	d.h = &h
	d.mu.Lock()
	d.mu.h, d.mu.hcid = h, hc
	d.mu.Unlock()
	return nil
}

// currentState returns the state and head as the writer has them now
// (after every request sent before this call).
func (d *DB) currentState(ctx context.Context) (plan.Value, head, error) {
	rep, err := d.do(ctx, &request{kind: reqState, ctx: ctx})
	return rep.state, rep.h, err
}

// State returns the database's current value.
func (d *DB) State(ctx context.Context) (plan.Value, error) {
	v, _, err := d.currentState(ctx)
	return v, err
}

// ---- status, list, drop ----

// Status describes a database.
type Status struct {
	Name                string    `json:"name"`
	Evaluator           string    `json:"evaluator"`
	Steps               uint64    `json:"steps"` // 0: unlimited
	Events              uint64    `json:"events"`
	Batches             uint64    `json:"batches"` // in the chain since the base
	SnapshotEvent       uint64    `json:"snapshot_event"`
	SnapshotCID         string    `json:"snapshot_cid"`
	SnapshotTime        time.Time `json:"snapshot_time"`
	EventsSinceSnapshot uint64    `json:"events_since_snapshot"`
	LogBytesSince       uint64    `json:"log_bytes_since_snapshot"` // estimate
	BaseEvent           uint64    `json:"base_event"`               // the log starts after it
	SnapshotEvery       uint64    `json:"snapshot_every"`
	SnapshotBytes       uint64    `json:"snapshot_bytes"`
	HeadCID             string    `json:"head_cid"`
	InitCID             string    `json:"init_cid"`
	Created             time.Time `json:"created"`
	// OnBudget is "reject" or "suspend" (CreateOptions.OnBudget).
	OnBudget string `json:"on_budget"`
	// PendingJob is the CID of the suspended computation of an unresolved
	// pending input, as of the head (empty when none).
	PendingJob string `json:"pending_job,omitempty"`
}

func pinCID(p *plan.Pin) string {
	if p == nil {
		return ""
	}
	d, ok := p.CachedDigest()
	if !ok {
		var err error
		if d, err = merkle.Digest(p); err != nil {
			return ""
		}
	}
	return merkle.CIDOf(d).String()
}

func statusOf(name string, h *head, hc cid.Cid) Status {
	st := Status{
		Name: name, Evaluator: h.evaluator, Steps: h.steps, Events: h.events, Batches: h.batches,
		SnapshotEvent: h.snapEvent, SnapshotCID: pinCID(h.snapState),
		SnapshotTime:        time.UnixMilli(int64(h.snapTimeMs)).UTC(),
		EventsSinceSnapshot: h.events - h.snapEvent, LogBytesSince: h.logBytes,
		BaseEvent: h.baseEvent, SnapshotEvery: h.snapEvery, SnapshotBytes: h.snapBytes,
		HeadCID: hc.String(), InitCID: pinCID(h.initPin),
		Created:  time.UnixMilli(int64(h.createdMs)).UTC(),
		OnBudget: "reject",
	}
	if h.onBudget == OnBudgetSuspend {
		st.OnBudget = "suspend"
	}
	if h.pendingJob != nil {
		st.PendingJob = pinCID(h.pendingJob)
	}
	return st
}

// Status returns the database's status as of the last group handed to the
// journal: it may count events whose group is still being synced (their
// senders have not been answered yet).
func (d *DB) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.mu.h
	return statusOf(d.name, &h, d.mu.hcid)
}

// Info returns the status of database name from its head on st (the store
// may be read-only; another process may be writing).
func Info(st *pagestore.Store, name string) (Status, error) {
	h, hd, err := headRef(st, name)
	if err != nil {
		return Status{}, err
	}
	return statusOf(name, h, merkle.CIDOf(hd)), nil
}

// List returns the status of every database on st, sorted by name.
func List(st *pagestore.Store) ([]Status, error) {
	refs, err := st.Refs()
	if err != nil {
		return nil, err
	}
	var names []string
	for n := range refs {
		if strings.HasPrefix(n, RefPrefix) {
			names = append(names, n[len(RefPrefix):])
		}
	}
	sort.Strings(names)
	out := make([]Status, 0, len(names))
	for _, n := range names {
		s, err := Info(st, n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Drop removes database name: its ref and its history refs. Its pins stay
// on the store until garbage collection. It must not be open.
func Drop(st *pagestore.Store, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	openDBs.mu.Lock()
	busy := openDBs.m[openKey{st, name}] != nil
	openDBs.mu.Unlock()
	if busy {
		return fmt.Errorf("%w: %q (close it before dropping it)", ErrBusy, name)
	}
	refs, err := st.Refs()
	if err != nil {
		return err
	}
	if _, ok := refs[RefPrefix+name]; !ok {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	b := st.NewBatch()
	b.DeleteRef(RefPrefix + name)
	for n := range refs {
		if strings.HasPrefix(n, HistoryPrefix+name+"/") {
			b.DeleteRef(n)
		}
	}
	if err := b.Commit(); err != nil {
		return err
	}
	return removeJournal(st, name)
}

// Store returns the store the database lives on.
func (d *DB) Store() *pagestore.Store { return d.st }

// Stream submits inputs without waiting for each one's answer, for callers
// that feed a database a sequence (such as `pstore db run` reading a pipe):
// inputs submitted through one Stream by one goroutine are applied in
// submission order, and many of them share each group commit. With
// stopOnError, once one input of the stream fails (rejected, or not
// applied for any other reason) the stream's later inputs are not applied
// at all: they are answered with ErrStopped and not logged, exactly as if
// the caller had stopped at the failure.
type Stream struct {
	d           *DB
	stopOnError bool
	failed      bool // touched only by the writer goroutine
}

// NewStream returns a stream of inputs to d.
func (d *DB) NewStream(stopOnError bool) *Stream {
	return &Stream{d: d, stopOnError: stopOnError}
}

// Receipt is a submitted input; Wait gives its answer.
type Receipt struct {
	d *DB
	r *request
}

// Submit hands input to the writer and returns without waiting for it to
// be applied or durable. It blocks only while the writer is busy taking
// earlier requests.
func (s *Stream) Submit(ctx context.Context, input plan.Value) (*Receipt, error) {
	r := &request{kind: reqSend, ctx: ctx, input: input, stream: s}
	if err := s.d.enqueue(ctx, r); err != nil {
		return nil, err
	}
	return &Receipt{d: s.d, r: r}, nil
}

// Wait returns what Send would have: the output and event once the input's
// batch is durable, or its error.
func (p *Receipt) Wait() (output plan.Value, event uint64, err error) {
	rep, err := p.d.wait(p.r)
	return rep.out, rep.event, err
}

// stopStream marks r's stream as failed (writer goroutine only).
func (r *request) stopStream() {
	if r.stream != nil {
		r.stream.failed = true
	}
}
