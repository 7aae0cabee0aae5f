package runner_test

import (
	"testing"

	"pstore/eval/pallas"
	"pstore/eval/runner"
)

// The runner is evaluator-generic: the same echo machine in Pallas syntax
// (quote is (2 x) there) through the pallas evaluator.
func TestPallasEcho(t *testing.T) {
	const echoPallas = `<{"Echo" 1 (0 (0 (2 0) 1) 0)}>`
	out, _, _, err := run(t, pallas.Evaluator{}, echoPallas, "abc\nhello\n", runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out != "abc\nhello\n" {
		t.Fatalf("got %q", out)
	}
}
