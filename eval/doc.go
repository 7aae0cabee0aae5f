// Package eval is how PLAN evaluators plug into pstore.
//
// An evaluator implements Evaluator and registers itself by name in its
// package's init function:
//
//	func init() { eval.Register(myEvaluator{}) }
//
// A program picks one with Get(name) ("" is DefaultName, "pallas") after
// importing the evaluator package for its side effect (the command line
// imports all of them). Two exist: eval/pallas (PLAN.md, five opcodes, the
// default) and eval/plan4 (PLAN4.md).
//
// # Adding a third evaluator
//
// Nothing in the store or the command line changes:
//
//  1. Create eval/NAME with a type implementing Evaluator. Name returns the
//     registry name; Dialect names the interchange convention its
//     `@file.seed` arguments are read with ("pallas" or "plan4", see
//     ARCHITECTURE.md "Interchange files"); reuse one of them unless the
//     new dialect has its own seed convention (then the seed package
//     needs one too).
//  2. Register it in init.
//  3. Run the conformance suite eval/evaltest from its tests:
//     evaltest.RunShared with a Kit of expressions in the new dialect
//     (increment, a crash, a loop, a countdown law, ...), and
//     evaltest.RunVectors on the dialect's cases.tsv, if it has one.
//
// # The contract
//
// Values. Eval receives an ordinary plan.Value: apps are expressions
// (thunks until evaluated), laws and pins are values. It returns the normal
// form (or, with Options.WHNF, the weak head normal form, whose closure
// arguments may still be unevaluated apps). The input is never modified
// (plan values are immutable); evaluators build their own mutable heap
// graph per call, so one Evaluator value is safe for concurrent use.
//
// Pins are faulted lazily. A pin that came from a store is an unloaded
// reference (plan.NewPinRef) carrying its digest and a plan.PinLoader. An
// evaluator calls Pin.Item only when evaluation needs the contents:
// applying the pin (its arity and its law), reflecting on it, or running a
// pinned law. Normalizing never enters a pin (pin contents are already
// normal), and a result that contains a pin evaluation did not need returns
// the very same *plan.Pin, still unloaded. Stats.PinsLoaded counts the pins
// this evaluation loaded (Loaded() was false before it called Item). A load
// error stops the evaluation and is returned wrapped.
//
// Options. Steps bounds the work: a step is one reduction of a saturated
// call (an opcode, a law application or a jet call); 0 means unlimited.
// NoJets runs every law's own body. WHNF stops at weak head normal form.
// Trace may receive free-form events; evaluators may ignore it.
//
// Errors. Each failure is a distinct sentinel, wrapped with context, to
// be tested with errors.Is:
//
//   - ErrCrash: the program has no value by the dialect's rules (PLAN.md
//     section 9): applying a nat that is not an opcode, making a law of
//     arity 0, ... The message names the nat or the opcode.
//   - ErrLoop: a black hole was entered: a thunk that needs its own value,
//     a let binding that is its own alias, or normalizing a cyclic value.
//   - ErrBudget: Options.Steps ran out.
//   - ErrCanceled: the context was canceled or its deadline passed
//     (evaluators look at the context every few thousand steps, so the
//     reaction time is well under a millisecond of work).
//   - a pin load error from the PinLoader.
//
// Deep programs never kill the Go runtime: evaluators keep their state in
// the heap graph and explicit stacks, not in Go recursion, so depth is
// bounded by memory only.
//
// Stopping and resuming. ErrBudget and ErrCanceled come as a
// *StoppedError whose Residual is a plain plan.Value that, evaluated by the
// same evaluator, gives the same result as the stopped evaluation would
// have. It is the heap graph read back: work already done stays done
// (reduced thunks are their values), black holes are restored to the thunks
// they stand for, sharing is kept (a plan.Value DAG; evaluators turn a
// *plan.App met twice back into one shared thunk), and a cyclic graph, which
// only let bindings can make, is written as a letrec: the law
// {0 1 (1 v1 (1 v2 ... body))} applied to 0, whose let bindings rebuild the
// shared nodes (PLAN.md 6.2). Residuals are how suspended computations are
// stored. An evaluator that cannot produce one leaves Residual nil.
//
// Jets. Evaluators may run native code instead of particular laws. Each
// dialect matches them its own way (pallas: by the digest of the pinned
// law, registered with pallas.RegisterJet; plan4: by name and arity when the
// pin is made). A jet must be indistinguishable from the law, including its
// laziness; it only changes Stats.
//
// Results as pins. Callers that want a result as a pin call PinResult,
// which returns plan.P(value) and its CID without writing anything; storing
// it is the store's business.
package eval
