package runner_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"pstore/eval"
	"pstore/eval/plan4"
	"pstore/eval/runner"
	"pstore/plan"
)

// State machines in plan4 syntax.
const (
	// Echo: in -> (0 in Echo).
	echo = `<{"Echo" 1 (0 (0 (0 0) 1) 0)}>`
	// Rec acc in -> (0 0 (Rec (acc in))): records every input.
	rec = `(<{"Rec" 2 (0 (0 (0 0) (0 0)) (0 0 (0 1 2)))}> 0)`
	// A -> (0 0 B); B crashes on every input.
	crashSecond = `<{"A" 1 (0 (0 (0 0) (0 0)) (0 <{"B" 1 (0 <4> 1)}>))}>`
	// Shape: returns the input itself (a nat).
	badShape = `<{"S" 1 1}>`
	// Loop: never returns.
	loop = `<{"L" 1 (0 0 1)}>`
)

// konst returns a machine that always outputs out.
func konst(out string) string {
	return `<{"K" 1 (0 (0 (0 0) (0 ` + out + `)) 0)}>`
}

func parse(t *testing.T, s string) plan.Value {
	t.Helper()
	v, err := plan.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// evaluators runs each test with the session path (plan4) and the generic
// Eval path (plan4 hidden behind a wrapper without NewSession).
type genericOnly struct{ eval.Evaluator }

func evaluators() map[string]eval.Evaluator {
	return map[string]eval.Evaluator{"session": plan4.Evaluator{}, "generic": genericOnly{plan4.Evaluator{}}}
}

func run(t *testing.T, e eval.Evaluator, machine, input string, opts runner.Options) (string, string, plan.Value, error) {
	t.Helper()
	var out, diag bytes.Buffer
	final, err := runner.Run(context.Background(), e, parse(t, machine), strings.NewReader(input), &out, &diag, opts)
	return out.String(), diag.String(), final, err
}

func TestEchoAndChunks(t *testing.T) {
	long := strings.Repeat("x", 250)
	for name, e := range evaluators() {
		out, _, _, err := run(t, e, echo, "abc\n\nhello\n"+long+"\nlast", runner.Options{})
		if err != nil {
			t.Fatal(name, err)
		}
		// "\n" alone is one byte: nothing printed. "last" has no newline:
		// its top byte 't' is dropped.
		want := "abc\n" + "hello\n" + long[:100] + "\n" + long[:100] + "\n" + long[:48] + "\n" + "las\n"
		if out != want {
			t.Errorf("%s: echo output\n%q\nwant\n%q", name, out, want)
		}
		// The exact inputs: a 250-byte line is 3 chunks, then the final 0.
		_, _, final, err := run(t, e, rec, "ab\n"+long+"\nz", runner.Options{})
		if err != nil {
			t.Fatal(name, err)
		}
		_, args := final.(*plan.App).Spine()
		acc := args[0].(*plan.App)
		_, ins := acc.Spine()
		wantIns := []plan.Value{
			plan.NatFromBytes([]byte("ab\n")),
			plan.NatFromBytes([]byte(long[:101])),
			plan.NatFromBytes([]byte(long[101:202])),
			plan.NatFromBytes([]byte(long[202:] + "\n")),
			plan.NatFromBytes([]byte("z")),
			plan.N(0),
		}
		if len(ins) != len(wantIns) {
			t.Fatalf("%s: %d inputs: %s", name, len(ins), plan.String(acc))
		}
		for i := range ins {
			if !plan.Equal(ins[i], wantIns[i]) {
				t.Errorf("%s: input %d = %s, want %s", name, i, plan.String(ins[i]), plan.String(wantIns[i]))
			}
		}
		// Empty input: exactly one step, with 0.
		_, _, final, err = run(t, e, rec, "", runner.Options{})
		if err != nil || !plan.Equal(final, parse(t, rec[:len(rec)-2]+"(0 0))")) {
			t.Errorf("%s: empty input: %v %v", name, final, err)
		}
		// Without the final input.
		_, _, final, err = run(t, e, rec, "a\n", runner.Options{NoFinalInput: true})
		if err != nil || !plan.Equal(final, parse(t, rec[:len(rec)-2]+"(0 2657))")) {
			t.Errorf("%s: no final input: %s %v", name, plan.String(final), err)
		}
	}
}

func TestOutputs(t *testing.T) {
	for name, e := range evaluators() {
		for _, c := range []struct{ out, want string }{
			{"0", ""},            // empty output
			{"0x41", ""},         // one byte: nothing, not even a newline
			{"0x0a41", "A\n"},    // "A" + terminator
			{"0x0100", "\x00\n"}, // a NUL content byte
			{`"hi!"`, "hi\n"},    // the top byte is dropped
		} {
			out, _, _, err := run(t, e, konst(c.out), "x\ny\n", runner.Options{})
			if err != nil {
				t.Fatal(name, err)
			}
			want := strings.Repeat(c.want, 3) // two lines and the final 0
			if out != want {
				t.Errorf("%s: output %s: got %q want %q", name, c.out, out, want)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	for name, e := range evaluators() {
		var le *runner.LineError
		_, _, _, err := run(t, e, crashSecond, "ok\nboom\nmore\n", runner.Options{})
		if !errors.As(err, &le) || le.Line != 2 || !errors.Is(err, eval.ErrCrash) {
			t.Errorf("%s: crash: %v", name, err)
		}
		_, diag, _, err := run(t, e, crashSecond, "ok\nboom\nmore\n", runner.Options{KeepGoing: true})
		if err != nil || !strings.Contains(diag, "line 2:") || !strings.Contains(diag, "line 3:") || !strings.Contains(diag, "line 4 (final input 0)") {
			t.Errorf("%s: keep going: %v\n%s", name, err, diag)
		}
		_, _, _, err = run(t, e, badShape, "a\n", runner.Options{})
		if !errors.As(err, &le) || le.Line != 1 || !errors.Is(err, runner.ErrShape) {
			t.Errorf("%s: shape: %v", name, err)
		}
		_, _, _, err = run(t, e, konst("(0 1)"), "a\n", runner.Options{})
		if !errors.Is(err, runner.ErrShape) {
			t.Errorf("%s: non-nat output: %v", name, err)
		}
		_, _, _, err = run(t, e, loop, "a\nb\n", runner.Options{Steps: 1000})
		if !errors.As(err, &le) || le.Line != 1 || !errors.Is(err, eval.ErrBudget) {
			t.Errorf("%s: budget: %v", name, err)
		}
		_, diag, _, err = run(t, e, echo, "a\nb\n", runner.Options{Trace: true})
		if err != nil || strings.Count(diag, "steps") != 3 {
			t.Errorf("%s: trace: %v %q", name, err, diag)
		}
	}
}

func TestStep(t *testing.T) {
	out, next, _, err := runner.Step(context.Background(), plan4.Evaluator{}, parse(t, echo), plan.N(0x0a41), eval.Options{})
	if err != nil || !plan.Equal(out, plan.N(0x0a41)) || !plan.Equal(next, parse(t, echo)) {
		t.Fatal(out, next, err)
	}
}
