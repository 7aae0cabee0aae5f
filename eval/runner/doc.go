// Package runner drives a PLAN state machine with the line protocol of
// PLAN4.md section 10, through any eval.Evaluator.
//
// Protocol. Input is read in chunks: bytes up to and including a newline,
// or 101 bytes, whichever comes first (a longer line is split; a last line
// without a newline is its own chunk). Each chunk, read as a little-endian
// nat, is one input. The state S is applied to it and the result is
// normalized: R = NF(S input). R must be an app with at least two
// arguments; its last argument is the next state and the one before it the
// output. An output of L >= 2 bytes is written without its most significant
// byte, followed by a newline; shorter outputs write nothing. After the last
// chunk the machine gets one more input, 0 (Options.NoFinalInput turns this
// off, for callers that feed a machine in pieces).
//
// Guarantees and caveats:
//   - Outputs go to the out writer only, in input order; diagnostics (errors
//     with their line numbers, Options.Trace lines, and Trace jet output)
//     go to diag.
//   - A failed input (crash, loop, exhausted budget, bad result shape) is
//     reported as a *LineError carrying the 1-based line number of the
//     chunk (the final 0 input counts as the line after the last one). Run
//     stops at the first one unless Options.KeepGoing is set; the state is
//     then left as it was before the failed input.
//   - Evaluators that implement SessionMaker keep the state in their own
//     heap between inputs (no conversion of the whole state per input);
//     the results are the same as with the generic path, which evaluates
//     (state input) with Evaluator.Eval every time.
//   - A Run is used by one goroutine.
package runner
