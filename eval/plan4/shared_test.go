package plan4

import (
	"testing"

	"pstore/eval/evaltest"
	"pstore/plan"
)

// plan4Kit is the plan4 dialect's expressions for the shared suite.
func plan4Kit(t testing.TB) evaltest.Kit {
	p := func(s string) plan.Value { return parseExpr(t, s) }
	down := p(`<{"Down" 1 (0 (0 (0 (0 (0 (0 <3> (0 0)) (0 0)) (0 0)) (0 0)) 0) 1)}>`)
	fib := p(fibSrc)
	return evaltest.Kit{
		Nat:             func(n uint64) plan.Value { return plan.N(n) },
		Inc:             func(x plan.Value) plan.Value { return plan.A(plan.P(plan.N(2)), x) },
		Const:           p(`{"K" 2 1}`),
		Dup:             p(`{"Dup" 1 (0 (0 (0 0) 1) 1)}`),
		Cons:            func(a, b plan.Value) plan.Value { return plan.A(plan.N(0), a, b) },
		Countdown:       func(n uint64) plan.Value { return plan.A(down, plan.N(n)) },
		CountdownResult: plan.N(0),
		Crash:           p(`(<4> 1)`),
		Loop:            p(`({"L" 1 (1 2 2)} 0)`),
		Diverge:         p(`(<{"Loop" 1 (0 0 1)}> 0)`),
		Forward: func(next, extra plan.Value) plan.Value {
			// {"Fwd" 1 (1 (0 extra) (0 next 1))}: an unused let holds extra.
			body := plan.A(plan.N(1), plan.A(plan.N(0), extra), plan.A(plan.N(0), next, plan.N(1)))
			return plan.L(plan.NatFromBytes([]byte("Fwd")), plan.N(1), body)
		},
		Id: p(`{"Id" 1 1}`),
		Programs: []evaltest.Program{
			{Name: "fib12", Expr: plan.A(fib, plan.N(12)), Want: plan.N(144)},
			{Name: "ix", Expr: p(`(<Ix.seed> 1 (0 (<Add.seed> 1 1) (<Mul.seed> 3 3)))`), Want: plan.N(9)},
			{Name: "lets", Expr: p(`({0 1 (1 (0 (<Add.seed> 1) 1) (1 (0 (0 (0 0) 2) 3) (0 (0 <{"K" 2 1}> 2) 3)))} 4)`), Want: plan.N(5)},
			{Name: "pin", Expr: p(`(<0> (0 (<Mul.seed> 3 4) (<Sub.seed> 9 (<2> 1)) (<1> 5 (<2> 1) (0 (<2> 1)))))`), Want: p(`<(0 12 7 {5 2 (0 2)})>`)},
		},
	}
}

func TestShared(t *testing.T) {
	evaltest.RunShared(t, Evaluator{}, plan4Kit(t))
}
