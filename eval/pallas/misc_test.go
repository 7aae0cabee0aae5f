package pallas_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"pstore/eval"
	"pstore/eval/evaltest"
	"pstore/eval/pallas"
	"pstore/plan"
)

// TestPlanMDExamples runs every worked example of PLAN.md section 12 and
// checks that each one is also a row of cases.tsv.
func TestPlanMDExamples(t *testing.T) {
	data, err := os.ReadFile("../../../shared/spec/PLAN.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "\n## 12.")
	j := strings.Index(text, "\n## 13.")
	if i < 0 || j < i {
		t.Fatal("PLAN.md: section 12 not found")
	}
	cases, err := evaltest.ReadCases(vectorDir + "/cases.tsv")
	if err != nil {
		t.Fatal(err)
	}
	popts := plan.ParseOptions{SeedRef: seedRef}
	count := 0
	for _, line := range strings.Split(text[i:j], "\n") {
		cols := strings.Split(line, "|")
		if len(cols) < 5 || !strings.HasPrefix(strings.TrimSpace(cols[1]), "") {
			continue
		}
		num := strings.TrimSpace(cols[1])
		if num == "" || num[0] < '0' || num[0] > '9' {
			continue
		}
		in := strings.Trim(strings.TrimSpace(cols[2]), "`")
		out := strings.Trim(strings.TrimSpace(cols[3]), "`")
		count++
		found := false
		for _, c := range cases {
			if c.Expr == in && c.Want == out {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("row %s: %s = %s is not in cases.tsv", num, in, out)
		}
		expr, err := plan.ParseWith(in, popts)
		if err != nil {
			t.Fatalf("row %s: %v", num, err)
		}
		r, err := pallas.Evaluator{}.Eval(context.Background(), expr, eval.Options{Steps: 1e6})
		if out == "!error" {
			if !evaltest.IsEvalFailure(err) {
				t.Errorf("row %s: %s: want failure, got %v %v", num, in, val(r), err)
			}
			continue
		}
		want, err2 := plan.ParseWith(out, popts)
		if err2 != nil {
			t.Fatalf("row %s: %v", num, err2)
		}
		if err != nil || !plan.Equal(r.Value, want) {
			t.Errorf("row %s: %s = %s %v, want %s", num, in, val(r), err, out)
		}
	}
	if count != 69 {
		t.Fatalf("found %d examples in PLAN.md section 12, want 69", count)
	}
}

func evalSrc(t *testing.T, src string, o eval.Options) (eval.Result, error) {
	t.Helper()
	return pallas.Evaluator{}.Eval(context.Background(), parseT(t, src), o)
}

func TestErrorsKinds(t *testing.T) {
	for _, c := range []struct {
		src  string
		want error
		msg  string
	}{
		{"(5 0)", eval.ErrCrash, "nat 5"},
		{"(99999999999999999999999 1)", eval.ErrCrash, "99999999999999999999999"},
		{"(0 1 0 5)", eval.ErrCrash, "arity 0"},
		{"(0 1 (4 2) 0)", eval.ErrCrash, "arity 0"},
		{`(0 "bh" 1 (1 2 2) 0)`, eval.ErrLoop, ""},
		{`(0 "bh" 1 (1 (0 3 2) 2) 0)`, eval.ErrLoop, ""},
		{`(0 "g" 1 (1 (0 3 1) (1 (0 3 2) 3)) 5)`, eval.ErrLoop, ""},
		{"(4 (0 99 1 (1 (0 1 2) 2) 1))", eval.ErrLoop, "cyclic"},
		// An arity-0 law literal (the parser accepts it) is a value, and
		// crashes when applied.
		{"({1 0 5} 3)", eval.ErrCrash, "arity 0"},
		{"(<{1 0 5}> 3)", eval.ErrCrash, "arity 0"},
	} {
		_, err := evalSrc(t, c.src, eval.Options{Steps: 1e6})
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v, want %v mentioning %q", c.src, err, c.want, c.msg)
		}
	}
	r, err := evalSrc(t, "{1 0 5}", eval.Options{})
	if err != nil || !plan.Equal(r.Value, parseT(t, "{1 0 5}")) {
		t.Errorf("arity-0 law literal: %s %v", val(r), err)
	}
	r, err = evalSrc(t, "(1 0 (0 0 3 3) 0 0 {1 0 5})", eval.Options{})
	if err != nil || !plan.Equal(r.Value, n(5)) {
		t.Errorf("reflecting on an arity-0 law literal: %s %v", val(r), err)
	}
}

func TestWHNF(t *testing.T) {
	// WHNF leaves closure arguments unevaluated.
	r, err := evalSrc(t, `(0 "k" 3 1 (3 4) (5 0))`, eval.Options{WHNF: true})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Equal(r.Value, parseT(t, `({"k" 3 1} (3 4) (5 0))`)) {
		t.Fatalf("WHNF: %s", val(r))
	}
	// The WHNF of a cyclic closure is read back as a letrec that
	// evaluates to the same value.
	r, err = evalSrc(t, "(0 99 1 (1 (0 1 2) 2) 1)", eval.Options{WHNF: true})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := pallas.Evaluator{}.Eval(context.Background(), plan.A(parseT(t, "(1 0 0 (0 0 2 1) 0)"), r.Value), eval.Options{})
	if err != nil || !plan.Equal(r2.Value, n(1)) {
		t.Fatalf("cyclic WHNF read back as %s: %s %v", val(r), val(r2), err)
	}
}

// TestResidualLetrec checks that stopping inside a computation whose graph
// is cyclic yields a letrec residual ({0 1 body} 0) that resumes, also when
// the cycle holds an input app not yet converted (cyc-input), which the
// body must quote.
func TestResidualLetrec(t *testing.T) {
	k := pallasKit(t)
	for _, name := range []string{"cyc", "cyc-input"} {
		var p evaltest.Program
		for _, q := range k.Programs {
			if q.Name == name {
				p = q
			}
		}
		letrecs := 0
		for s := int64(1); s < 80; s++ {
			_, err := pallas.Evaluator{}.Eval(context.Background(), p.Expr, eval.Options{Steps: s})
			var se *eval.StoppedError
			if !errors.As(err, &se) {
				t.Fatalf("%s k=%d: %v", name, s, err)
			}
			if a, ok := se.Residual.(*plan.App); ok {
				if l, ok := a.Fun.(*plan.Law); ok && l.Name.IsZero() && len(a.Args) == 1 {
					letrecs++
				}
			}
			r, err := pallas.Evaluator{}.Eval(context.Background(), se.Residual, eval.Options{})
			if err != nil || !plan.Equal(r.Value, p.Want) {
				t.Fatalf("%s k=%d: resumed to %s %v", name, s, val(r), err)
			}
		}
		if letrecs == 0 {
			t.Fatalf("%s: no residual used the letrec form", name)
		}
	}
}

func TestStatsAndPinsKeptUnloaded(t *testing.T) {
	st := evaltest.NewMemStore(t)
	p, err := st.Put(parseT(t, `{"id" 1 1}`))
	if err != nil {
		t.Fatal(err)
	}
	// The result holds the pin untouched: the same *plan.Pin, unloaded.
	r, err := pallas.Evaluator{}.Eval(context.Background(), plan.A(n(0), p, plan.A(n(3), n(1))), eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := r.Value.(*plan.App)
	if a.Args[0] != plan.Value(p) || p.Loaded() || r.Stats.PinsLoaded != 0 {
		t.Fatalf("pin was replaced or loaded: %s, loaded %v", val(r), p.Loaded())
	}
	r, err = pallas.Evaluator{}.Eval(context.Background(), plan.A(p, n(9)), eval.Options{})
	if err != nil || !plan.Equal(r.Value, n(9)) || r.Stats.PinsLoaded != 1 || r.Stats.LawCalls != 1 {
		t.Fatalf("(pin 9): %s %v %+v", val(r), err, r.Stats)
	}
}

// TestDeepNonTailRecursion: up n = if n == 0 then 0 else 3 (up (n-1)),
// without jets: a million nested pending increments live on the explicit
// stack, not the Go stack.
func TestDeepNonTailRecursion(t *testing.T) {
	h := plan.L(n(104), n(2), ap(q(n(3)), ap(n(1), n(2))))
	up := plan.L(plan.NatFromBytes([]byte("up")), n(1), ap(ap(ap(q(n(2)), q(n(0))), ap(h, n(0))), n(1)))
	const depth = 1_000_000
	r, err := pallas.Evaluator{}.Eval(context.Background(), plan.A(up, n(depth)), eval.Options{})
	if err != nil || !plan.Equal(r.Value, n(depth)) {
		t.Fatalf("up %d = %s, %v", depth, val(r), err)
	}
	// Stopped deep inside, the residual resumes.
	_, err = pallas.Evaluator{}.Eval(context.Background(), plan.A(up, n(5000)), eval.Options{Steps: 7000})
	var se *eval.StoppedError
	if !errors.As(err, &se) {
		t.Fatal(err)
	}
	r, err = pallas.Evaluator{}.Eval(context.Background(), se.Residual, eval.Options{})
	if err != nil || !plan.Equal(r.Value, n(5000)) {
		t.Fatalf("resumed: %s, %v", val(r), err)
	}
}
