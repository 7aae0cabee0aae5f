package plan4

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pstore/eval"
	"pstore/plan"
)

func evalStr(t testing.TB, src string, opts eval.Options) (plan.Value, error) {
	t.Helper()
	r, err := Evaluator{}.Eval(context.Background(), parseExpr(t, src), opts)
	return r.Value, err
}

func mustEval(t testing.TB, src string) plan.Value {
	t.Helper()
	v, err := evalStr(t, src, eval.Options{})
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return v
}

// Examples from the text of PLAN4.md that are not lines of cases.tsv.
func TestSpecExamples(t *testing.T) {
	ok := []struct{ in, want string }{
		{`(<{"Add" 2 0}> 3 4)`, `7`},               // 7: jet matched by name and arity
		{`({"Add" 2 0} 3 4)`, `{"Add" 2 0}`},       // unpinned: no jet
		{`(<{"Dec" 1 0}> (1 2))`, `0`},             // Dec casts
		{`(<{"Dec" 1 0}> 0)`, `0`},                 //
		{`(<{"Sub" 2 0}> 2 5)`, `0`},               //
		{`(<1> 0 1 (0 (1 (<2> 1))) 0)`, `(1 2)`},   // Force
		{`(<5>)`, `<5>`},                           // a pinned nat alone is a value
		{`(<{"Trace" 2 0}> (<2> 1) (<2> 5))`, `6`}, //
		{`((<{"K" 2 1}> <2>) 5)`, `<2>`},           //
		{`(<3> 1 2 3 4 <2> 0x10000000000000000)`, `18446744073709551616`},
		{`(<{"Mul" 2 0}> 0x10000000000000000 3)`, `55340232221128654848`},
		{`(<{"Div" 2 0}> 7 2)`, `3`},
		{`(<{"Mod" 2 0}> 7 2)`, `1`},
		{`(<{"Cmp" 2 0}> <{"K" 2 1}> <{"K" 2 1}>)`, `1`},
		{`({"Deep" 0 (0 <2> (0 5))} 1 2)`, `(6 1 2)`},
	}
	for _, c := range ok {
		got := mustEval(t, c.in)
		if !plan.Equal(got, parseExpr(t, c.want)) {
			t.Errorf("%s: got %s want %s", c.in, plan.String(got), c.want)
		}
	}
	bad := []struct {
		in   string
		want error
	}{
		{`(<4> (<2> 1) 2)`, eval.ErrCrash},
		{`(<5> 1)`, eval.ErrCrash},
		{`(<0x10000000000000000> 1)`, eval.ErrCrash},
		{`({"L" 1 (1 2 2)} 0)`, eval.ErrLoop},
		{`({"L" 1 (1 3 (1 2 2))} 0)`, eval.ErrLoop},
		{`({"L" 1 (1 (0 2 1) 2)} 0)`, eval.ErrLoop},
		{`(<{"Div" 2 0}> 7 0)`, eval.ErrLoop},
		{`(<{"Mod" 2 0}> 7 0)`, eval.ErrLoop},
		{`({"L" 1 (1 (0 (0 (0 0) 1) 2) 2)} 0)`, eval.ErrLoop}, // NF of a cyclic value
		// A black-hole let met by a primitive, a jet, a tail call, NF.
		{`({"L" 1 (1 2 (0 (0 (0 (0 (0 (0 <3> (0 1)) (0 2)) (0 3)) (0 4)) (0 5)) 2))} 0)`, eval.ErrLoop},
		{`({"L" 1 (1 2 (0 <2> 2))} 0)`, eval.ErrLoop},
		{`({"L" 1 (1 2 (0 (0 <{"Add" 2 0}> 2) 1))} 0)`, eval.ErrLoop},
		{`({"L" 1 (1 2 (0 (0 <{"Cmp" 2 0}> 2) 1))} 0)`, eval.ErrLoop},
		{`({"L" 1 (1 2 (0 2 1))} 0)`, eval.ErrLoop},
		{`({"L" 1 (1 2 (0 (0 (0 0) 1) 2))} 0)`, eval.ErrLoop},
	}
	for _, c := range bad {
		_, err := evalStr(t, c.in, eval.Options{})
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got error %v, want %v", c.in, err, c.want)
		}
	}
	// The crash message names the opcode and the payload.
	_, err := evalStr(t, `(<4> (<2> 1) 2)`, eval.Options{})
	if err == nil || !strings.Contains(err.Error(), "Exception(4): 2") {
		t.Errorf("exception message: %v", err)
	}
}

func TestTrace(t *testing.T) {
	var got []string
	_, err := evalStr(t, `(<{"Trace" 2 0}> (0 (<2> 1) "ab") 9)`, eval.Options{Trace: func(s string) { got = append(got, s) }})
	if err != nil || len(got) != 1 || got[0] != `(0 2 "ab")` {
		t.Fatalf("trace: %v %q", err, got)
	}
}

// deepApp builds (<2> (<2> ... (<2> 0))) n deep without recursion.
func deepApp(n int) plan.Value {
	inc := plan.P(plan.N(2))
	var v plan.Value = plan.N(0)
	for i := 0; i < n; i++ {
		v = plan.A(inc, v)
	}
	return v
}

func TestDeep(t *testing.T) {
	const n = 1_000_000
	r, err := Evaluator{}.Eval(context.Background(), deepApp(n), eval.Options{})
	if err != nil || !plan.Equal(r.Value, plan.N(n)) {
		t.Fatalf("deep apps: %v %v", err, r.Value)
	}
	// A million-deep non-tail recursion: Deep k = Inc (Deep (k-1)).
	deep := `<{"Deep" 1 (0 (0 (0 (0 (0 (0 <3> (0 0)) (0 0)) (0 0)) (0 0)) (0 {"H" 2 (0 <2> (0 1 2))} 0)) 1)}>`
	v := parseExpr(t, deep)
	r, err = Evaluator{}.Eval(context.Background(), plan.A(v, plan.N(n)), eval.Options{})
	if err != nil || !plan.Equal(r.Value, plan.N(n)) {
		t.Fatalf("deep recursion: %v %v", err, r.Value)
	}
	// A deep data result, normalized and exported without recursion:
	// Nest k = (0 (Nest (k-1))), Nest 0 = 0.
	nest := `<{"Nest" 1 (0 (0 (0 (0 (0 (0 <3> (0 0)) (0 0)) (0 0)) (0 0)) (0 {"H" 2 (0 (0 0) (0 1 2))} 0)) 1)}>`
	r, err = Evaluator{}.Eval(context.Background(), plan.A(parseExpr(t, nest), plan.N(n)), eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := 0
	for x := r.Value; ; d++ {
		a, ok := x.(*plan.App)
		if !ok {
			break
		}
		x = a.Arg()
	}
	if d != n {
		t.Fatalf("nest depth %d", d)
	}
}

func TestBudgetAndCancel(t *testing.T) {
	loop := `(<{"Loop" 1 (0 0 1)}> 0)`
	_, err := evalStr(t, loop, eval.Options{Steps: 1000})
	var se *eval.StoppedError
	if !errors.Is(err, eval.ErrBudget) || !errors.As(err, &se) || se.Steps != 1000 || se.Residual == nil {
		t.Fatalf("budget: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Evaluator{}.Eval(ctx, parseExpr(t, loop), eval.Options{})
	if !errors.Is(err, eval.ErrCanceled) || !errors.As(err, &se) || se.Residual == nil {
		t.Fatalf("cancel: %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancel does not wrap the context error: %v", err)
	}
}

// resumeExprs are evaluations for the stop-and-resume test.
var resumeExprs = []string{
	`(<Sub.seed> 10 3)`,
	`(<Cmp.seed> (1 2 3) (1 2 (<2> 3)))`,
	`(<Ix.seed> 1 (0 (<Add.seed> 1 1) (<Mul.seed> 3 3)))`,
	`(<BitSz.seed> 0x10000)`, // (about 5 million steps without jets: see the test)
	`({0 2 (1 (0 <2> 2) (1 (0 <2> 3) (0 (0 1 3) 4)))} 0 6)`,
	`(<1> "f" (<2> 1) (0 (<Add.seed> 2 3)))`,
	`(<0> (0 (<Mul.seed> 3 4) (<Sub.seed> 9 (<2> 1))))`,
	`(<{"Deep" 1 (0 (0 (0 (0 (0 (0 <3> (0 0)) (0 0)) (0 0)) (0 0)) (0 {"H" 2 (0 <2> (0 1 2))} 0)) 1)}> 30)`,
	// A shared let thunk and a cyclic one: ({0 1 (1 (0 <2> 1) (1 (0 (0 0 2) 3) (0 (0 3 2) 2)))} 4)
	`({0 1 (1 (0 (<Add.seed> 1) 1) (1 (0 (0 (0 0) 2) 3) (0 (0 <{"K" 2 1}> 2) 3)))} 4)`,
	`(<{"Trace" 2 0}> (<Add.seed> 1 2) (<Sub.seed> 7 2))`,
}

func TestStopResume(t *testing.T) {
	for _, nojets := range []bool{false, true} {
		for _, src := range resumeExprs {
			if nojets && strings.Contains(src, "BitSz") {
				src = `(<BitSz.seed> 5)`
			}
			expr := parseExpr(t, src)
			full, err := Evaluator{}.Eval(context.Background(), expr, eval.Options{NoJets: nojets})
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			total := full.Stats.Steps
			for k := int64(1); k < total; k += 1 + total/60 {
				// Stop after k steps and resume to the end.
				_, err := Evaluator{}.Eval(context.Background(), expr, eval.Options{Steps: k, NoJets: nojets})
				var se *eval.StoppedError
				if !errors.As(err, &se) {
					t.Fatalf("%s k=%d: want a stop, got %v", src, k, err)
				}
				r, err := Evaluator{}.Eval(context.Background(), se.Residual, eval.Options{NoJets: nojets})
				if err != nil {
					t.Fatalf("%s k=%d: resume: %v\nresidual %s", src, k, err, plan.String(se.Residual))
				}
				if !plan.Equal(r.Value, full.Value) {
					t.Fatalf("%s k=%d: resumed %s, straight %s\nresidual %s", src, k, plan.String(r.Value), plan.String(full.Value), plan.String(se.Residual))
				}
			}
			// Run in slices of k steps, resuming each residual. Re-entering
			// a primitive or jet that was stopped halfway costs one step per
			// such frame (and the let wrapper of a residual one more), so a
			// slice must be larger than that nesting to make progress.
			for _, k := range []int64{12, 40} {
				cur := expr
				for i := 0; ; i++ {
					r, err := Evaluator{}.Eval(context.Background(), cur, eval.Options{Steps: k, NoJets: nojets})
					if err == nil {
						if !plan.Equal(r.Value, full.Value) {
							t.Fatalf("%s slices of %d: got %s want %s", src, k, plan.String(r.Value), plan.String(full.Value))
						}
						break
					}
					var se *eval.StoppedError
					if !errors.As(err, &se) {
						t.Fatalf("%s slices of %d: %v", src, k, err)
					}
					cur = se.Residual
					if i > int(total) {
						t.Fatalf("%s slices of %d: no progress", src, k)
					}
				}
			}
		}
	}
}

type countLoader struct {
	items map[plan.Digest]plan.Value
	loads atomic.Int64
}

func (l *countLoader) LoadPin(d plan.Digest) (plan.Value, error) {
	l.loads.Add(1)
	v, ok := l.items[d]
	if !ok {
		return nil, errors.New("no such pin")
	}
	return v, nil
}

func TestLazyPins(t *testing.T) {
	l := &countLoader{items: map[plan.Digest]plan.Value{
		{1}: parseExpr(t, `{"K" 2 1}`),
		{2}: parseExpr(t, `{"Add" 2 0}`),
		{3}: plan.N(9),
	}}
	k, add, unused := plan.NewPinRef(plan.Digest{1}, l), plan.NewPinRef(plan.Digest{2}, l), plan.NewPinRef(plan.Digest{3}, l)
	// (K (add 2 3) unused): loads K and add, never the third pin.
	expr := plan.A(k, plan.A(add, plan.N(2), plan.N(3)), unused)
	r, err := Evaluator{}.Eval(context.Background(), expr, eval.Options{})
	if err != nil || !plan.Equal(r.Value, plan.N(5)) {
		t.Fatalf("got %v %v", r.Value, err)
	}
	if r.Stats.PinsLoaded != 2 || l.loads.Load() != 2 || r.Stats.JetCalls != 1 {
		t.Fatalf("stats %+v loads %d", r.Stats, l.loads.Load())
	}
	// An untouched unloaded pin comes back as the same *plan.Pin.
	r, err = Evaluator{}.Eval(context.Background(), plan.A(plan.N(0), unused, plan.A(plan.P(plan.N(2)), plan.N(1))), eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a := r.Value.(*plan.App); a.Args[0] != unused || unused.Loaded() {
		t.Fatalf("pin not kept: %s", plan.String(r.Value))
	}
	// A load failure is reported.
	bad := plan.NewPinRef(plan.Digest{9}, l)
	_, err = Evaluator{}.Eval(context.Background(), plan.A(bad, plan.N(1)), eval.Options{})
	if err == nil || errors.Is(err, eval.ErrCrash) {
		t.Fatalf("load error: %v", err)
	}
}

func TestConcurrent(t *testing.T) {
	done := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			r, err := Evaluator{}.Eval(context.Background(), parseExpr(t, `(<Cmp.seed> <Add.seed> <Sub.seed>)`), eval.Options{})
			if err == nil && !plan.Equal(r.Value, plan.N(2)) {
				err = errors.New("wrong result")
			}
			done <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestRegistered(t *testing.T) {
	e, err := eval.Get("plan4")
	if err != nil || e.Dialect() != "plan4" {
		t.Fatal(e, err)
	}
}

func TestRunawayRecursion(t *testing.T) {
	old := maxFrames
	maxFrames = 100_000
	defer func() { maxFrames = old }()
	// The law calls itself with one more argument each time: the stack of
	// pending applications grows without bound.
	_, err := evalStr(t, `({"L" 1 (1 (0 (0 0 1) 2) 2)} 0)`, eval.Options{})
	if !errors.Is(err, eval.ErrBudget) || !strings.Contains(err.Error(), "stack depth") {
		t.Fatalf("got %v", err)
	}
}

func TestWHNF(t *testing.T) {
	// WHNF leaves the arguments alone.
	v, err := evalStr(t, `(0 (<2> 1) ({"L" 1 (1 2 2)} 0))`, eval.Options{WHNF: true})
	if err != nil || !plan.Equal(v, parseExpr(t, `(0 (<2> 1) ({"L" 1 (1 2 2)} 0))`)) {
		t.Fatalf("whnf: %v %v", v, err)
	}
	// A cyclic WHNF value comes back as a let graph with the same normal
	// form prefix: xs = (0 1 xs); its head is (0 1 ...).
	v, err = evalStr(t, `({"L" 1 (1 (0 (0 (0 0) 1) 2) 2)} 7)`, eval.Options{WHNF: true})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Evaluator{}.Eval(context.Background(), plan.A(parseExpr(t, `<Ix.seed>`), plan.N(0), v), eval.Options{})
	if err != nil || !plan.Equal(r.Value, plan.N(7)) {
		t.Fatalf("cyclic whnf: %s -> %v %v", plan.String(v), r.Value, err)
	}
}
