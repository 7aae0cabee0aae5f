// Package pallas is the default PLAN evaluator: the five-opcode PLAN of
// spec/PLAN.md, registered with eval as "pallas" (dialect "pallas").
//
// # Model
//
// Each Eval call converts its input lazily into a private mutable heap graph
// and reduces it by lazy graph reduction (PLAN.md 4):
//
//   - App nodes carry an argument array ((f a b c) is one node), so a
//     saturated call finds its arguments without walking pairs; apps with
//     up to three arguments are a single allocation. The pair view of
//     PLAN.md is kept wherever it is observable (opcode 1 splits off the
//     last argument, results are plan.Values).
//   - A reduced thunk is overwritten in place with its value, or with an
//     indirection when the value may itself still be a thunk, so every
//     holder sees the result and shared work is done once. Input sharing is
//     kept too: the same *plan.App met twice becomes one node.
//   - Black holes: a thunk under reduction is flagged busy (its function
//     part and arguments stay intact, for residuals), and an app whose
//     function part is being evaluated is flagged marked (PLAN.md 4.4);
//     reaching either is eval.ErrLoop. A let slot that aliases itself stays
//     a hole (PLAN.md 6.2). Normalization flags nodes on its path, so
//     normalizing a cyclic value is ErrLoop instead of endless.
//   - Laws: the body is compiled once per law per evaluation into postfix
//     code (the leading let chain of PLAN.md 6.2 and the expression rules
//     of 6.3); instantiating is a loop over that code. Calls whose function
//     is a constant of known arity that they do not saturate are built as
//     closures directly.
//   - Tail calls: when a law's body ends in a saturated call of a law, or
//     in the loop idiom (2 z (f a ...) x) with x already evaluated, the
//     next law step runs straight from the explicit stack, without writing
//     the call into the thunk and taking it apart again (tail.go). Nothing
//     is evaluated early, so laziness, steps and residuals are those of
//     plain reduction. A loop counter node that only the stack refers to
//     is decremented in place.
//   - Nothing recurses on the Go stack: WHNF, normalization, opcode
//     arguments, jets, compilation, instantiation and read-back all use
//     explicit stacks, so depth is limited by memory only. A million nested
//     applications or a million non-tail recursive calls are fine.
//
// Steps (eval.Options.Steps, eval.Stats.Steps) count saturated calls: each
// opcode reduction, law application and jet call is one step. The context
// is polled every 1024 steps.
//
// # Pins
//
// Input pins become pin nodes holding the *plan.Pin; their contents are
// converted, and loaded if needed (counted in Stats.PinsLoaded), only when
// evaluation needs them: to find the arity of an applied pin, to run a
// pinned law, or for opcode 1. Results return the same *plan.Pin for
// untouched pins, still unloaded. Opcode 4 normalizes its argument, reads it
// back as a plan.Value and makes plan.P of it; its digest is computed only
// if the pin is applied as a law and jets are on (for the jet lookup), or
// by whoever stores it.
//
// # Jets
//
// A jet replaces a pinned law by native code. Jets are found by the digest
// of the pin (merkle.Digest, the CID's hash), so only the exact law gets
// one. The lookup happens once per pin node, when it is first applied as a
// law: one digest (cached in the plan.Pin; free for stored pins) and one map
// lookup. Built-in jets cover the arithmetic and comparison laws of the
// Pallas seed files (_Add, _Mul, _Sub, _Dec, _Exec with the increment,
// _ToNat, _IsNat, _IsPin, _IsLaw, _If, _Not, natLte, natMin, natCmp, _Cmp,
// id); BuiltinJetPins lists their pins. Add a jet for any other law with
// RegisterJet(digest, name, arity, fn) or RegisterJetFor(pin, ...), where
// digest comes from merkle.Digest(pin) or merkle.DigestOf(cid). A JetFunc
// must keep the law's laziness: it may force (c.Force) only arguments the
// law forces on every path with a value, and it may Decline to let the
// law's own body run. eval.Options.NoJets turns jets off.
//
// # Residuals
//
// When the budget or the context stops an evaluation (between two steps),
// Eval returns an *eval.StoppedError whose Residual is the root's graph
// read back: thunks already reduced are their values, busy thunks are read
// as the thunk they stand for, shared nodes are shared plan.Values (which
// this evaluator turns back into shared nodes), and a cyclic graph is
// written as the letrec ({0 1 (1 v1 ... (1 vm root))} 0). A let slot that
// is a hole is written as a closed expression that loops. With
// Options.WHNF the result is read back the same way (a plain DAG, or a
// letrec when it is cyclic).
//
// # Arity-0 laws
//
// Opcode 0 refuses to make a law of arity 0 (ErrCrash), as PLAN.md 5
// requires. The text syntax still accepts such a literal ({n 0 b}, for
// plan4); this evaluator treats it as an inert value: it is its own normal
// form, opcode 1 reflects on it, and applying it is ErrCrash ("applying a
// law of arity 0").
//
// # Memory
//
// The graph holds what the program holds, plus, per evaluation, one map
// entry per distinct input *plan.App, *plan.Law and *plan.Pin converted
// (bounded by the input) and the explicit stacks. There is no global cache
// of nodes; jet lookups are cached on pin nodes.
package pallas
