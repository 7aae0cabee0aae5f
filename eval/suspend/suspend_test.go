package suspend_test

import (
	"context"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"pstore/eval"
	"pstore/eval/evaltest"
	_ "pstore/eval/pallas"
	"pstore/eval/plan4"
	"pstore/eval/suspend"
	"pstore/merkle"
	"pstore/plan"
	"pstore/seed"
)

const vectors = "../../../shared/vectors"

var pallasSeeds = evaltest.SeedDir(filepath.Join(vectors, "pallas"), func(data []byte) (plan.Value, error) {
	return seed.Decode(data, seed.Pallas, nil)
})

var plan4Seeds = evaltest.SeedDir(filepath.Join(vectors, "plan4"), func(data []byte) (plan.Value, error) {
	return plan4.LoadSeed(context.Background(), data, eval.Options{})
})

type program struct {
	name   string
	src    string
	noJets bool
}

// Programs with sharing, let bindings, cyclic values, pins made during the
// run and long law recursions.
var programs = map[string][]program{
	"pallas": {
		{"mul", "(<mul.seed> 6 7)", true},
		{"mul-jets", "(<mul.seed> 12 13)", false},
		{"cmp", `(<cmp.seed> (0 "f" 1 1) (0 "f" 1 2))`, true},
		{"dup", `(0 "dup" 1 (1 (0 (2 3) 1) (0 (0 (2 0) 2) 2)) 5)`, false},
		{"cyclic57", "(1 0 0 (0 0 2 1) 0 (0 99 1 (1 (0 1 2) 2) 1))", false},
		{"down-shared", `({"down" 1 (0 (0 (2 (2 0)) 0) 1)} (<mul.seed> 5 6))`, true},
		{"exec", `({"_Exec" 3 (0 (0 (0 (2 2) 2) (0 (0 0 1) (0 1 2))) 3)} 3 10 40)`, true},
		// A pin made mid-run, a cyclic let kept alive across the run, and
		// a list of shared thunks.
		{"pin", `(0 "p" 1 (1 (0 (2 4) (0 (2 (<mul.seed> 3)) 1)) (0 (0 (2 0) 2) (0 (2 (<mul.seed> 2)) 1))) 3)`, true},
		{"cyc", "CYC 30", false},
	},
	"plan4": {
		{"fib12", "FIB 12", false},
		{"fib9-nojets", "FIB 9", true},
		{"ix", `(<Ix.seed> 1 (0 (<Add.seed> 1 1) (<Mul.seed> 3 3)))`, false},
		{"lets", `({0 1 (1 (0 (<Add.seed> 1) 1) (1 (0 (0 (0 0) 2) 3) (0 (0 <{"K" 2 1}> 2) 3)))} 4)`, true},
		{"pin", `(<0> (0 (<Mul.seed> 3 4) (<Sub.seed> 9 (<2> 1)) (<1> 5 (<2> 1) (0 (<2> 1)))))`, true},
		{"cyc", `({"c" 1 (1 (0 (0 (0 7) 1) 2) (0 (0 (0 (0 (0 (0 <3> (0 0)) (0 0)) {"A" 2 1}) (0 0)) (0 0)) 2))} (<Mul.seed> 4 5))`, true},
	},
}

var fibSrc = func() string {
	s := `<{"Fib" 1 (0 (0 (0 (0 (0 (0 <3> (0 0)) (0 0)) (0 0)) (0 0)) (0 F1 0)) 1)}>`
	s = strings.Replace(s, "F1", `{"F1" 2 (0 (0 (0 (0 (0 (0 <3> (0 0)) (0 0)) (0 0)) (0 1)) (0 (0 F2 1) 2)) 2)}`, 1)
	s = strings.Replace(s, "F2", `{"F2" 3 (0 (0 ADD (0 1 2)) (0 1 3))}`, 1)
	return strings.Replace(s, "ADD", `<Add.seed>`, 1)
}()

// Pallas body helpers (PLAN.md 6.3).
func ap(f, x plan.Value) plan.Value { return plan.A(plan.N(0), f, x) }
func q(x plan.Value) plan.Value     { return plan.A(plan.N(2), x) }

func name(s string) plan.Nat { return plan.NatFromBytes([]byte(s)) }

// down is {"down" 1 (2 0 self (n-1))}: counts n down to 0.
var down = plan.L(name("down"), plan.N(1), ap(ap(q(plan.A(plan.N(2), plan.N(0))), plan.N(0)), plan.N(1)))

// pallasCyc n: let $2 = (0 n $2), a cyclic data cell live for the whole
// run; after counting n down, reflect on $2 and return its function part
// (0 n) (pallas shared suite).
var pallasCyc = func() plan.Value {
	n := plan.N
	sel := ap(ap(ap(ap(ap(q(n(1)), q(n(0))), q(n(0))), plan.L(n(0), n(2), n(1))), q(n(0))), n(2))
	return plan.L(name("cyc"), n(1),
		plan.A(n(1), ap(ap(q(n(0)), n(1)), n(2)),
			ap(ap(ap(q(n(2)), sel), q(n(0))), ap(down, n(1)))))
}()

func parse(t testing.TB, evaluator, src string) plan.Value {
	t.Helper()
	refs := pallasSeeds
	if evaluator == "plan4" {
		refs = plan4Seeds
		if strings.HasPrefix(src, "FIB ") {
			src = "(" + fibSrc + " " + strings.TrimPrefix(src, "FIB ") + ")"
		}
	}
	if strings.HasPrefix(src, "CYC ") {
		k, _ := strconv.ParseUint(strings.TrimPrefix(src, "CYC "), 10, 64)
		return plan.A(pallasCyc, plan.N(k))
	}
	v, err := plan.ParseWith(src, plan.ParseOptions{SeedRef: refs})
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return v
}

func testSeed(t *testing.T) int64 {
	s := time.Now().UnixNano()
	if e := os.Getenv("SUSPEND_SEED"); e != "" {
		s, _ = strconv.ParseInt(e, 10, 64)
	}
	t.Logf("seed %d (rerun with SUSPEND_SEED=%d)", s, s)
	return s
}

// checkNormal checks that a record is in normal form for its evaluator:
// normalizing it, and the residual law's body, costs no step and gives an
// equal value; and that it is storable (SEED has no cycles) and decodes.
func checkNormal(t *testing.T, e eval.Evaluator, p *plan.Pin) {
	t.Helper()
	rec := p.MustItem()
	for what, v := range map[string]plan.Value{"record": rec, "law body": mustDecode(t, rec).Law.Body} {
		r, err := e.Eval(context.Background(), v, eval.Options{Steps: 1})
		if err != nil {
			t.Fatalf("%s: normalizing the %s: %v", e.Name(), what, err)
		}
		if r.Stats.Steps != 0 || !plan.Equal(r.Value, v) {
			t.Fatalf("%s: the %s is not normal (%d steps)", e.Name(), what, r.Stats.Steps)
		}
	}
	if _, _, err := merkle.Body(p); err != nil {
		t.Fatalf("not storable: %v", err)
	}
}

// putDAG stores p and every pin under it, and returns an unloaded
// reference to p.
func putDAG(st evaltest.PinStore, p *plan.Pin) (*plan.Pin, error) {
	_, kids, err := merkle.Body(p)
	if err != nil {
		return nil, err
	}
	for _, k := range kids {
		if _, err := putDAG(st, k); err != nil {
			return nil, err
		}
	}
	return st.Put(p.MustItem())
}

func mustDecode(t *testing.T, v plan.Value) *suspend.Job {
	t.Helper()
	j, err := suspend.Decode(v)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestPauseResumeProperty: suspend every program at a random step k, resume
// with random budgets (through a store round trip, so the pin is loaded
// lazily), any number of times: the normal form is always the one of the
// uninterrupted run.
func TestPauseResumeProperty(t *testing.T) {
	r := rand.New(rand.NewSource(testSeed(t)))
	for _, name := range []string{"pallas", "plan4"} {
		e, err := eval.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range programs[name] {
			t.Run(name+"/"+pr.name, func(t *testing.T) {
				expr := parse(t, name, pr.src)
				opts := eval.Options{NoJets: pr.noJets}
				want, err := e.Eval(context.Background(), expr, opts)
				if err != nil {
					t.Fatal(err)
				}
				total := want.Stats.Steps
				if total < 2 {
					t.Fatalf("program too short: %d steps", total)
				}
				t.Logf("%d steps uninterrupted", total)
				store := evaltest.NewMemStore(t)
				// Every pause point of short programs, random ones of long
				// programs (always including the first and the last).
				trials := int64(12)
				if total <= 400 {
					trials = total - 1
				}
				for trial := int64(0); trial < trials; trial++ {
					k := 1 + r.Int63n(total)
					switch {
					case total <= 400:
						k = trial + 1
					case trial == 0:
						k = 1
					case trial == 1:
						k = total - 1
					}
					opts.Steps = k
					out, err := suspend.Run(context.Background(), e, expr, opts)
					if err != nil {
						t.Fatalf("k=%d: %v", k, err)
					}
					cycles := 0
					for !out.Done() {
						if !errors.Is(out.Cause, eval.ErrBudget) {
							t.Fatalf("cause %v", out.Cause)
						}
						checkNormal(t, e, out.Suspended)
						// Store and reload: resume from an unloaded pin.
						ref, err := putDAG(store, out.Suspended)
						if err != nil {
							t.Fatal(err)
						}
						cycles++
						// Every resume with a budget of at least 1 makes
						// progress (steps are counted when reductions
						// complete, see the package doc).
						opts.Steps = 1 + r.Int63n(total/2+2)
						if int64(cycles) > total+1 {
							t.Fatalf("k=%d: no progress after %d resumes", k, cycles)
						}
						out, err = suspend.Resume(context.Background(), ref, opts)
						if err != nil {
							t.Fatalf("k=%d cycle %d: %v", k, cycles, err)
						}
					}
					if !plan.Equal(out.Value, want.Value) {
						t.Fatalf("k=%d after %d resumes: got %s, want %s", k, cycles, plan.String(out.Value), plan.String(want.Value))
					}
					if k < total && cycles == 0 {
						t.Fatalf("k=%d < %d steps but not suspended", k, total)
					}
				}
			})
		}
	}
}

// TestCanceled: a deadline suspends too, and the job resumes.
func TestCanceled(t *testing.T) {
	for _, name := range []string{"pallas", "plan4"} {
		e, _ := eval.Get(name)
		src := "(<mul.seed> 100 100)"
		if name == "plan4" {
			src = "FIB 19"
		}
		expr := parse(t, name, src)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		out, err := suspend.Run(ctx, e, expr, eval.Options{NoJets: true})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if out.Done() {
			t.Logf("%s: finished before the deadline", name)
			continue
		}
		if !errors.Is(out.Cause, eval.ErrCanceled) {
			t.Fatalf("cause %v", out.Cause)
		}
		checkNormal(t, e, out.Suspended)
		j := mustDecode(t, out.Suspended.MustItem())
		if j.Evaluator != name || j.Steps <= 0 {
			t.Fatalf("job %+v", j)
		}
		out, err = suspend.Resume(context.Background(), out.Suspended, eval.Options{NoJets: true})
		if err != nil {
			t.Fatal(err)
		}
		want := plan.Value(plan.N(10000))
		if name == "plan4" {
			want = plan.N(4181)
		}
		if !out.Done() || !plan.Equal(out.Value, want) {
			t.Fatalf("%s: got %v", name, out.Value)
		}
	}
}

// TestResidualRewrite: the letrec residuals the evaluators write (cyclic
// lets, black holes, unconverted input thunks as constants) come out as
// normal bodies with the same results.
func TestResidualRewrite(t *testing.T) {
	cases := []struct{ ev, src, want string }{
		// A pallas letrec whose body holds a thunk as a constant.
		{"pallas", `({0 1 (1 (0 (2 7) 2) (0 (0 (2 {0 2 1}) (3 4)) 2))} 0)`, "5"},
		// An unused black hole and an alias chain.
		{"pallas", `({0 1 (1 2 (1 4 (1 (2 9) 3)))} 0)`, "9"},
		{"plan4", `({0 1 (1 2 (1 4 (1 (0 9) 3)))} 0)`, "9"},
		{"plan4", `({0 1 (1 (0 (0 (0 7) 1) 2) (0 (0 {0 2 1} (0 (<2> 4))) 2))} 0)`, "5"},
	}
	for _, c := range cases {
		e, _ := eval.Get(c.ev)
		v := parse(t, c.ev, c.src)
		j, err := suspend.Encode(c.ev, v, 0)
		if err != nil {
			t.Fatal(err)
		}
		p := plan.P(j.Record())
		checkNormal(t, e, p)
		out, err := suspend.Resume(context.Background(), p, eval.Options{})
		if err != nil {
			t.Fatalf("%s %s: %v (law %s)", c.ev, c.src, err, plan.String(j.Law))
		}
		if got := plan.String(out.Value); got != c.want {
			t.Fatalf("%s %s: got %s want %s (law %s)", c.ev, c.src, got, c.want, plan.String(j.Law))
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	if _, err := suspend.Decode(plan.N(3)); !errors.Is(err, suspend.ErrNotSuspended) {
		t.Fatal(err)
	}
	j := &suspend.Job{Evaluator: "pallas", Law: plan.L(plan.N(0), plan.N(1), plan.N(1)), Dummy: plan.N(0)}
	rec := j.Record().(*plan.App)
	bad := plan.NewAppShared(rec.Fun, append([]plan.Value{plan.N(9)}, rec.Args[1:]...))
	if _, err := suspend.Decode(bad); !errors.Is(err, suspend.ErrVersion) {
		t.Fatal(err)
	}
	if _, err := suspend.Resume(context.Background(), plan.P(plan.N(1)), eval.Options{}); !errors.Is(err, suspend.ErrNotSuspended) {
		t.Fatal(err)
	}
}
