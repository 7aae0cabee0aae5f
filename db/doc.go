// Package db keeps PLAN databases durable on a page store: an event log of
// batches, snapshots, recovery and replay (ARCHITECTURE.md, "Roots,
// databases and event logs on the same store").
//
// # Model
//
// A database is a PLAN value DB. Applying it to an input gives an app whose
// last two arguments are, in order, the output and the next database
// ((0 out next) is the usual form; the head is ignored). For each input:
//
//  1. the input is normalized if it is an app (nats, laws and pins are
//     normal already); the normal form is what the log records;
//  2. (DB input) is normalized fully, within the database's per-input step
//     budget (the input's normalization counts against it);
//  3. the result must be an app with at least two arguments.
//
// If all three succeed the input is accepted: the state becomes next and
// the caller gets out. If evaluation crashes, loops (black hole), runs out
// of budget or gives a result of the wrong shape, the input is rejected:
// it is logged with the kind and text of the error, the state does not
// change, and the caller gets a *RejectedError. A database never gets stuck
// on a bad input. Errors that are not facts about the input (the caller's
// context was canceled, a pin could not be loaded) are returned without
// logging anything.
//
// Each database names its evaluator (eval.Get) in its head, so databases of
// different dialects live on one store.
//
// # Records
//
// Every record below is a PLAN value that is normal in both dialects: a
// record law {name arity 0} applied to fewer arguments than its arity,
// which pallas and plan4 both read as a closure (never an opcode call, so
// no bare nat heads). Names are string nats. Fields are listed in argument
// order; "pin|0" is a child pin or the nat 0 for none. Rows are
// ({"pstore:row" n+1 0} x1 ... xn); the empty row is the law itself.
// Decoders check the law's name and arity and the field count, and return
// ErrCorrupt (or ErrVersion, ErrUnsupported) instead of guessing.
//
// Head, law {"pstore:db:head" 32 0}, 16 fields (room for 31), 18 in
// version 2:
//
//	0  version            1 (FormatVersion), or 2 (FormatVersionSuspend) for a
//	                      database created with OnBudget = OnBudgetSuspend
//	1  evaluator          its registry name, a string nat
//	2  steps              per-input step budget; 0 = unlimited
//	3  snapshot every     events between automatic snapshots; 0 = off
//	4  snapshot bytes     log bytes between automatic snapshots; 0 = off
//	5  events             events are numbered 1..events
//	6  last batch         pin|0: the newest batch of the log
//	7  snapshot event     the snapshot holds the state after this event
//	8  snapshot           pin of the state after the snapshot event
//	9  snapshot time      Unix milliseconds
//	10 initial value      pin of the state at event 0
//	11 base event         the log holds events base+1..events (0 unless compacted)
//	12 base state         pin of the state after the base event
//	13 log bytes          estimated log bytes since the snapshot (policy)
//	14 created            Unix milliseconds
//	15 batches            batches in the chain since the base
//	16 on budget          version 2: 0 reject, 1 suspend (CreateOptions.OnBudget)
//	17 pending job        version 2: pin|0, the latest suspended computation of
//	                      the unresolved pending event (progress kept across
//	                      restarts; 0 when none)
//
// The head is the pin named by the store ref "db/NAME". The ref is set in
// the page store's commit record together with the pins it covers, so a
// head is always whole; garbage collection marks from it through the chain
// of batches, the snapshot, the base and the initial value.
//
// Batch, law {"pstore:db:batch" 16 0}, 8 fields:
//
//	0  version            1, or 2 when the batch holds a pending outcome or
//	                      resolutions (a version-1 batch with either is
//	                      ErrUnsupported)
//	1  prev               pin|0: the previous batch, a CHILD PIN (never a CID
//	                      written as a nat), so the log is a merkle chain
//	2  first              event number of the first input
//	3  inputs             row of n inputs, n >= 1 (n = 0 only in a version-2
//	                      batch that only resolves; normal forms, or the input as
//	                      given when its own normalization failed)
//	4  outcomes           row of n outcomes, one per input
//	5  resolutions        row of ({"pstore:db:resolved" 3 0} event outcome):
//	                      the final outcome (ok or rejected) of an earlier
//	                      pending event; empty in version 1. A batch that
//	                      only resolves has no inputs (its first event is
//	                      events+1 and it adds none)
//	6  time               commit time, Unix milliseconds (informational)
//	7  state after        0, or the 32-byte digest of the state pin after this
//	                      batch when a snapshot was taken with it, as a nat
//	                      whose bytes are the digest followed by 0x01 (a weak
//	                      reference: it does not keep the state alive, but
//	                      lets replay check the state at that point)
//
// Outcomes:
//
//	({"pstore:db:ok" 2 0} output)                 accepted, with its output
//	({"pstore:db:rejected" 3 0} kind text)        rejected: kind 1 crash, 2 loop,
//	                                              3 budget, 4 bad result shape,
//	                                              5 other; text is the error
//	({"pstore:db:pending" 4 0} job 0 0)           version 2: an input suspended
//	                                              by its budget, with the pin of
//	                                              its suspended computation
//	                                              (eval/suspend); later inputs
//	                                              wait behind it and a later
//	                                              batch resolves it.
//
// # Suspended inputs (OnBudgetSuspend)
//
// With OnBudget = OnBudgetSuspend, an input whose (DB input) evaluation
// runs out of the per-input budget is not rejected: it is logged pending
// with its suspended computation (eval/suspend; running out while
// normalizing the input itself still rejects) in a batch that ends the
// group and is committed to the store at once, and Send answers ErrPending.
// The writer then resumes the computation, without a budget, before it
// takes any other request (Sends, snapshots and compactions wait: the log
// stays sequential). When it ends, its outcome (ok, or rejected for a
// crash, loop or bad shape) is committed as a resolution in a batch of its
// own and the state moves on. Closing the database while it runs stores
// the latest suspended computation in the head (field 17), so the next
// Open resumes it instead of starting over. No snapshot is taken while an
// event is unresolved. Replay and ReplayVerify re-run a pending event
// resolved as accepted at its place in the log, without a budget, and
// compare its output with the resolution's; one resolved as rejected is a
// fact and is not re-run.
//
// # Commit design
//
// One writer goroutine per open database applies inputs in arrival order,
// each as soon as it arrives, into an open group. The group is closed (one
// batch pin) when the syncer goroutine is idle or the group reaches 4096
// inputs, and handed to the syncer, which makes it durable with ONE synced
// write (one fdatasync for every record it finds queued) and only then
// answers the group's callers, before it tells the writer it is idle; the
// writer then yields a few times so that the senders just answered join the
// next group. So while one group is being synced the next is being
// evaluated, and a group grows as large as a sync is slow: with 64
// closed-loop senders groups hold about 61 inputs here. Evaluation, the
// state and the head stay on the writer goroutine.
//
// The durable point of a group is a record appended to the database's
// journal (<store>/db-journal/NAME.wal, format in journal.go): magic,
// length, CRC-32C, then the canonical bodies of the new batch pin and of any
// new pins under it, written with one write and one fdatasync. A checkpoint
// (every 100 ms while the journal is non-empty, at 8 MiB of journal, before
// snapshots, compaction, log reads, replay and Close) stores the journaled
// bodies and the new head with one page-store commit, whose commit record
// is then the durable point, and truncates the journal. Opening a database
// first moves any journal records past the head into the store (each body
// is re-hashed against its digest, each batch must continue the head's
// chain), cutting off a torn tail at the first bad record.
//
// Why not commit every group through the page store? A page-store commit
// is three fdatasyncs (data, index slots, commit record), measured at 1-4
// ms here, while one append+fdatasync is one sync; with 64 closed-loop
// senders throughput is group size / commit latency, so the journal is
// what makes group commit pay. The cost: a process that reads the store
// while a writer runs (db status, db log) sees the database as of the last
// checkpoint (at most about 100 ms old), and the journal is only read by
// the next writer, which holds the store's writer lock (one writer process
// per store, pagestore's flock).
//
// A journal record leaves out pins the store already holds. So a garbage
// collection run in the same process while a database has un-checkpointed
// batches could reclaim a stored pin that, so far, only such a batch
// references (an input naming an unrooted pin by CID); close the database
// (or call Snapshot, which checkpoints) before collecting. `pstore gc` in
// another process cannot overlap: it needs the store's writer lock.
//
// Groups that trigger an automatic snapshot skip the journal: the snapshot,
// the batch (with its "state after" digest) and the head go in one
// page-store commit.
//
// Send waits for its own answer, so one goroutine gets one input per
// commit. A Stream lets one goroutine submit a sequence without waiting
// (Submit, then Receipt.Wait): the inputs are applied in submission order
// and share group commits; with stopOnError, the inputs after a failed one
// are answered ErrStopped and never applied or logged, which keeps the
// semantics of waiting for each answer (`pstore db run` reads a pipe this
// way, 1024 inputs ahead).
//
// # Snapshots
//
// A snapshot pins the state (plan.P(state)) and records its event and pin
// in the head. PutPin stores only pins the store lacks, so after a small
// change of a state built from pins it writes only the changed pins and
// their ancestors (tested: under 1% of a 16384-entry map of pins). Policy:
// every N events or M estimated log bytes (CreateOptions, kept in the
// head), and on demand (Snapshot). After a snapshot the writer drops its
// in-memory state and continues from the stored pin, loaded lazily, so
// memory holds only what inputs touch between snapshots.
//
// # Recovery and replay
//
// Open reads the head, imports the journal, loads the snapshot lazily (its
// top pin only; child pins are unloaded references) and re-applies the
// accepted inputs logged after it, without a budget, walking the batch
// chain back to the snapshot's event and then forward. Rejected inputs are
// recorded facts and are never re-run (whether a budget runs out is not
// portable between evaluators or machines). A replayed output that differs
// from the logged one fails Open with a *NondeterminismError.
//
// ReplayVerify (and Verify, for a database not open here) re-runs every
// accepted input from the base (the initial value unless the log was
// compacted) without a budget, compares each output with the logged one
// (exact first diverging event), the state with every "state after" digest
// and the head's snapshot along the way, and finally the replayed state's
// pin CID with a fresh pin of the current state.
//
// Compact rewrites the batches after the latest snapshot into a chain that
// starts there; the snapshot becomes the base. The old chain stays
// reachable from the ref "db-history/NAME/N" unless asked otherwise. Drop
// removes the ref, the history refs and the journal; `pstore gc` reclaims
// the pins.
//
// # Concurrency
//
// A DB is safe for concurrent use. Its state, head and journal bookkeeping
// belong to its writer goroutine; the syncer goroutine only writes and
// syncs the records the writer queued (at offsets the writer reserved) and
// answers their callers; the writer waits for it (a barrier) before any
// page-store commit that truncates the journal. DB.mu guards the published
// copy of the head that Status reads and the fatal error (a failed write
// or commit: the database then refuses further work until reopened). A database is open at most once per store per process
// (ErrBusy otherwise); across processes the store's writer lock serializes
// writers (CLI commands wait for it, --wait).
package db
