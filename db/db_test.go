package db

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"pstore/eval"
	_ "pstore/eval/pallas"
	_ "pstore/eval/plan4"
	"pstore/merkle"
	"pstore/pagestore"
	"pstore/plan"
)

// counterPallas is a counter database in the pallas dialect: state n,
// (DB input) = (0 (n+1) (counter (n+1))). Let $3 = (3 $1) (increment, the
// opcode quoted); the result is ((0 $3) ($0 $3)).
const counterPallas = `({"counter" 2 (1 (0 (2 3) 1) (0 (0 (2 0) 3) (0 0 3)))} 0)`

// counterPlan4 is the same machine in the plan4 dialect: <2> increments,
// (0 x) quotes, and a nat head is data.
const counterPlan4 = `({"counter" 2 (1 (0 <2> 1) (0 (0 (0 0) 3) (0 0 3)))} 0)`

// echoPallas keeps a list of its inputs: state xs, (DB x) = (0 x (echo
// (cons x xs))) where cons is the record {"cons" 3 0}.
const echoPallas = `({"echo" 2 (0 (0 (2 0) 2) (0 0 (0 (0 {"cons" 3 0} 2) 1)))} 0)`

// crashyPallas applies its input to 0 and outputs the result: inputs that
// crash when applied are rejected. State is unchanged: (DB x) = (0 (x 0) DB).
const crashyPallas = `{"crashy" 1 (0 (0 (2 0) (0 1 (2 0))) 0)}`

// loopPallas never finishes: (DB x) = (DB x) forever.
const loopPallas = `{"loop" 1 (0 0 1)}`

func mustParse(t testing.TB, s string) plan.Value {
	t.Helper()
	v, err := plan.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

// mustCreate creates database name on st, or fails the test.
func mustCreate(t testing.TB, st *pagestore.Store, name string, init plan.Value, o CreateOptions) *DB {
	t.Helper()
	d, err := Create(context.Background(), st, name, init, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newStore(t testing.TB, sync bool) *pagestore.Store {
	t.Helper()
	st, err := pagestore.Open(t.TempDir(), pagestore.Options{Create: true, NoSync: !sync})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func reopenStore(t testing.TB, st *pagestore.Store) *pagestore.Store {
	t.Helper()
	dir := st.Dir()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := pagestore.Open(dir, pagestore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	return st2
}

func nat(t testing.TB, v plan.Value) uint64 {
	t.Helper()
	n, ok := v.(plan.Nat)
	if !ok {
		t.Fatalf("%s is not a nat", plan.String(v))
	}
	u, ok := n.Uint64()
	if !ok {
		t.Fatalf("%s too big", plan.String(v))
	}
	return u
}

func send(t testing.TB, d *DB, in plan.Value) (plan.Value, uint64) {
	t.Helper()
	out, ev, err := d.Send(context.Background(), in)
	if err != nil {
		t.Fatalf("send %s: %v", plan.String(in), err)
	}
	return out, ev
}

func collectLog(t testing.TB, d *DB, from uint64) []Entry {
	t.Helper()
	var out []Entry
	for e, err := range d.Log(from) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestCounterBasics(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	d := mustCreate(t, st, "c", mustParse(t, counterPallas), CreateOptions{SnapshotEvery: 5})
	for i := uint64(1); i <= 12; i++ {
		out, ev := send(t, d, plan.N(100+i))
		if nat(t, out) != i || ev != i {
			t.Fatalf("send %d: out %s event %d", i, plan.String(out), ev)
		}
	}
	s := d.Status()
	if s.Events != 12 || s.SnapshotEvent != 10 || s.EventsSinceSnapshot != 2 || s.Evaluator != "pallas" {
		t.Fatalf("status %+v", s)
	}
	ents := collectLog(t, d, 4)
	if len(ents) != 9 || ents[0].Event != 4 || nat(t, ents[0].Input) != 104 || nat(t, ents[0].Output) != 4 || ents[0].Outcome != Accepted {
		t.Fatalf("log from 4: %+v", ents)
	}
	ev, c, err := d.Snapshot(ctx)
	if err != nil || ev != 12 {
		t.Fatalf("snapshot: %d %v %v", ev, c, err)
	}
	rep, err := d.ReplayVerify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accepted != 12 || rep.Snapshots < 2 || !rep.CheckedLive {
		t.Fatalf("verify report %+v", rep)
	}
	if _, err := Open(ctx, st, "c"); !errors.Is(err, ErrBusy) {
		t.Fatalf("second open: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Send(ctx, plan.N(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
	if _, err := Create(ctx, st, "c", plan.N(0), CreateOptions{}); !errors.Is(err, ErrExists) {
		t.Fatalf("create twice: %v", err)
	}

	// Reopen from a fresh store handle: recovery from the snapshot.
	st = reopenStore(t, st)
	d, err = Open(ctx, st, "c")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if out, ev := send(t, d, plan.N(0)); nat(t, out) != 13 || ev != 13 {
		t.Fatalf("after reopen: %s %d", plan.String(out), ev)
	}
}

func TestRecoveryFromSnapshotAndTail(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	d := mustCreate(t, st, "e", mustParse(t, echoPallas), CreateOptions{SnapshotEvery: 7})
	for i := uint64(1); i <= 25; i++ {
		send(t, d, plan.N(i*3))
	}
	want, err := d.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantD, _ := stateDigest(want)
	d.Close()
	st = reopenStore(t, st)
	s, err := Info(st, "e")
	if err != nil {
		t.Fatal(err)
	}
	if s.SnapshotEvent != 21 || s.Events != 25 {
		t.Fatalf("info %+v", s)
	}
	before := st.PinsLoaded()
	d, err = Open(ctx, st, "e")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// head + snapshot + the one batch holding events 22..25 (no sends in
	// between, so each batch here holds one event: 4 batches).
	if n := st.PinsLoaded() - before; n > 8 {
		t.Errorf("open loaded %d pins", n)
	}
	got, _ := d.State(ctx)
	gotD, _ := stateDigest(got)
	if gotD != wantD {
		t.Fatalf("recovered state %s, want %s", merkle.CIDOf(gotD), merkle.CIDOf(wantD))
	}
	out, ev := send(t, d, plan.N(7))
	if nat(t, out) != 7 || ev != 26 {
		t.Fatal(out, ev)
	}
	if _, err := d.ReplayVerify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRejectedInputs(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	d := mustCreate(t, st, "x", mustParse(t, crashyPallas), CreateOptions{Steps: 10_000})
	// {"k" 2 1} applied to 0 is a closure: accepted.
	if out, ev := send(t, d, mustParse(t, `{"k" 2 1}`)); ev != 1 || !plan.Equal(out, mustParse(t, `({"k" 2 1} 0)`)) {
		t.Fatalf("got %s %d", plan.String(out), ev)
	}
	// 7 applied to 0 crashes.
	_, ev, err := d.Send(ctx, plan.N(7))
	var rej *RejectedError
	if !errors.As(err, &rej) || !errors.Is(err, ErrRejected) || !errors.Is(err, eval.ErrCrash) || ev != 2 || rej.Kind != KindCrash {
		t.Fatalf("crash: event %d err %v", ev, err)
	}
	// A loop: ({"L" 1 (0 0 1)} ...) calls itself forever; the budget stops it.
	_, ev, err = d.Send(ctx, mustParse(t, `{"L" 1 (0 0 1)}`))
	if !errors.Is(err, eval.ErrBudget) && !errors.Is(err, eval.ErrLoop) || ev != 3 {
		t.Fatalf("loop: event %d err %v", ev, err)
	}
	// An input that itself has no normal form is rejected as well.
	_, ev, err = d.Send(ctx, mustParse(t, `(5 0)`))
	if !errors.Is(err, eval.ErrCrash) || ev != 4 {
		t.Fatalf("bad input: event %d err %v", ev, err)
	}
	// A result of the wrong shape.
	d2 := mustCreate(t, st, "shape", mustParse(t, `{"id" 1 1}`), CreateOptions{})
	_, ev, err = d2.Send(ctx, plan.N(9))
	if !errors.Is(err, ErrBadResult) || ev != 1 {
		t.Fatalf("shape: %d %v", ev, err)
	}
	d2.Close()
	// The database is not stuck.
	if out, ev := send(t, d, mustParse(t, `{"k" 2 2}`)); ev != 5 || !plan.Equal(out, mustParse(t, `({"k" 2 2} 0)`)) {
		t.Fatalf("after rejections: %s %d", plan.String(out), ev)
	}
	ents := collectLog(t, d, 1)
	if len(ents) != 5 {
		t.Fatalf("%d entries", len(ents))
	}
	for i, want := range []Outcome{Accepted, Rejected, Rejected, Rejected, Accepted} {
		if ents[i].Outcome != want {
			t.Fatalf("event %d: %v, want %v", i+1, ents[i].Outcome, want)
		}
	}
	if ents[1].Kind != KindCrash || ents[1].Error == "" {
		t.Fatalf("rejection record %+v", ents[1])
	}
	rep, err := d.ReplayVerify(ctx)
	if err != nil || rep.Rejected != 3 || rep.Accepted != 2 {
		t.Fatalf("verify %+v %v", rep, err)
	}
	d.Close()
	// Recovery skips the rejected inputs too (the loop would hang without
	// a budget if it were re-run).
	d, err = Open(ctx, st, "x")
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := Verify(ctx, st, "x"); err != nil {
		t.Fatal(err)
	}
}

func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, true)
	d := mustCreate(t, st, "g", mustParse(t, counterPallas), CreateOptions{SnapshotEvery: 500})
	const senders, each = 32, 40
	var mu sync.Mutex
	seen := map[uint64]uint64{} // event -> output
	var wg sync.WaitGroup
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				out, ev, err := d.Send(ctx, plan.N(1))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[ev] = nat(t, out)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != senders*each {
		t.Fatalf("%d distinct events", len(seen))
	}
	for ev, out := range seen {
		if ev != out {
			t.Fatalf("event %d got output %d", ev, out)
		}
	}
	s := d.Status()
	if s.Batches >= senders*each {
		t.Errorf("no grouping: %d batches for %d events", s.Batches, s.Events)
	}
	t.Logf("%d events in %d batches", s.Events, s.Batches)
	if _, err := d.ReplayVerify(ctx); err != nil {
		t.Fatal(err)
	}
	d.Close()
}

func TestCompactDropList(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	d := mustCreate(t, st, "a", mustParse(t, echoPallas), CreateOptions{SnapshotEvery: -1, SnapshotBytes: -1})
	for i := uint64(1); i <= 10; i++ {
		send(t, d, plan.N(i))
	}
	if ev, _, err := d.Snapshot(ctx); err != nil || ev != 10 {
		t.Fatal(ev, err)
	}
	for i := uint64(11); i <= 14; i++ {
		send(t, d, plan.N(i))
	}
	if err := d.Compact(ctx, true); err != nil {
		t.Fatal(err)
	}
	s := d.Status()
	if s.BaseEvent != 10 || s.Batches != 4 || s.Events != 14 {
		t.Fatalf("after compact %+v", s)
	}
	ents := collectLog(t, d, 1)
	if len(ents) != 4 || ents[0].Event != 11 {
		t.Fatalf("log after compact starts at %d (%d entries)", ents[0].Event, len(ents))
	}
	rep, err := d.ReplayVerify(ctx)
	if err != nil || rep.FromEvent != 10 || rep.Accepted != 4 {
		t.Fatalf("verify after compact %+v %v", rep, err)
	}
	refs, _ := st.Refs()
	if _, ok := refs[HistoryPrefix+"a/10"]; !ok {
		t.Fatalf("no history ref: %v", refs)
	}
	send(t, d, plan.N(15))
	d.Close()
	d, err = Open(ctx, st, "a")
	if err != nil {
		t.Fatal(err)
	}
	if out, ev := send(t, d, plan.N(16)); ev != 16 || nat(t, out) != 16 {
		t.Fatal(out, ev)
	}
	if err := Drop(st, "a"); !errors.Is(err, ErrBusy) {
		t.Fatalf("drop while open: %v", err)
	}
	d.Close()
	if _, err := Create(ctx, st, "b", plan.N(0), CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	list, err := List(st)
	if err != nil || len(list) != 2 || list[0].Name != "a" || list[1].Name != "b" {
		t.Fatalf("list %+v %v", list, err)
	}
	if err := Drop(st, "a"); err != nil {
		t.Fatal(err)
	}
	refs, _ = st.Refs()
	for n := range refs {
		if n != RefPrefix+"b" {
			t.Fatalf("ref %q left after drop", n)
		}
	}
	if _, err := Open(ctx, st, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if err := Drop(st, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := Create(ctx, st, "bad/name", plan.N(0), CreateOptions{}); !errors.Is(err, ErrBadName) {
		t.Fatal(err)
	}
}

// flaky wraps pallas; when drift is set, every output nat is one more.
type flaky struct {
	mu    sync.Mutex
	drift bool
}

func (f *flaky) Name() string    { return "dbtest-flaky" }
func (f *flaky) Dialect() string { return "pallas" }
func (f *flaky) Eval(ctx context.Context, v plan.Value, o eval.Options) (eval.Result, error) {
	e, _ := eval.Get("pallas")
	r, err := e.Eval(ctx, v, o)
	f.mu.Lock()
	drift := f.drift
	f.mu.Unlock()
	if err != nil || !drift {
		return r, err
	}
	if a, ok := r.Value.(*plan.App); ok && len(a.Args) == 2 {
		if n, ok := a.Args[0].(plan.Nat); ok {
			r.Value = plan.A(a.Fun, n.Inc(), a.Args[1])
		}
	}
	return r, nil
}

var flakyEval = &flaky{}

func init() { eval.Register(flakyEval) }

func TestNondeterminismDetected(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	d := mustCreate(t, st, "n", mustParse(t, counterPallas), CreateOptions{Evaluator: "dbtest-flaky", SnapshotEvery: 4})
	defer d.Close()
	for i := 0; i < 6; i++ {
		send(t, d, plan.N(0))
	}
	if _, err := d.ReplayVerify(ctx); err != nil {
		t.Fatal(err)
	}
	flakyEval.mu.Lock()
	flakyEval.drift = true
	flakyEval.mu.Unlock()
	defer func() { flakyEval.mu.Lock(); flakyEval.drift = false; flakyEval.mu.Unlock() }()
	_, err := d.ReplayVerify(ctx)
	var nd *NondeterminismError
	if !errors.As(err, &nd) || nd.Event != 1 || nd.What != "output" {
		t.Fatalf("got %v", err)
	}
}

// TestTamperedLog rewrites a logged output (as a forged head would) and
// expects replay to name the event.
func TestTamperedLog(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	d := mustCreate(t, st, "t", mustParse(t, counterPallas), CreateOptions{SnapshotEvery: -1})
	for i := 0; i < 5; i++ {
		send(t, d, plan.N(0))
	}
	d.Close()
	h, _, err := headRef(st, "t")
	if err != nil {
		t.Fatal(err)
	}
	// Rebuild the chain with event 3's output changed to 99.
	ds, err := chainDigests(st, h, 0)
	if err != nil {
		t.Fatal(err)
	}
	var prev *plan.Pin
	b := st.NewBatch()
	for _, dg := range ds {
		bt, err := loadBatch(plan.NewPinRef(dg, st))
		if err != nil {
			t.Fatal(err)
		}
		nb := *bt
		nb.prev = prev
		nb.outcomes = append([]plan.Value(nil), bt.outcomes...)
		for i := range nb.outcomes {
			if nb.first+uint64(i) == 3 {
				nb.outcomes[i] = okOutcome(plan.N(99))
			}
		}
		prev = plan.P(nb.value())
		if _, err := b.PutPin(prev); err != nil {
			t.Fatal(err)
		}
	}
	h.lastBatch = prev
	hp := plan.P(h.value())
	if _, err := b.PutPin(hp); err != nil {
		t.Fatal(err)
	}
	hd, _ := hp.CachedDigest()
	b.SetRef(RefPrefix+"t", hd)
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	_, err = Verify(ctx, st, "t")
	var nd *NondeterminismError
	if !errors.As(err, &nd) || nd.Event != 3 {
		t.Fatalf("got %v", err)
	}
	if _, err := Open(ctx, st, "t"); !errors.Is(err, ErrNondeterminism) {
		t.Fatalf("open of a tampered log: %v", err)
	}
}

func TestFormatRoundTrip(t *testing.T) {
	var d plan.Digest
	d[0], d[31] = 0, 0
	d[5] = 7
	got, ok, err := natDigest(digestNat(d), "x")
	if err != nil || !ok || got != d {
		t.Fatalf("digest round trip: %v %v", ok, err)
	}
	if _, err := decodeHead(plan.N(3)); !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
	b := &batch{first: 1, inputs: []plan.Value{plan.N(1)}, outcomes: []plan.Value{rejectedOutcome(KindCrash, "boom")}, timeMs: 5}
	b2, err := decodeBatch(b.value())
	if err != nil {
		t.Fatal(err)
	}
	ents, err := b2.entries()
	if err != nil || ents[0].Error != "boom" || ents[0].Kind != KindCrash {
		t.Fatalf("%+v %v", ents, err)
	}
	pend := record(lawPending, plan.P(plan.N(1)), plan.N(0), plan.N(0))
	b.outcomes[0] = pend
	b3, _ := decodeBatch(b.value())
	if ents, err := b3.entries(); err != nil || ents[0].Outcome != Pending || b3.version != FormatVersionSuspend {
		t.Fatalf("pending (version 2): %+v %v", ents, err)
	}
	// A version-1 batch never holds a pending outcome or a resolution.
	v1 := b.value().(*plan.App)
	v1.Args[0] = plan.N(FormatVersion)
	b4, _ := decodeBatch(v1)
	if _, err := b4.entries(); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("pending in version 1: %v", err)
	}
	_ = fmt.Sprint
}

func TestManyDatabasesEvaluators(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	type spec struct{ name, init, ev string }
	specs := []spec{{"pa", counterPallas, "pallas"}, {"p4", counterPlan4, "plan4"}, {"echo", echoPallas, ""}}
	dbs := map[string]*DB{}
	for _, s := range specs {
		d, err := Create(ctx, st, s.name, mustParse(t, s.init), CreateOptions{Evaluator: s.ev, SnapshotEvery: 9})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		dbs[s.name] = d
	}
	var wg sync.WaitGroup
	for name, d := range dbs {
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					if _, _, err := d.Send(ctx, plan.N(uint64(g*100+i))); err != nil {
						t.Errorf("%s: %v", name, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	for _, d := range dbs {
		d.Close()
	}
	st = reopenStore(t, st)
	list, err := List(st)
	if err != nil || len(list) != 3 {
		t.Fatalf("list %v %v", list, err)
	}
	for _, s := range list {
		if s.Events != 40 {
			t.Fatalf("%s: %d events", s.Name, s.Events)
		}
		want := map[string]string{"pa": "pallas", "p4": "plan4", "echo": "pallas"}[s.Name]
		if s.Evaluator != want {
			t.Fatalf("%s: evaluator %s", s.Name, s.Evaluator)
		}
		if _, err := Verify(ctx, st, s.Name); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
	}
	for _, name := range []string{"pa", "p4"} {
		d, err := Open(ctx, st, name)
		if err != nil {
			t.Fatal(err)
		}
		if out, _ := send(t, d, plan.N(0)); nat(t, out) != 41 {
			t.Fatalf("%s: %s", name, plan.String(out))
		}
		d.Close()
	}
}

// TestJournalRecovery: acknowledged groups that only reached the journal
// are in the log after a reopen; a torn tail is cut off; a re-created
// database does not inherit a journal.
func TestJournalRecovery(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	d := mustCreate(t, st, "j", mustParse(t, echoPallas), CreateOptions{SnapshotEvery: -1, SnapshotBytes: -1})
	for i := uint64(1); i <= 5; i++ {
		send(t, d, plan.N(i))
	}
	// Nothing is checkpointed yet: the store's head has no events, the
	// journal holds five records.
	jb, err := os.ReadFile(journalPath(st, "j"))
	if err != nil {
		t.Fatal(err)
	}
	recs, valid := parseJournal(jb)
	if len(recs) != 5 || valid != int64(len(jb)) {
		t.Fatalf("%d records, %d of %d bytes valid", len(recs), valid, len(jb))
	}
	if info, _ := Info(st, "j"); info.Events != 0 {
		t.Fatalf("head already has %d events before the checkpoint", info.Events)
	}
	// A crash now: copy the store as it is on disk, plus a torn sixth
	// record, and open the copy.
	crash := t.TempDir()
	copyDir(t, st.Dir(), crash)
	torn := append(append([]byte{}, jb...), jb[:len(jb)/5]...)
	if err := os.WriteFile(crash+journalPath(st, "j")[len(st.Dir()):], torn, 0o644); err != nil {
		t.Fatal(err)
	}
	d.Close()
	st2, err := pagestore.Open(crash, pagestore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	d2, err := Open(ctx, st2, "j")
	if err != nil {
		t.Fatal(err)
	}
	if s := d2.Status(); s.Events != 5 {
		t.Fatalf("after importing the journal: %d events", s.Events)
	}
	if info, _ := Info(st2, "j"); info.Events != 5 {
		t.Fatalf("the store's head has %d events after import", info.Events)
	}
	ents := collectLog(t, d2, 1)
	if len(ents) != 5 || nat(t, ents[4].Input) != 5 {
		t.Fatalf("log %+v", ents)
	}
	if out, ev := send(t, d2, plan.N(6)); ev != 6 || nat(t, out) != 6 {
		t.Fatal(out, ev)
	}
	if _, err := d2.ReplayVerify(ctx); err != nil {
		t.Fatal(err)
	}
	d2.Close()

	// Records the head already covers (a crash between checkpoint and
	// truncation) are skipped.
	os.WriteFile(journalPath(st2, "j"), jb, 0o644)
	d2, err = Open(ctx, st2, "j")
	if err != nil {
		t.Fatal(err)
	}
	if s := d2.Status(); s.Events != 6 {
		t.Fatalf("%d events after replaying covered records", s.Events)
	}
	d2.Close()

	// Drop and create again: the old journal must not come back.
	if err := Drop(st2, "j"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(journalPath(st2, "j")); !os.IsNotExist(err) {
		t.Fatalf("journal survived drop: %v", err)
	}
	os.WriteFile(journalPath(st2, "j"), jb, 0o644)
	d2, err = Create(ctx, st2, "j", mustParse(t, echoPallas), CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := d2.Status(); s.Events != 0 {
		t.Fatalf("re-created database has %d events", s.Events)
	}
	d2.Close()
	// A journal of another database is corruption, not something to
	// apply or drop silently.
	os.WriteFile(journalPath(st2, "j"), jb, 0o644)
	if _, err := Open(ctx, st2, "j"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("foreign journal: %v", err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if de.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestParseJournalNeverPanics(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		b := make([]byte, rng.Intn(200))
		rng.Read(b)
		if rng.Intn(2) == 0 && len(b) >= 4 {
			copy(b, journalMagic)
		}
		parseJournal(b)
	}
}

// TestCanceledInputNotLogged: an input stopped by its caller's context is
// not a fact about the input: nothing is logged and the database goes on.
func TestCanceledInputNotLogged(t *testing.T) {
	st := newStore(t, false)
	d, err := Create(context.Background(), st, "l", mustParse(t, crashyPallas), CreateOptions{Steps: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// (loop 0) never finishes and there is no step budget.
	_, _, err = d.Send(ctx, mustParse(t, loopPallas))
	if !errors.Is(err, eval.ErrCanceled) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if s := d.Status(); s.Events != 0 {
		t.Fatalf("%d events logged", s.Events)
	}
	if _, ev := send(t, d, mustParse(t, `{"k" 2 1}`)); ev != 1 {
		t.Fatalf("event %d", ev)
	}
}

// TestCompactThenGC: after a compaction that drops history, garbage
// collection keeps everything the database needs (the head reaches the
// snapshot, the base and the remaining batches through child pins).
func TestCompactThenGC(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	k := newMapKit(t)
	const depth = 6
	root := k.tree(depth, func(i int) plan.Value { return plan.N(uint64(i)) })
	d := mustCreate(t, st, "g", plan.A(k.M, root), CreateOptions{SnapshotEvery: -1, SnapshotBytes: 200})
	for i := 0; i < 40; i++ {
		send(t, d, k.input(depth, (i*5)%64, plan.N(uint64(100+i))))
	}
	s := d.Status()
	if s.SnapshotEvent == 0 {
		t.Fatalf("the bytes policy took no snapshot: %+v", s)
	}
	send(t, d, k.input(depth, 1, plan.N(7)))
	if err := d.Compact(ctx, false); err != nil {
		t.Fatal(err)
	}
	d.Close()
	before, _ := st.Stat()
	gs, err := st.GC()
	if err != nil {
		t.Fatal(err)
	}
	if gs.DeadEntries == 0 {
		t.Errorf("gc reclaimed nothing (%+v)", gs)
	}
	t.Logf("gc: %+v (pins before %d)", gs, before.Pins)
	if err := st.Verify(func(p error) { t.Errorf("verify: %v", p) }); err != nil {
		t.Fatal(err)
	}
	d, err = Open(ctx, st, "g")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.ReplayVerify(ctx); err != nil {
		t.Fatal(err)
	}
	// Entry 1 was written last with 7.
	if out, _ := send(t, d, k.input(depth, 1, plan.N(8))); nat(t, out) != 7 {
		t.Fatalf("entry 1 holds %s", plan.String(out))
	}
}

func TestStream(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	d := mustCreate(t, st, "s", mustParse(t, crashyPallas), CreateOptions{})
	defer d.Close()
	k := mustParse(t, `{"k" 2 1}`)
	// Without stopping: every input is applied, in order.
	s := d.NewStream(false)
	var rs []*Receipt
	for i := 0; i < 50; i++ {
		var in plan.Value = k
		if i == 10 {
			in = plan.N(9) // (9 0) crashes
		}
		r, err := s.Submit(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	for i, r := range rs {
		_, ev, err := r.Wait()
		if ev != uint64(i+1) || (i == 10) != (err != nil) {
			t.Fatalf("input %d: event %d err %v", i, ev, err)
		}
	}
	// Stopping: after the rejected input nothing of the stream is applied.
	s = d.NewStream(true)
	rs = rs[:0]
	for i := 0; i < 20; i++ {
		var in plan.Value = k
		if i == 5 {
			in = plan.N(9)
		}
		r, err := s.Submit(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	for i, r := range rs {
		_, ev, err := r.Wait()
		switch {
		case i < 5:
			if err != nil || ev != uint64(51+i) {
				t.Fatalf("input %d: %d %v", i, ev, err)
			}
		case i == 5:
			if !errors.Is(err, ErrRejected) || ev != 56 {
				t.Fatalf("input %d: %d %v", i, ev, err)
			}
		default:
			if !errors.Is(err, ErrStopped) {
				t.Fatalf("input %d: %d %v", i, ev, err)
			}
		}
	}
	if s := d.Status(); s.Events != 56 {
		t.Fatalf("%d events", s.Events)
	}
	// Another sender is not affected.
	if _, ev := send(t, d, k); ev != 57 {
		t.Fatal(ev)
	}
}

func TestOpenOnReadOnlyStoreFailsUpFront(t *testing.T) {
	dir := t.TempDir()
	st, err := pagestore.Open(dir, pagestore.Options{Create: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := Create(context.Background(), st, "c", plan.N(0), CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := pagestore.Open(dir, pagestore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := Open(context.Background(), ro, "c"); !errors.Is(err, pagestore.ErrReadOnly) {
		t.Fatalf("Open on a read-only store: %v", err)
	}
	if _, err := Info(ro, "c"); err != nil {
		t.Fatalf("Info on a read-only store: %v", err)
	}
}
