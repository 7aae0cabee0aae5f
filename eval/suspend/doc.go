// Package suspend turns a stopped evaluation into a pin and back: pause a
// computation (step budget, deadline, Ctrl-C), store it as an ordinary pin,
// move it to another store by CID, and resume it there (issue 9).
//
// # Format
//
// A suspended computation is the pin
//
//	<({"pstore:suspended" 6 0} version evaluator steps law dummy)>
//
// with version 1 (Version), evaluator the registry name of the evaluator
// as a string nat ("pallas", "plan4"), steps the number of steps run so
// far over every run of the job (informational), law a law of arity 1 and
// dummy the nat 0. The record law has arity 6 and five arguments, so the
// contents are a closure, in normal form in both dialects (no bare nat
// head, which pallas would read as an opcode call; the law is not
// saturated). Resuming evaluates (law dummy) with the named evaluator;
// the application is stored as two fields because, saturated, it would
// not be normal.
//
// # The residual law
//
// The evaluators' residuals (eval.StoppedError.Residual) are plain values
// that evaluate to the same result: a DAG of thunks, or for a cyclic graph
// the letrec ({0 1 body} 0). Neither is storable as is: a thunk is not
// normal, and a residual letrec body may hold constants that are thunks
// (pallas writes an input app it never converted as a quoted constant;
// both evaluators treat law-body constants as normal forms, so such a
// law would be wrong, not just unnormalized). So Encode reads the residual
// into an expression graph (a letrec residual is unfolded by the dialect's
// own instantiation rules, PLAN.md 6.2-6.3 or PLAN4.md 6.2-6.4, so aliases,
// self-references and black holes mean what the evaluator would make of
// them) and writes it again as the body of {0 1 body}:
//
//   - every app that is not provably in normal form for the dialect is
//     built with the apply form (0 f x), one argument at a time;
//   - constants are nats, laws, pins and apps proved normal (arity rules of
//     the dialect; an app whose head is an unloaded pin is not proved and is
//     rebuilt instead, which is always correct); nats and apps are quoted
//     ((2 x) in pallas, (0 x) in plan4);
//   - every expression node with two or more references (the root counts
//     one), which includes one node of every cycle, is a let binding on
//     the leading let spine (1 v rest); a black hole is a let bound to its
//     own slot, which both dialects read as a hole.
//
// The body is therefore made of nat-headed closures of normal parts: normal
// in both dialects (tested by normalizing it with the evaluator: zero steps,
// an equal value). Sharing in the residual (the same *plan.App twice, or a
// let slot) is sharing in the rebuilt graph; work already done (reduced
// thunks) is kept, so resuming loses at most the reduction that was in
// progress. Pins are child pins of the record, so moving the record's DAG
// moves everything the computation holds.
//
// Resuming runs one law call (instantiating the body) before the work
// continues; ResumeJob adds that step to a step budget. The normal form is
// identical to an uninterrupted run's.
//
// Progress. Completed reductions are never redone, but a reduction in
// progress when the stop came (an opcode waiting for its arguments, a
// non-tail call waiting for its callee) is restored to its thunk and
// started again on resume. Both evaluators count an opcode or increment
// when it completes (a law call completes as it starts), and may stop right
// after a completion, whose result stays in the graph: so every resume with
// a budget of at least one step makes progress, however deep the nesting of
// reductions in progress (eval/pallas TestResumeWithSmallBudgetMakesProgress:
// 20,000 nested increments resumed with budgets of 500).
//
// Errors: ErrNotSuspended (a value that is not a suspended record),
// ErrVersion, ErrNoResidual (the evaluator could not produce a residual).
package suspend
