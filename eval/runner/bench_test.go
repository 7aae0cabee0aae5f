package runner_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"pstore/eval"
	"pstore/eval/plan4"
	"pstore/eval/runner"
	"pstore/plan"
)

// revMachine reverses the bytes of every input (a string-processing state
// machine): M in = (0 (Rev in 0) M), Rev x acc = Case x: acc, or
// Rev (x/256) (acc*256 + x%256). Arithmetic goes through the jets.
var revMachine = strings.NewReplacer(
	"REV", strings.NewReplacer(
		"R2", `{"R2" 4 (0 (0 1 (0 (0 DIV 2) 256)) (0 (0 ADD (0 (0 MUL 3) 256)) (0 (0 MOD 2) 256)))}`,
	).Replace(`<{"Rev" 2 (0 (0 (0 (0 (0 (0 <3> (0 0)) (0 0)) (0 0)) 2) (0 (0 (0 R2 0) 1) 2)) 1)}>`),
).Replace(`<{"M" 1 (0 (0 (0 0) (0 (0 REV 1) (0 0))) 0)}>`)

func revState(t testing.TB) plan.Value {
	s := strings.NewReplacer(
		"DIV", `<{"Div" 2 0}>`, "MOD", `<{"Mod" 2 0}>`, "MUL", `<{"Mul" 2 0}>`, "ADD", `<{"Add" 2 0}>`,
	).Replace(revMachine)
	v, err := plan.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRevMachine(t *testing.T) {
	for name, e := range evaluators() {
		var out strings.Builder
		_, err := runner.Run(context.Background(), e, revState(t), strings.NewReader("abc\nhello world\n"), &out, io.Discard, runner.Options{})
		// "abc\n" reversed is "\ncba"; its top byte 'a' is dropped.
		if err != nil || out.String() != "\ncb\n\ndlrow olle\n" {
			t.Fatalf("%s: %q %v", name, out.String(), err)
		}
	}
}

func benchRun(b *testing.B, e eval.Evaluator) {
	state := revState(b)
	line := strings.Repeat("the quick brown fox jumps over the lazy dog ", 2) + "\n" // 89 bytes
	input := strings.Repeat(line, 100)
	b.SetBytes(int64(len(input)))
	for b.Loop() {
		if _, err := runner.Run(context.Background(), e, state, strings.NewReader(input), io.Discard, io.Discard, runner.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(101*b.N)/b.Elapsed().Seconds(), "inputs/s")
}

// BenchmarkRunSession: plan4 with its session (state kept in the heap).
func BenchmarkRunSession(b *testing.B) { benchRun(b, plan4.Evaluator{}) }

// BenchmarkRunGeneric: plan4 through Eval per input.
func BenchmarkRunGeneric(b *testing.B) { benchRun(b, genericOnly{plan4.Evaluator{}}) }
