package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pstore/pagestore"
	"pstore/plan"
)

const vectors = "../../shared/vectors"

// pstore runs the command line in-process against store dir and returns
// stdout, stderr and the exit code.
func pstore(t *testing.T, dir string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return pstoreCtx(t, context.Background(), dir, stdin, args...)
}

// pstoreCtx is pstore with a context (to cancel a command, as Ctrl-C does).
func pstoreCtx(t *testing.T, ctx context.Context, dir string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := func(k string) string {
		switch k {
		case "PSTORE_DIR":
			return dir
		case "PSTORE_NOSYNC":
			return "1"
		}
		return ""
	}
	code := Main(ctx, args, strings.NewReader(stdin), &out, &errb, env)
	return out.String(), errb.String(), code
}

func mustRun(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	out, errs, code := pstore(t, dir, stdin, args...)
	if code != 0 {
		t.Fatalf("pstore %v: exit %d: %s", args, code, errs)
	}
	return out
}

func TestVersionHelpAndUsage(t *testing.T) {
	dir := t.TempDir()
	if out := mustRun(t, dir, "", "--version"); !strings.HasPrefix(out, "pstore ") {
		t.Fatalf("version: %q", out)
	}
	if out := mustRun(t, dir, "", "help"); !strings.Contains(out, "decode") || !strings.Contains(out, "put") {
		t.Fatalf("help: %q", out)
	}
	if _, _, code := pstore(t, dir, "", "nosuchcommand"); code != ExitUsage {
		t.Fatalf("unknown command exit %d", code)
	}
	if _, errs, code := pstore(t, dir, "", "decode", "--bogus", "x"); code != ExitUsage || !strings.Contains(errs, "unknown flag") {
		t.Fatalf("bad flag: %d %q", code, errs)
	}
}

func TestDecodeVectors(t *testing.T) {
	dir := t.TempDir()
	tsv, err := os.ReadFile(filepath.Join(vectors, "pallas", "decoded.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(tsv)), "\n") {
		name, want, _ := strings.Cut(line, "\t")
		// flags after the argument work too
		out := mustRun(t, dir, "", "decode", filepath.Join(vectors, "pallas", name), "--limit", "-1")
		got, err := plan.Parse(out)
		if err != nil {
			t.Fatalf("%s: output does not parse: %v", name, err)
		}
		wantV, err := plan.Parse(want)
		if err != nil {
			t.Fatal(err)
		}
		if !plan.Equal(got, wantV) {
			t.Errorf("%s: decoded tree differs", name)
		}
	}
	// plan4 files need the plan4 convention (their hole is <0>).
	add := filepath.Join(vectors, "plan4", "Add.seed")
	if _, errs, code := pstore(t, dir, "", "decode", add); code == 0 || !strings.Contains(errs, "hole") {
		t.Fatalf("plan4 file decoded without a convention: %d %s", code, errs)
	}
	out := mustRun(t, dir, "", "decode", "--dialect", "plan4", add)
	if !strings.HasPrefix(out, `(<0> (<0> 1 "Add" 2`) {
		t.Fatalf("plan4 decode: %.80s", out)
	}
	if _, _, code := pstore(t, dir, "", "decode", "/no/such/file.seed"); code != ExitNotFound {
		t.Fatalf("missing file exit %d", code)
	}
	if _, errs, code := pstore(t, dir, "", "decode", "--limit", "20", filepath.Join(vectors, "pallas", "cmp.seed")); code == 0 || !strings.Contains(errs, "limit") {
		t.Fatalf("limit not enforced: %d %s", code, errs)
	}
}

func TestEncodeDecodeRoundTripBothDialects(t *testing.T) {
	dir := t.TempDir()
	tmp := t.TempDir()
	src := `<{"f" 2 (0 1 <{"g" 1 1}>)}>`
	for _, d := range []string{"pallas", "plan4"} {
		seedBytes := mustRun(t, dir, src, "encode", "--dialect", d)
		f := filepath.Join(tmp, d+".seed")
		os.WriteFile(f, []byte(seedBytes), 0o644)
		// @file.seed reads it back with the same convention; cid agrees
		c1 := mustRun(t, dir, src, "cid")
		c2 := mustRun(t, dir, "@"+f, "cid", "--dialect", d)
		if c1 != c2 {
			t.Fatalf("%s: value changed through encode/@file: %s vs %s", d, c1, c2)
		}
	}
	// pallas file of the vectors: reading the pin mul.seed gives a pin
	c := mustRun(t, dir, "@"+filepath.Join(vectors, "pallas", "mul.seed"), "cid")
	if !strings.HasPrefix(c, "b") {
		t.Fatal(c)
	}
}

func TestCIDRules(t *testing.T) {
	dir := t.TempDir()
	// A value that is already a pin gets that pin's CID; any other value v
	// the CID of <v>.
	a := mustRun(t, dir, "(1 2 3)", "cid")
	b := mustRun(t, dir, "<(1 2 3)>", "cid")
	if a != b {
		t.Fatal("cid of v and <v> differ")
	}
	if mustRun(t, dir, "<<(1 2 3)>>", "cid") == a {
		t.Fatal("nested pin has the same CID")
	}
	// text forms of the same value
	if mustRun(t, dir, `{"id" 1 1}`, "cid") != mustRun(t, dir, "{25705 1 1}", "cid") {
		t.Fatal("string nat and decimal differ")
	}
	if _, errs, code := pstore(t, dir, "(1 2", "cid"); code != ExitUsage || !strings.Contains(errs, "1:5") {
		t.Fatalf("syntax error: %d %q", code, errs)
	}
	// no store was created by cid
	if _, err := os.Stat(filepath.Join(dir, "meta")); err == nil {
		t.Fatal("cid created a store")
	}
}

func TestPutGetRefsStatVerifyGC(t *testing.T) {
	dir := t.TempDir()
	c := strings.TrimSpace(mustRun(t, dir, `(1 2 <{"f" 2 1}> <3>)`, "put"))
	if c != strings.TrimSpace(mustRun(t, dir, `(1 2 <{"f" 2 1}> <3>)`, "cid")) {
		t.Fatal("put and cid disagree")
	}
	out := mustRun(t, dir, "", "get", c)
	if strings.Count(out, "bagay") != 2 {
		t.Fatalf("child pins should print as CIDs: %s", out)
	}
	// the printed text parses back (CID tokens resolve in the store) to the same pin
	if strings.TrimSpace(mustRun(t, dir, out, "cid")) != c {
		t.Fatal("get output does not round trip")
	}
	if got := mustRun(t, dir, "", "get", "--inline", c); strings.TrimSpace(got) != `<(1 2 <{102 2 1}> <3>)>` {
		t.Fatalf("inline: %s", got)
	}
	refs := strings.Fields(mustRun(t, dir, "", "refs", c))
	if len(refs) != 2 {
		t.Fatalf("refs: %v", refs)
	}
	// put a value naming a stored pin by CID: stored as a child
	c2 := strings.TrimSpace(mustRun(t, dir, "(0 7 "+c+")", "put")) // a closure: normal in pallas
	if all := strings.Fields(mustRun(t, dir, "", "refs", "-r", c2)); len(all) != 3 {
		t.Fatalf("refs -r: %v", all)
	}
	// raw bytes, including trailing zeros and empty input
	tmp := t.TempDir()
	for _, data := range [][]byte{{}, {0}, {1, 2, 0, 0}, randBytes(300_000)} {
		f := filepath.Join(tmp, "f")
		os.WriteFile(f, data, 0o644)
		rc := strings.TrimSpace(mustRun(t, dir, "", "put", "--raw", f))
		if got := mustRun(t, dir, "", "get", "--raw", rc); got != string(data) {
			t.Fatalf("raw round trip of %d bytes gave %d", len(data), len(got))
		}
	}
	// seed export of the whole DAG, re-imported with put --seed: same CID
	seedOut := mustRun(t, dir, "", "get", "--seed", c2)
	sf := filepath.Join(tmp, "dag.seed")
	os.WriteFile(sf, []byte(seedOut), 0o644)
	if strings.TrimSpace(mustRun(t, dir, "", "put", "--seed", sf)) != c2 {
		t.Fatal("get --seed / put --seed changed the value")
	}
	// refs and gc
	mustRun(t, dir, "", "ref", "set", "keep", c2)
	if l := mustRun(t, dir, "", "ref", "list"); !strings.Contains(l, "keep\t"+c2) {
		t.Fatalf("ref list: %q", l)
	}
	if l := mustRun(t, dir, "", "ref", "list", "--json"); !strings.Contains(l, `"name":"keep"`) {
		t.Fatalf("ref list --json: %q", l)
	}
	mustRun(t, dir, "", "gc")
	mustRun(t, dir, "", "get", c) // reachable from keep
	if _, _, code := pstore(t, dir, "", "get", strings.TrimSpace(mustRun(t, dir, "<3>", "cid"))); code != 0 {
		t.Fatal("reachable child lost by gc")
	}
	stat := mustRun(t, dir, "", "stat", "--json")
	if !strings.Contains(stat, `"pins":4,`) {
		t.Fatalf("after gc: %s", stat)
	}
	if out := mustRun(t, dir, "", "verify"); !strings.HasPrefix(out, "ok") {
		t.Fatal(out)
	}
	// put --ref names the pin in the same commit
	c3 := strings.TrimSpace(mustRun(t, dir, "(0 99)", "put", "--ref", "other"))
	mustRun(t, dir, "", "gc")
	mustRun(t, dir, "", "get", c3)
	mustRun(t, dir, "", "ref", "rm", "other")
	mustRun(t, dir, "", "ref", "rm", "keep")
	if _, _, code := pstore(t, dir, "", "ref", "rm", "keep"); code != ExitNotFound {
		t.Fatalf("rm of missing ref: %d", code)
	}
	// errors: unknown CID, malformed CID, missing store
	unknown := strings.TrimSpace(mustRun(t, dir, "12345", "cid"))
	if _, errs, code := pstore(t, dir, "", "get", unknown); code != ExitNotFound || strings.Count(errs, "\n") != 1 {
		t.Fatalf("unknown CID: %d %q", code, errs)
	}
	if _, _, code := pstore(t, dir, "", "get", "bafyNOT"); code != ExitUsage {
		t.Fatalf("malformed CID: %d", code)
	}
	if _, errs, code := pstore(t, filepath.Join(dir, "nope"), "", "get", unknown); code != ExitNotFound || !strings.Contains(errs, "no store") {
		t.Fatalf("missing store: %d %q", code, errs)
	}
}

func TestVerifyReportsCorruption(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "", "put", "--raw", writeTemp(t, randBytes(1000)))
	// flip a byte in the middle of every segment file
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*"))
	if len(segs) == 0 {
		t.Fatal("no segment files")
	}
	for _, s := range segs {
		b, _ := os.ReadFile(s)
		for i := len(b) / 2; i < len(b); i++ {
			if b[i] != 0 {
				b[i] ^= 0x55
				break
			}
		}
		os.WriteFile(s, b, 0o644)
	}
	out, errs, code := pstore(t, dir, "", "verify")
	if code != ExitCorrupt || !strings.Contains(errs, "corrupt") {
		t.Fatalf("verify after corruption: exit %d out %q err %q", code, out, errs)
	}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func writeTemp(t *testing.T, b []byte) string {
	f := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSecondWriterWaitsThenFails(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "1", "put")
	holder, err := pagestore.Open(dir, pagestore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, errs, code := pstore(t, dir, "2", "put", "--wait", "300ms")
	if code != ExitTimeout || !strings.Contains(errs, "locked") {
		t.Fatalf("second writer: exit %d %q", code, errs)
	}
	if el := time.Since(start); el < 250*time.Millisecond {
		t.Fatalf("did not wait: %v", el)
	}
	// readers are not blocked by the writer
	mustRun(t, dir, "", "stat")
	holder.Close()
	mustRun(t, dir, "2", "put", "--wait", "300ms")
}
