package cli

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestRunCommand(t *testing.T) {
	dir := t.TempDir()
	echo := `<{"Echo" 1 (0 (0 (0 0) 1) 0)}>`
	// a line longer than 101 bytes arrives in chunks; each chunk echoes
	long := strings.Repeat("x", 150)
	out := mustRun(t, dir, "hi\n"+long+"\n", "run", "--evaluator", "plan4", echo)
	// 151 bytes: chunks of 101 (100 printed: the top byte is dropped) and 50 (49 x and the newline)
	want := "hi\n" + strings.Repeat("x", 100) + "\n" + strings.Repeat("x", 49) + "\n"
	if out != want {
		t.Fatalf("echo:\n%q\nwant\n%q", out, want)
	}
	// the state machine can come from the store by CID
	c := strings.TrimSpace(mustRun(t, dir, echo, "put"))
	if out := mustRun(t, dir, "ok\n", "run", "--evaluator", "plan4", c); out != "ok\n" {
		t.Fatalf("by CID: %q", out)
	}
	// a crash on line 2 names the line and exits 4; --keep-going goes on
	crash2 := `<{"A" 1 (0 (0 (0 0) (0 0)) (0 <{"B" 1 (0 <4> 1)}>))}>`
	_, errs, code := pstore(t, dir, "a\nb\nc\n", "run", "--evaluator", "plan4", crash2)
	if code != ExitEvalFailed || !strings.Contains(errs, "line 2") {
		t.Fatalf("crash: %d %q", code, errs)
	}
	if _, errs, code := pstore(t, dir, "a\nb\nc\n", "run", "--evaluator", "plan4", "--keep-going", crash2); code != 0 || !strings.Contains(errs, "line 2") {
		t.Fatalf("keep-going: %d %q", code, errs)
	}
	// a bad result shape is reported with its line
	if _, errs, code := pstore(t, dir, "x\n", "run", "--evaluator", "plan4", `<{"S" 1 1}>`); code != ExitEvalFailed || !strings.Contains(errs, "line 1") {
		t.Fatalf("shape: %d %q", code, errs)
	}
	// --trace writes per-input lines to stderr, nothing extra to stdout
	out, errs, code = pstore(t, dir, "a\n", "run", "--evaluator", "plan4", "--trace", echo)
	if code != 0 || out != "a\n" || !strings.Contains(errs, "steps") {
		t.Fatalf("trace: %d %q %q", code, out, errs)
	}
	if _, _, code := pstore(t, dir, "", "run"); code != ExitUsage {
		t.Fatalf("no state: %d", code)
	}
}

// TestTuneGC: run tunes the collector only when the user did not (GOGC,
// GOMEMLIMIT), and restores the settings it changed.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 40))
	settings := func() (int, int64) {
		gc := debug.SetGCPercent(100)
		debug.SetGCPercent(gc)
		return gc, debug.SetMemoryLimit(-1) // -1 reads it
	}
	for _, k := range []string{"GOGC", "GOMEMLIMIT"} {
		env := &Env{Getenv: func(name string) string {
			if name == k {
				return "100"
			}
			return ""
		}}
		restore := tuneGC(env)
		if gc, mem := settings(); gc != 100 || mem != 1<<40 {
			t.Errorf("%s set: GOGC %d, limit %d", k, gc, mem)
		}
		restore()
	}
	restore := tuneGC(&Env{Getenv: func(string) string { return "" }})
	if gc, mem := settings(); gc != 400 || mem != 1536<<20 {
		t.Errorf("tuned: GOGC %d, limit %d", gc, mem)
	}
	restore()
	if gc, mem := settings(); gc != 100 || mem != 1<<40 {
		t.Errorf("restored: GOGC %d, limit %d", gc, mem)
	}
}
