package cli

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pstore/db"
	"pstore/pagestore"
	"pstore/plan"
)

func TestEvalSuspendResume(t *testing.T) {
	dir := t.TempDir()
	mul := "@" + filepath.Join(vectors, "pallas", "mul.seed")
	expr := "(" + mul + " 30 40)"
	// Finishing under --suspend prints the normal form.
	if out := mustRun(t, dir, "", "eval", "--suspend", "--no-jets", "("+mul+" 3 4)"); out != "12\n" {
		t.Fatalf("finished: %q", out)
	}
	out, errs, code := pstore(t, dir, "", "eval", "--steps", "300", "--suspend", "--no-jets", expr)
	if code != ExitSuspended || !strings.Contains(errs, "resume") {
		t.Fatalf("eval --suspend: exit %d, %q", code, errs)
	}
	c1 := strings.TrimSpace(out)
	jobs := mustRun(t, dir, "", "jobs")
	if !strings.HasPrefix(jobs, c1+"\tpallas\t300 steps") {
		t.Fatalf("jobs: %q", jobs)
	}
	// gc keeps the job (it is under jobs/CID).
	mustRun(t, dir, "", "gc")
	// Resume for another 300 steps: a new job replaces the old one.
	out, _, code = pstore(t, dir, "", "resume", c1, "--steps", "300", "--suspend", "--no-jets")
	if code != ExitSuspended {
		t.Fatalf("resume --suspend: exit %d", code)
	}
	c2 := strings.TrimSpace(out)
	var list []jobInfo
	if err := json.Unmarshal([]byte(mustRun(t, dir, "", "jobs", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].CID != c2 || list[0].Evaluator != "pallas" || list[0].Steps != 601 { // 300 + 300, plus the step that applies the residual law
		t.Fatalf("jobs --json: %+v", list)
	}
	// Without --suspend a budget stop fails (exit 5) and keeps the job.
	if _, _, code := pstore(t, dir, "", "resume", c2, "--steps", "10", "--no-jets"); code != ExitBudget {
		t.Fatalf("resume without --suspend: exit %d", code)
	}
	if out := mustRun(t, dir, "", "resume", c2, "--no-jets"); out != "1200\n" {
		t.Fatalf("resume: %q", out)
	}
	if jobs := mustRun(t, dir, "", "jobs"); jobs != "" {
		t.Fatalf("finished job still listed: %q", jobs)
	}
	// Resuming something that is not a job is a usage error.
	c := strings.TrimSpace(mustRun(t, dir, "", "eval", "--pin", "(0 1 2)"))
	if _, _, code := pstore(t, dir, "", "resume", c); code != ExitUsage {
		t.Fatalf("resume of a non-job: exit %d", code)
	}

	// plan4, several cycles.
	add := "@" + filepath.Join(vectors, "plan4", "Mul.seed")
	out, _, code = pstore(t, dir, "", "eval", "--evaluator", "plan4", "--no-jets", "--steps", "200", "--suspend", "("+add+" 7 9)")
	for code == ExitSuspended {
		out, _, code = pstore(t, dir, "", "resume", strings.TrimSpace(out), "--no-jets", "--steps", "200", "--suspend")
	}
	if code != 0 || out != "63\n" {
		t.Fatalf("plan4: exit %d, %q", code, out)
	}
}

// TestEvalSuspendInterrupt: a canceled context (what Ctrl-C does to the
// command line's context) suspends an evaluation under --suspend.
func TestEvalSuspendInterrupt(t *testing.T) {
	dir := t.TempDir()
	mul := "@" + filepath.Join(vectors, "pallas", "mul.seed")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	out, errs, code := pstoreCtx(t, ctx, dir, "", "eval", "--suspend", "--no-jets", "("+mul+" 2000 3000)")
	if code != ExitSuspended || !strings.Contains(errs, "interrupted") {
		t.Fatalf("exit %d, %q", code, errs)
	}
	if got := mustRun(t, dir, "", "resume", strings.TrimSpace(out)); got != "6000000\n" {
		t.Fatalf("resume: %q", got)
	}
}

// TestJobsListsPendingDBInput: a database input suspended by its budget
// shows in `pstore jobs` under its database's root.
func TestJobsListsPendingDBInput(t *testing.T) {
	dir := t.TempDir()
	st, err := pagestore.Open(dir, pagestore.Options{Create: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	init, _ := plan.Parse(`({"w" 2 (1 (0 (2 3) 1) (1 (0 {"down" 1 (0 (0 (2 (2 0)) 0) 1)} 2) (0 (0 (2 0) (0 (0 (2 0) 3) 4)) (0 0 3))))} 0)`)
	ctx := context.Background()
	d, err := db.Create(ctx, st, "work", init, db.CreateOptions{Steps: 1000, OnBudget: db.OnBudgetSuspend})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Send(ctx, plan.N(50_000_000)); !errors.Is(err, db.ErrPending) {
		t.Fatal(err)
	}
	d.Close()
	st.Close()
	var list []jobInfo
	if err := json.Unmarshal([]byte(mustRun(t, dir, "", "jobs", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Ref != "db/work" || list[0].Evaluator != "pallas" || list[0].Steps < 1000 {
		t.Fatalf("jobs: %+v", list)
	}
}
