package pallas_test

import (
	"testing"

	"pstore/eval/evaltest"
	"pstore/eval/pallas"
	"pstore/plan"
)

// Body-expression helpers (PLAN.md 6.3).
func ap(f, x plan.Value) plan.Value { return plan.A(plan.N(0), f, x) }
func q(x plan.Value) plan.Value     { return plan.A(plan.N(2), x) }

var n = plan.N

func parseT(t testing.TB, src string) plan.Value {
	t.Helper()
	v, err := plan.ParseWith(src, plan.ParseOptions{SeedRef: seedRef})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// down is {"down" 1 (2 0 self (n-1))}: counts n down to 0, one law call and
// one opcode per step.
var down = plan.L(plan.NatFromBytes([]byte("down")), n(1), ap(ap(q(plan.A(n(2), n(0))), n(0)), n(1)))

func pallasKit(t testing.TB) evaltest.Kit {
	name := func(s string) plan.Nat { return plan.NatFromBytes([]byte(s)) }
	// cyc n: let $2 = (0 n $2) (a cyclic data cell); after counting n
	// down, reflect on $2 and return its function part (0 n).
	sel := plan.A(ap(ap(ap(ap(ap(q(n(1)), q(n(0))), q(n(0))), plan.L(n(0), n(2), n(1))), q(n(0))), n(2)))
	sel = ap(ap(ap(ap(ap(q(n(1)), q(n(0))), q(n(0))), plan.L(n(0), n(2), n(1))), q(n(0))), n(2))
	cyc := plan.L(name("cyc"), n(1),
		plan.A(n(1), ap(ap(q(n(0)), n(1)), n(2)),
			ap(ap(ap(q(n(2)), sel), q(n(0))), ap(down, n(1)))))
	// cyc-input n x: cyc whose cell also holds the input x, which stays
	// an unconverted input app while the count runs: a residual written
	// then must quote it (x = (0 1 2) reads as a body application).
	sel3 := ap(ap(ap(ap(ap(q(n(1)), q(n(0))), q(n(0))), plan.L(n(0), n(2), n(1))), q(n(0))), n(3))
	cycInput := plan.L(name("cyci"), n(2),
		plan.A(n(1), ap(ap(q(n(0)), n(2)), n(3)),
			ap(ap(ap(q(n(2)), sel3), q(n(0))), ap(down, n(1)))))
	return evaltest.Kit{
		Nat:             func(k uint64) plan.Value { return n(k) },
		Inc:             func(x plan.Value) plan.Value { return plan.A(n(3), x) },
		Const:           plan.L(name("k"), n(2), n(1)),
		Dup:             plan.L(name("dup"), n(1), ap(ap(q(n(0)), n(1)), n(1))),
		Cons:            func(a, b plan.Value) plan.Value { return plan.A(n(0), a, b) },
		Countdown:       func(k uint64) plan.Value { return plan.A(down, n(k)) },
		CountdownResult: n(0),
		Crash:           plan.A(n(5), n(0)),
		Loop:            parseT(t, `(0 "bh" 1 (1 2 2) 0)`),
		Diverge:         plan.A(plan.L(name("inf"), n(1), ap(n(0), n(1))), n(0)),
		Forward: func(next, extra plan.Value) plan.Value {
			return plan.L(name("fwd"), n(1), plan.A(n(1), extra, ap(next, n(1))))
		},
		Id: plan.L(name("id"), n(1), n(1)),
		Programs: []evaltest.Program{
			{Name: "mul", Expr: parseT(t, "(<mul.seed> 6 7)"), Want: n(42)},
			{Name: "cmp", Expr: parseT(t, `(<cmp.seed> (0 "f" 1 1) (0 "f" 1 2))`), Want: n(0)},
			{Name: "dup", Expr: parseT(t, `(0 "dup" 1 (1 (0 (2 3) 1) (0 (0 (2 0) 2) 2)) 5)`), Want: parseT(t, "(0 6 6)")},
			{Name: "cyclic57", Expr: parseT(t, "(1 0 0 (0 0 2 1) 0 (0 99 1 (1 (0 1 2) 2) 1))"), Want: n(1)},
			{Name: "down-shared", Expr: plan.A(down, parseT(t, "(<mul.seed> 5 6)")), Want: n(0)},
			{Name: "cyc", Expr: plan.A(cyc, n(40)), Want: plan.A(n(0), n(40))},
			{Name: "cyc-input", Expr: plan.A(cycInput, n(40), parseT(t, "(0 1 2)")), Want: parseT(t, "(0 (0 1 2))")},
			{Name: "exec", Expr: parseT(t, `({"_Exec" 3 (0 (0 (0 (2 2) 2) (0 (0 0 1) (0 1 2))) 3)} 3 10 40)`), Want: n(50)},
		},
	}
}

func TestShared(t *testing.T) {
	evaltest.RunShared(t, pallas.Evaluator{}, pallasKit(t))
}

func TestSharedNoJets(t *testing.T) {
	k := pallasKit(t)
	k.Programs = append(k.Programs, evaltest.Program{Name: "mul-nojets", Expr: parseT(t, "(<mul.seed> 4 5)"), Want: n(20)})
	evaltest.RunShared(t, noJets{}, k)
}
