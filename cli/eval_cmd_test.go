package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvalCommand(t *testing.T) {
	dir := t.TempDir()
	mul := "@" + filepath.Join(vectors, "pallas", "mul.seed")
	if out := mustRun(t, dir, "", "eval", "("+mul, "6", "7)"); out != "42\n" {
		t.Fatalf("mul: %q", out)
	}
	if out := mustRun(t, dir, "", "eval", "--no-jets", "("+mul+" 6 7)"); out != "42\n" {
		t.Fatalf("mul without jets: %q", out)
	}
	// expression on stdin
	if out := mustRun(t, dir, "(3 (3 0))", "eval"); out != "2\n" {
		t.Fatalf("stdin: %q", out)
	}
	// plan4 dialect: a pinned nat 2 increments; @file reads plan-di-c files
	if out := mustRun(t, dir, "", "eval", "--evaluator", "plan4", "(<2> 5)"); out != "6\n" {
		t.Fatalf("plan4: %q", out)
	}
	add := "@" + filepath.Join(vectors, "plan4", "Add.seed")
	if out := mustRun(t, dir, "", "eval", "--evaluator", "plan4", "("+add+" 2 3)"); out != "5\n" {
		t.Fatalf("plan4 Add: %q", out)
	}
	// errors: crash (4), budget (5, says how many steps ran), unknown evaluator (1)
	if _, errs, code := pstore(t, dir, "", "eval", "(5 0)"); code != ExitEvalFailed || !strings.Contains(errs, "crash") {
		t.Fatalf("crash: %d %q", code, errs)
	}
	if _, errs, code := pstore(t, dir, "", "eval", `(0 "bh" 1 (1 2 2) 0)`); code != ExitEvalFailed || !strings.Contains(errs, "loop") {
		t.Fatalf("loop: %d %q", code, errs)
	}
	if _, errs, code := pstore(t, dir, "", "eval", "--steps", "5", "--no-jets", "("+mul+" 300 400)"); code != ExitBudget || !strings.Contains(errs, "after 5 steps") {
		t.Fatalf("budget: %d %q", code, errs)
	}
	if _, _, code := pstore(t, dir, "", "eval", "--evaluator", "nope", "1"); code != ExitUsage {
		t.Fatalf("unknown evaluator: %d", code)
	}
	// --pin stores the result; the CID names it in a later expression
	c := strings.TrimSpace(mustRun(t, dir, "", "eval", "--pin", "(0 \"k\" 2 1 5)"))
	if out := mustRun(t, dir, "", "eval", "("+c+" 9)"); out != "5\n" {
		t.Fatalf("applying a stored pin: %q", out)
	}
	if out := mustRun(t, dir, "", "eval", "--json", "(3 1)"); !strings.Contains(out, `"value":"2"`) {
		t.Fatalf("json: %q", out)
	}
	// --pin of a result that is a stored nat large enough to stay in the
	// store's mapping: its body is made before that mapping is closed
	// (it once crashed).
	raw := filepath.Join(dir, "big.bin")
	data := randBytes(3 << 20)
	if err := os.WriteFile(raw, data, 0o644); err != nil {
		t.Fatal(err)
	}
	big := strings.TrimSpace(mustRun(t, dir, "", "put", "--raw", raw))
	c = strings.TrimSpace(mustRun(t, dir, "", "eval", "--pin", "("+big+" 0)"))
	if out := mustRun(t, dir, "", "get", "--raw", c); out != string(data) {
		t.Fatalf("the stored result reads back as %d bytes, want the %d put", len(out), len(data))
	}
}
