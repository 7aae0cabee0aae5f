package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"pstore/db"
	"pstore/pagestore"
	"pstore/plan"
)

const (
	dbCounterPallas = `({"counter" 2 (1 (0 (2 3) 1) (0 (0 (2 0) 3) (0 0 3)))} 0)`
	dbCounterPlan4  = `({"counter" 2 (1 (0 <2> 1) (0 (0 (0 0) 3) (0 0 3)))} 0)`
	// dbEchoPallas outputs its input: (DB x) = (0 x DB).
	dbEchoPallas = `{"echo" 1 (0 (0 (2 0) 1) 0)}`
	// dbApplyPallas outputs (x 0): inputs that crash when applied are
	// rejected.
	dbApplyPallas = `{"apply" 1 (0 (0 (2 0) (0 1 (2 0))) 0)}`
)

func runExit(t *testing.T, dir, stdin string, want int, args ...string) (string, string) {
	t.Helper()
	out, errs, code := pstore(t, dir, stdin, args...)
	if code != want {
		t.Fatalf("pstore %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, want, out, errs)
	}
	return out, errs
}

func TestDBCommands(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "db", "create", "c", "--init", dbCounterPallas, "--snapshot-every", "3")
	for i := 1; i <= 4; i++ {
		out := mustRun(t, dir, "", "db", "send", "c", "0")
		if strings.TrimSpace(out) != string(rune('0'+i)) {
			t.Fatalf("send %d printed %q", i, out)
		}
	}
	// A second evaluator in the same store.
	mustRun(t, dir, "", "db", "create", "p", "--init", dbCounterPlan4, "--evaluator", "plan4")
	if out := mustRun(t, dir, "", "db", "send", "p", "7"); strings.TrimSpace(out) != "1" {
		t.Fatalf("plan4 send: %q", out)
	}

	out := mustRun(t, dir, "", "db", "status", "c")
	if !strings.Contains(out, "events      4") || !strings.Contains(out, "snapshot    event 3") {
		t.Fatalf("status:\n%s", out)
	}
	var st struct {
		Events         uint64 `json:"events"`
		Evaluator      string `json:"evaluator"`
		StoreFileBytes int64  `json:"store_file_bytes"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, dir, "", "db", "status", "p", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Events != 1 || st.Evaluator != "plan4" || st.StoreFileBytes <= 0 {
		t.Fatalf("status --json %+v", st)
	}

	out = mustRun(t, dir, "", "db", "log", "c", "--from", "3")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "3\taccepted\t0\t-> 3") {
		t.Fatalf("log:\n%s", out)
	}
	var ents []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, dir, "", "db", "log", "c", "--json")), &ents); err != nil {
		t.Fatal(err)
	}
	if len(ents) != 4 || ents[3]["output"] != "4" || ents[0]["outcome"] != "accepted" {
		t.Fatalf("log --json %v", ents)
	}

	var list []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, dir, "", "db", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0]["name"] != "c" || list[1]["evaluator"] != "plan4" {
		t.Fatalf("list %v", list)
	}
	if out := mustRun(t, dir, "", "db", "list"); !strings.Contains(out, "c\tpallas\t4 events") {
		t.Fatalf("list: %q", out)
	}

	snapOut := mustRun(t, dir, "", "db", "snapshot", "c")
	if !strings.HasPrefix(snapOut, "b") {
		t.Fatalf("snapshot printed %q", snapOut)
	}
	replayOut := mustRun(t, dir, "", "db", "replay", "c", "--verify")
	if replayOut != snapOut {
		t.Fatalf("replay state %q, snapshot %q", replayOut, snapOut)
	}
	mustRun(t, dir, "", "db", "send", "c", "0")
	mustRun(t, dir, "", "db", "compact", "c")
	if out := mustRun(t, dir, "", "db", "log", "c"); !strings.HasPrefix(out, "5\taccepted") {
		t.Fatalf("log after compact:\n%s", out)
	}
	mustRun(t, dir, "", "db", "replay", "c", "--verify")

	mustRun(t, dir, "", "db", "drop", "p")
	runExit(t, dir, "", 2, "db", "status", "p")
	runExit(t, dir, "", 2, "db", "send", "p", "1")
	runExit(t, dir, "", 1, "db", "create", "c", "--init", "0")
	runExit(t, dir, "", 1, "db", "create", "x")
	runExit(t, dir, "", 1, "db", "frobnicate")
	runExit(t, dir, "", 1, "db", "send", "c", "(")
}

func TestDBRejectedExitCodes(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "db", "create", "a", "--init", dbApplyPallas, "--steps", "1000")
	runExit(t, dir, "", 4, "db", "send", "a", "7")               // (7 0) crashes
	runExit(t, dir, "", 5, "db", "send", "a", `{"L" 1 (0 0 1)}`) // loops until the budget
	out := mustRun(t, dir, "", "db", "send", "a", `{"K" 2 1}`)   // a closure
	if strings.TrimSpace(out) != `({75 2 1} 0)` {
		t.Fatalf("send printed %q", out)
	}
	out = mustRun(t, dir, "", "db", "log", "a")
	if !strings.Contains(out, "1\trejected (crash)") || !strings.Contains(out, "3\taccepted") {
		t.Fatalf("log:\n%s", out)
	}
	mustRun(t, dir, "", "db", "replay", "a", "--verify")
}

func TestDBRun(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "db", "create", "e", "--init", dbEchoPallas)
	long := strings.Repeat("x", 250)
	out := mustRun(t, dir, "hello\nab\n"+long+"\nx\ntail", "db", "run", "e")
	// Outputs of two or more bytes print without their top byte, then a
	// newline: "hello\n" -> "hello\n"; "x\n" -> "x\n"; the 101-byte chunks
	// of the long line lose their last 'x'; "tail" loses its 'l'.
	want := "hello\nab\n" + strings.Repeat("x", 100) + "\n" + strings.Repeat("x", 100) + "\n" + strings.Repeat("x", 48) + "\n" + "x\n" + "tai\n"
	if out != want {
		t.Fatalf("run output %q\nwant %q", out, want)
	}
	var s struct {
		Events uint64 `json:"events"`
	}
	json.Unmarshal([]byte(mustRun(t, dir, "", "db", "status", "e", "--json")), &s)
	if s.Events != 7 { // no final input 0
		t.Fatalf("%d events logged", s.Events)
	}
	// Empty stdin sends nothing.
	mustRun(t, dir, "", "db", "run", "e")
	json.Unmarshal([]byte(mustRun(t, dir, "", "db", "status", "e", "--json")), &s)
	if s.Events != 7 {
		t.Fatalf("%d events after empty run", s.Events)
	}

	mustRun(t, dir, "", "db", "create", "a", "--init", dbApplyPallas)
	// Each line is a nat of at least 5, which crashes when applied to 0,
	// so every line is rejected: the run stops at line 1, unless
	// --keep-going, which reads on (and still exits 4).
	_, errs := runExit(t, dir, "a\nb\n", 4, "db", "run", "a")
	if !strings.Contains(errs, "line 1") {
		t.Fatalf("stderr %q", errs)
	}
	_, errs = runExit(t, dir, "a\nb\n", 4, "db", "run", "a", "--keep-going")
	if !strings.Contains(errs, "line 2") {
		t.Fatalf("stderr %q", errs)
	}
	json.Unmarshal([]byte(mustRun(t, dir, "", "db", "status", "a", "--json")), &s)
	if s.Events != 3 {
		t.Fatalf("%d events after rejected runs", s.Events)
	}
}

// TestDBReadWhileWriterRuns: status, log and replay open the store
// read-only, so they work while another handle holds the writer lock; they
// see the database as of its last checkpoint.
func TestDBReadWhileWriterRuns(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "db", "create", "c", "--init", dbCounterPallas)
	st, err := pagestore.Open(dir, pagestore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := db.Open(context.Background(), st, "c")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i := 0; i < 3; i++ {
		if _, _, err := d.Send(context.Background(), plan.N(0)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := d.Snapshot(context.Background()); err != nil { // checkpoints
		t.Fatal(err)
	}
	out := mustRun(t, dir, "", "db", "status", "c")
	if !strings.Contains(out, "events      3") {
		t.Fatalf("status while the writer runs:\n%s", out)
	}
	if out := mustRun(t, dir, "", "db", "log", "c", "--from", "3"); !strings.HasPrefix(out, "3\taccepted") {
		t.Fatalf("log: %q", out)
	}
	mustRun(t, dir, "", "db", "replay", "c", "--verify")
	// A writer command waits for the lock, then gives up (exit 7).
	runExit(t, dir, "", 7, "db", "send", "c", "0", "--wait", "50ms")
}
