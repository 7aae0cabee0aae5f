package db

// The persisted records of a database: the head, the log batches, the
// outcomes and the rows they are made of. doc.go describes them field by
// field; this file is the code. Every record is a PLAN value that is normal
// in both dialects: a record law {name arity 0} applied to fewer arguments
// than its arity, so it is a closure (a partial application) for pallas and
// plan4 alike, never an opcode call.

import (
	"fmt"

	"pstore/plan"
)

// Format constants. They are part of the persisted format: changing one
// makes existing databases unreadable.
const (
	// FormatVersion is field 0 of every head and batch this package writes
	// unless it uses suspended inputs (issue 9): a database created with
	// OnBudget = OnBudgetSuspend has a version-2 head, and a batch that
	// logs a pending input or resolves one is a version-2 batch. Version-1
	// records keep their meaning, so databases written before stay
	// readable; a version-1 reader refuses version-2 ones (ErrVersion).
	FormatVersion = 1
	// FormatVersionSuspend is the version of heads and batches that use
	// suspended inputs.
	FormatVersionSuspend = 2

	headArity     = 32 // head record law arity: room for 31 fields
	batchArity    = 16 // batch record law arity: room for 15 fields
	okArity       = 2  // accepted: 1 field
	rejectArity   = 3  // rejected: 2 fields
	pendingArity  = 4  // pending: 3 fields (suspended inputs)
	resolvedArity = 3  // resolution of a pending event: 2 fields

	nameHead     = "pstore:db:head"
	nameBatch    = "pstore:db:batch"
	nameOK       = "pstore:db:ok"
	nameRejected = "pstore:db:rejected"
	namePending  = "pstore:db:pending"
	nameResolved = "pstore:db:resolved"
	nameRow      = "pstore:row"
)

// Rejection kinds (field 0 of a rejected outcome).
const (
	KindCrash  = 1 // eval.ErrCrash
	KindLoop   = 2 // eval.ErrLoop
	KindBudget = 3 // eval.ErrBudget
	KindShape  = 4 // the result is not an app with at least two arguments
	KindOther  = 5 // any other deterministic failure (recorded, never re-run)
)

// kindNames are the names `pstore db log` prints.
var kindNames = map[uint64]string{
	KindCrash: "crash", KindLoop: "loop", KindBudget: "budget", KindShape: "shape", KindOther: "error",
}

// Outcome says what became of one input.
type Outcome uint8

const (
	Accepted Outcome = 1 // applied; the state moved on
	Rejected Outcome = 2 // not applied; the state did not change
	Pending  Outcome = 3 // suspended by its budget; a later batch resolves it
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Rejected:
		return "rejected"
	case Pending:
		return "pending"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// strNat is the nat whose little-endian bytes spell s (PLAN.md 2.2).
func strNat(s string) plan.Nat { return plan.NatFromBytes([]byte(s)) }

// natStr is the inverse of strNat.
func natStr(n plan.Nat) string { return string(n.AppendBytes(nil)) }

// recordLaw returns the record law {name arity 0}.
func recordLaw(name string, arity uint64) *plan.Law {
	return plan.L(strNat(name), plan.N(arity), plan.N(0))
}

var (
	lawHead     = recordLaw(nameHead, headArity)
	lawBatch    = recordLaw(nameBatch, batchArity)
	lawOK       = recordLaw(nameOK, okArity)
	lawRejected = recordLaw(nameRejected, rejectArity)
	lawPending  = recordLaw(namePending, pendingArity)
	lawResolved = recordLaw(nameResolved, resolvedArity)
	rowNameNat  = strNat(nameRow)
)

// record builds (law f1 ... fn).
func record(law *plan.Law, fields ...plan.Value) plan.Value {
	return plan.NewAppShared(law, fields)
}

// row builds ({"pstore:row" n+1 0} x1 ... xn); the empty row is the law.
func row(xs []plan.Value) plan.Value {
	law := plan.L(rowNameNat, plan.N(uint64(len(xs))+1), plan.N(0))
	if len(xs) == 0 {
		return law
	}
	return plan.NewAppShared(law, xs)
}

// fieldsOf checks that v is a record of the named law with the given
// arity and returns its fields (at least min of them).
func fieldsOf(v plan.Value, name string, arity uint64, min int) ([]plan.Value, error) {
	var head plan.Value = v
	var args []plan.Value
	if a, ok := v.(*plan.App); ok {
		head, args = a.Spine()
	}
	law, ok := head.(*plan.Law)
	if !ok || !law.Name.Equal(strNat(name)) {
		return nil, fmt.Errorf("%w: not a %s record", ErrCorrupt, name)
	}
	if ar, ok := law.Arity.Uint64(); !ok || ar != arity {
		return nil, fmt.Errorf("%w: %s record with arity %s, want %d", ErrCorrupt, name, law.Arity, arity)
	}
	if len(args) < min || uint64(len(args)) >= arity {
		return nil, fmt.Errorf("%w: %s record with %d fields", ErrCorrupt, name, len(args))
	}
	return args, nil
}

// rowItems decodes a row.
func rowItems(v plan.Value) ([]plan.Value, error) {
	var head plan.Value = v
	var args []plan.Value
	if a, ok := v.(*plan.App); ok {
		head, args = a.Spine()
	}
	law, ok := head.(*plan.Law)
	if !ok || !law.Name.Equal(rowNameNat) {
		return nil, fmt.Errorf("%w: not a row", ErrCorrupt)
	}
	if ar, ok := law.Arity.Uint64(); !ok || ar != uint64(len(args))+1 {
		return nil, fmt.Errorf("%w: row of %d items with arity %s", ErrCorrupt, len(args), law.Arity)
	}
	return args, nil
}

func natField(v plan.Value, what string) (uint64, error) {
	n, ok := v.(plan.Nat)
	if !ok {
		return 0, fmt.Errorf("%w: %s is a %v, want a nat", ErrCorrupt, what, v.Kind())
	}
	u, ok := n.Uint64()
	if !ok {
		return 0, fmt.Errorf("%w: %s is too large", ErrCorrupt, what)
	}
	return u, nil
}

func strField(v plan.Value, what string) (string, error) {
	n, ok := v.(plan.Nat)
	if !ok {
		return "", fmt.Errorf("%w: %s is a %v, want a string nat", ErrCorrupt, what, v.Kind())
	}
	return natStr(n), nil
}

// pinField decodes "a pin, or 0 for none".
func pinField(v plan.Value, what string) (*plan.Pin, error) {
	switch x := v.(type) {
	case *plan.Pin:
		return x, nil
	case plan.Nat:
		if x.IsZero() {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("%w: %s is neither a pin nor 0", ErrCorrupt, what)
}

func pinOrZero(p *plan.Pin) plan.Value {
	if p == nil {
		return plan.N(0)
	}
	return p
}

// digestNat writes a digest as a nat: its 32 bytes read little-endian with
// a 1 byte appended as the most significant byte, so that leading zero
// bytes survive (the nat is always exactly 33 bytes long).
func digestNat(d plan.Digest) plan.Nat {
	b := make([]byte, 33)
	copy(b, d[:])
	b[32] = 1
	return plan.NatFromBytes(b)
}

// natDigest is the inverse of digestNat; 0 means none.
func natDigest(v plan.Value, what string) (plan.Digest, bool, error) {
	var d plan.Digest
	n, ok := v.(plan.Nat)
	if !ok {
		return d, false, fmt.Errorf("%w: %s is not a nat", ErrCorrupt, what)
	}
	if n.IsZero() {
		return d, false, nil
	}
	b := n.AppendBytes(nil)
	if len(b) != 33 || b[32] != 1 {
		return d, false, fmt.Errorf("%w: %s is not a digest", ErrCorrupt, what)
	}
	copy(d[:], b)
	return d, true, nil
}

// ---- head ----

// head is the decoded head record (doc.go, "Head").
type head struct {
	version    uint64
	evaluator  string
	steps      uint64 // 0: unlimited
	snapEvery  uint64 // 0: off
	snapBytes  uint64 // 0: off
	events     uint64 // events 1..events exist
	lastBatch  *plan.Pin
	snapEvent  uint64
	snapState  *plan.Pin // pin of the state after snapEvent
	snapTimeMs uint64
	initPin    *plan.Pin // pin of the initial state (event 0)
	baseEvent  uint64    // the log holds events baseEvent+1..events
	baseState  *plan.Pin // pin of the state after baseEvent
	logBytes   uint64    // approximate log bytes since the snapshot
	createdMs  uint64
	batches    uint64 // batches in the chain (since the base)
	// Version 2 only (issue 9).
	onBudget   uint64    // OnBudgetReject or OnBudgetSuspend
	pendingJob *plan.Pin // latest suspended computation of the unresolved pending event, or nil
}

const headFields = 16

func (h *head) value() plan.Value {
	fields := []plan.Value{
		plan.N(h.version),
		strNat(h.evaluator),
		plan.N(h.steps),
		plan.N(h.snapEvery),
		plan.N(h.snapBytes),
		plan.N(h.events),
		pinOrZero(h.lastBatch),
		plan.N(h.snapEvent),
		h.snapState,
		plan.N(h.snapTimeMs),
		h.initPin,
		plan.N(h.baseEvent),
		h.baseState,
		plan.N(h.logBytes),
		plan.N(h.createdMs),
		plan.N(h.batches),
	}
	if h.version >= FormatVersionSuspend {
		fields = append(fields, plan.N(h.onBudget), pinOrZero(h.pendingJob))
	}
	return record(lawHead, fields...)
}

func decodeHead(v plan.Value) (*head, error) {
	f, err := fieldsOf(v, nameHead, headArity, headFields)
	if err != nil {
		return nil, err
	}
	h := &head{}
	if h.version, err = natField(f[0], "head version"); err != nil {
		return nil, err
	}
	if h.version != FormatVersion && h.version != FormatVersionSuspend {
		return nil, fmt.Errorf("%w: head version %d, this program reads %d and %d", ErrVersion, h.version, FormatVersion, FormatVersionSuspend)
	}
	if h.version == FormatVersionSuspend {
		if len(f) < headFields+2 {
			return nil, fmt.Errorf("%w: version-2 head with %d fields", ErrCorrupt, len(f))
		}
		if h.onBudget, err = natField(f[16], "head budget policy"); err != nil {
			return nil, err
		}
		if h.pendingJob, err = pinField(f[17], "head pending job"); err != nil {
			return nil, err
		}
	}
	if h.evaluator, err = strField(f[1], "head evaluator"); err != nil {
		return nil, err
	}
	nats := []struct {
		dst *uint64
		i   int
		w   string
	}{
		{&h.steps, 2, "steps"}, {&h.snapEvery, 3, "snapshot events"}, {&h.snapBytes, 4, "snapshot bytes"},
		{&h.events, 5, "event count"}, {&h.snapEvent, 7, "snapshot event"}, {&h.snapTimeMs, 9, "snapshot time"},
		{&h.baseEvent, 11, "base event"}, {&h.logBytes, 13, "log bytes"}, {&h.createdMs, 14, "creation time"},
		{&h.batches, 15, "batch count"},
	}
	for _, n := range nats {
		if *n.dst, err = natField(f[n.i], "head "+n.w); err != nil {
			return nil, err
		}
	}
	if h.lastBatch, err = pinField(f[6], "head last batch"); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		dst **plan.Pin
		i   int
		w   string
	}{{&h.snapState, 8, "snapshot"}, {&h.initPin, 10, "initial value"}, {&h.baseState, 12, "base state"}} {
		pin, ok := f[p.i].(*plan.Pin)
		if !ok {
			return nil, fmt.Errorf("%w: head %s is not a pin", ErrCorrupt, p.w)
		}
		*p.dst = pin
	}
	if h.snapEvent > h.events || h.baseEvent > h.snapEvent {
		return nil, fmt.Errorf("%w: head events %d, snapshot at %d, base %d", ErrCorrupt, h.events, h.snapEvent, h.baseEvent)
	}
	if (h.lastBatch == nil) != (h.events == h.baseEvent) {
		return nil, fmt.Errorf("%w: head has %d events after its base but last batch %v", ErrCorrupt, h.events-h.baseEvent, h.lastBatch != nil)
	}
	return h, nil
}

// ---- batch ----

// Entry is one event of the log.
type Entry struct {
	Event   uint64     // event number, from 1
	Input   plan.Value // the input as applied (its normal form)
	Outcome Outcome
	Output  plan.Value // Accepted: the output
	Kind    uint64     // Rejected: KindCrash, KindLoop, ...
	Error   string     // Rejected: the error text
	TimeMs  uint64     // commit time of its batch (Unix milliseconds)
	// Pending: the suspended computation as first logged (eval/suspend).
	Job *plan.Pin
	// Resolution is set on the entries Log yields for the resolution of a
	// pending event (Event is that event's number; Outcome, Output, Kind
	// and Error its final outcome; Input is nil).
	Resolution bool
}

// KindName names a rejection kind ("crash", "budget", ...).
func KindName(k uint64) string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind%d", k)
}

// batch is a decoded batch record (doc.go, "Batch").
type batch struct {
	prev       *plan.Pin
	first      uint64
	inputs     []plan.Value
	outcomes   []plan.Value
	timeMs     uint64
	stateAfter plan.Digest // digest of the state pin after the batch
	hasState   bool
	// resolutions of earlier pending events, ({"pstore:db:resolved" 3 0}
	// event outcome); a batch may then have no inputs (version 2).
	resolutions []plan.Value
	version     uint64 // as decoded
}

// usesSuspend reports whether b must be written as a version-2 batch.
func (b *batch) usesSuspend() bool {
	if len(b.resolutions) > 0 {
		return true
	}
	for _, o := range b.outcomes {
		if isRecordOf(o, lawPending) {
			return true
		}
	}
	return false
}

// isRecordOf reports whether v is a record of the kind law heads (the same
// name: a decoded record has a law of its own).
func isRecordOf(v plan.Value, law *plan.Law) bool {
	var head plan.Value = v
	if a, ok := v.(*plan.App); ok {
		head = a.Fun // records are built flat: the law is the app's head
		if h, ok := head.(*plan.App); ok {
			head, _ = h.Spine()
		}
	}
	l, ok := head.(*plan.Law)
	return ok && (l == law || l.Name.Equal(law.Name))
}

const batchFields = 8

func (b *batch) value() plan.Value {
	var st plan.Value = plan.N(0)
	if b.hasState {
		st = digestNat(b.stateAfter)
	}
	ver := uint64(FormatVersion)
	if b.usesSuspend() {
		ver = FormatVersionSuspend
	}
	return record(lawBatch,
		plan.N(ver),
		pinOrZero(b.prev),
		plan.N(b.first),
		row(b.inputs),
		row(b.outcomes),
		row(b.resolutions), // resolutions of earlier pending events (none in version 1)
		plan.N(b.timeMs),
		st,
	)
}

func decodeBatch(v plan.Value) (*batch, error) {
	f, err := fieldsOf(v, nameBatch, batchArity, batchFields)
	if err != nil {
		return nil, err
	}
	ver, err := natField(f[0], "batch version")
	if err != nil {
		return nil, err
	}
	if ver != FormatVersion && ver != FormatVersionSuspend {
		return nil, fmt.Errorf("%w: batch version %d", ErrVersion, ver)
	}
	b := &batch{version: ver}
	if b.prev, err = pinField(f[1], "batch prev"); err != nil {
		return nil, err
	}
	if b.first, err = natField(f[2], "batch first event"); err != nil {
		return nil, err
	}
	if b.inputs, err = rowItems(f[3]); err != nil {
		return nil, err
	}
	if b.outcomes, err = rowItems(f[4]); err != nil {
		return nil, err
	}
	res, err := rowItems(f[5])
	if err != nil {
		return nil, err
	}
	if len(res) != 0 && ver == FormatVersion {
		return nil, fmt.Errorf("%w: version-1 batch at event %d resolves pending events", ErrUnsupported, b.first)
	}
	b.resolutions = res
	if len(b.inputs) != len(b.outcomes) || (len(b.inputs) == 0 && len(res) == 0) {
		return nil, fmt.Errorf("%w: batch at event %d has %d inputs and %d outcomes", ErrCorrupt, b.first, len(b.inputs), len(b.outcomes))
	}
	if b.timeMs, err = natField(f[6], "batch time"); err != nil {
		return nil, err
	}
	if b.stateAfter, b.hasState, err = natDigest(f[7], "batch state digest"); err != nil {
		return nil, err
	}
	if b.first == 0 {
		return nil, fmt.Errorf("%w: batch starts at event 0", ErrCorrupt)
	}
	return b, nil
}

// loadBatch reads the batch record held by pin p.
func loadBatch(p *plan.Pin) (*batch, error) {
	v, err := p.Item()
	if err != nil {
		return nil, fmt.Errorf("db: loading log batch: %w", err)
	}
	b, err := decodeBatch(v)
	if err != nil {
		return nil, fmt.Errorf("log batch: %w", err)
	}
	return b, nil
}

// ---- outcomes ----

func okOutcome(out plan.Value) plan.Value { return record(lawOK, out) }

func rejectedOutcome(kind uint64, msg string) plan.Value {
	return record(lawRejected, plan.N(kind), strNat(msg))
}

// decodeOutcome fills e's outcome fields from an outcome record.
func decodeOutcome(v plan.Value, e *Entry) error {
	var head plan.Value = v
	var args []plan.Value
	if a, ok := v.(*plan.App); ok {
		head, args = a.Spine()
	}
	law, ok := head.(*plan.Law)
	if !ok {
		return fmt.Errorf("%w: event %d: outcome is not a record", ErrCorrupt, e.Event)
	}
	switch {
	case law.Name.Equal(strNat(nameOK)):
		f, err := fieldsOf(v, nameOK, okArity, 1)
		if err != nil {
			return err
		}
		e.Outcome, e.Output = Accepted, f[0]
	case law.Name.Equal(strNat(nameRejected)):
		f, err := fieldsOf(v, nameRejected, rejectArity, 2)
		if err != nil {
			return err
		}
		if e.Kind, err = natField(f[0], "rejection kind"); err != nil {
			return err
		}
		if e.Error, err = strField(f[1], "rejection text"); err != nil {
			return err
		}
		e.Outcome = Rejected
	case law.Name.Equal(strNat(namePending)):
		f, err := fieldsOf(v, namePending, pendingArity, 3)
		if err != nil {
			return err
		}
		if e.Job, err = pinField(f[0], "pending job"); err != nil {
			return err
		}
		if e.Job == nil {
			return fmt.Errorf("%w: event %d: pending without a job", ErrCorrupt, e.Event)
		}
		e.Outcome = Pending
	default:
		return fmt.Errorf("%w: event %d: unknown outcome record %s", ErrCorrupt, e.Event, plan.String(law.Name))
	}
	_ = args
	return nil
}

// entries decodes the events of a batch.
func (b *batch) entries() ([]Entry, error) {
	out := make([]Entry, len(b.inputs))
	for i := range b.inputs {
		e := &out[i]
		e.Event = b.first + uint64(i)
		e.Input = b.inputs[i]
		e.TimeMs = b.timeMs
		if err := decodeOutcome(b.outcomes[i], e); err != nil {
			return nil, err
		}
		if e.Outcome == Pending && b.version == FormatVersion {
			return nil, fmt.Errorf("%w: event %d is pending in a version-1 batch", ErrUnsupported, e.Event)
		}
	}
	return out, nil
}

// approxSize estimates the encoded size of v in bytes without encoding it:
// nat bytes plus a few bytes per node, 32 per child pin (pins are not
// entered). It is what the snapshot-bytes policy counts; it needs no I/O.
func approxSize(v plan.Value) uint64 {
	var n uint64
	stack := []plan.Value{v}
	// A shared DAG can have an exponentially larger tree; the estimate is
	// only a snapshot trigger, so stop counting after a bounded walk.
	for visits := 0; len(stack) > 0 && visits < 1<<16; visits++ {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch x := x.(type) {
		case plan.Nat:
			n += uint64(x.ByteLen()) + 1
		case *plan.Pin:
			n += 32
		case *plan.Law:
			n += 2
			stack = append(stack, x.Name, x.Arity, x.Body)
		case *plan.App:
			n += uint64(len(x.Args))
			stack = append(stack, x.Fun)
			stack = append(stack, x.Args...)
		}
	}
	return n
}

func pendingOutcome(job *plan.Pin, steps uint64) plan.Value {
	return record(lawPending, job, plan.N(steps), plan.N(0))
}

func resolvedRecord(event uint64, outcome plan.Value) plan.Value {
	return record(lawResolved, plan.N(event), outcome)
}

// resolutionEntries decodes the resolutions of a batch.
func (b *batch) resolutionEntries() ([]Entry, error) {
	out := make([]Entry, len(b.resolutions))
	for i, r := range b.resolutions {
		f, err := fieldsOf(r, nameResolved, resolvedArity, 2)
		if err != nil {
			return nil, err
		}
		e := &out[i]
		if e.Event, err = natField(f[0], "resolved event"); err != nil {
			return nil, err
		}
		e.TimeMs, e.Resolution = b.timeMs, true
		if err := decodeOutcome(f[1], e); err != nil {
			return nil, err
		}
		if e.Outcome == Pending {
			return nil, fmt.Errorf("%w: event %d resolved as pending", ErrCorrupt, e.Event)
		}
	}
	return out, nil
}
