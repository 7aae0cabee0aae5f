// Package plan4 is the evaluator of the 4-opcode PLAN dialect of
// plan-di-c (spec/PLAN4.md), registered as "plan4".
//
// Model. Each Eval builds its own mutable heap graph (node.go): input
// plan.Values are converted lazily, one node at a time, as evaluation
// reaches them; pins are loaded through their loader only when their
// contents are needed (a call, a case, a comparison), and counted in
// Stats.PinsLoaded; results are converted back preserving sharing, and a
// pin or law that came from the input comes back as the very same value
// (an untouched unloaded pin stays the same *plan.Pin, unloaded).
//
// Evaluation is lazy graph reduction with in-place update: an app node is
// overwritten with its value (a small nat in place, anything else through
// an indirection), so a shared thunk is reduced once. A node under
// evaluation is a black hole: needing it again is eval.ErrLoop, and so is
// normalizing a cyclic value. Law bodies are compiled once per law into a
// post-order program (compile.go) with argument arrays: a saturated call
// is one node, and a law's result call is applied directly (tail calls run
// in constant stack).
//
// Guarantees:
//   - No Go recursion proportional to the input or the computation: the
//     evaluator, the normalizer, the comparison jet, conversion in and out,
//     and residual construction all use explicit stacks. The explicit
//     stack is bounded (maxFrames); a runaway recursion ends with a
//     *eval.StoppedError wrapping eval.ErrBudget (no residual).
//   - Memory is bounded by the live graph plus the explicit stack, and
//     popped frames keep nothing alive past an evaluation: Eval's machine
//     is dropped whole when it returns, and a session clears its stacks
//     after each input.
//   - Budgets and cancellation stop at a step boundary with a
//     *eval.StoppedError whose Residual is a plain value with the same
//     result: the frames are turned back into the expressions they stand
//     for, black holes are restored, and shared or cyclic thunks are bound
//     by lets in ({0 1 body} 0). A step is counted when a call completes,
//     so resuming re-enters a half-done primitive for free; the let
//     wrapper of a residual costs one step.
//   - Errors: eval.ErrCrash for calling a pinned nat above 3 (after
//     normalizing the payload, as the reference does: "Exception(k): x"),
//     eval.ErrLoop for black holes, cycles and Div/Mod by zero (the laws
//     diverge there), eval.ErrBudget, eval.ErrCanceled (wrapping the
//     context's error), or a pin load error.
//
// Jets (jets.go) are matched when a pin is made (by <0>, or when an input
// pin is loaded) by the contents' law name and arity only, as the dialect
// requires: Add, Sub, Mul, Div, Mod, Dec, Cmp, Trace. Each computes what
// the Sire law computes, forcing no more than the law (Cmp is lazy).
// Three more (Ix, BitSz, Eql; jetexact.go) are matched by the exact law,
// body included, so they cannot change any result. Options.NoJets runs the
// laws instead.
//
// Evaluator also implements runner.SessionMaker: a runner.Session keeps a
// state machine's state in one heap between inputs. A session, like an
// Eval, is used by one goroutine; Evaluator itself is safe for concurrent
// use.
package plan4
