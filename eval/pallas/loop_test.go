package pallas_test

import (
	"context"
	"errors"
	"math/rand"
	"testing"

	"pstore/eval"
	"pstore/eval/pallas"
	"pstore/plan"
)

// Random loops: laws whose bodies end in a tail call or in the case idiom
// (2 z (f a ...) x), the shapes the evaluator runs without building the
// thunk (tail.go). The ordinary random programs of ref_test.go seldom make
// them. Counters go past the shared small-nat nodes, so the reuse of a
// counter node only astack refers to is exercised too.

// loopLaw makes a law whose body (after up to one let) is a loop step.
func (g gen) loopLaw(d int) *plan.Law {
	a := 1 + g.rng.Intn(3)
	lets := g.rng.Intn(2)
	nmax := uint64(a + lets)
	body := g.loopTail(d, a, nmax)
	for i := 0; i < lets; i++ {
		body = plan.A(n(1), g.body(d-1, nmax), body)
	}
	return plan.L(n(7), n(uint64(a)), body)
}

func (g gen) loopTail(d, a int, nmax uint64) plan.Value {
	ref := func() plan.Value { return n(uint64(1 + g.rng.Intn(int(nmax)))) }
	operand := func() plan.Value {
		switch g.rng.Intn(8) {
		case 0:
			return g.body(d-1, nmax)
		case 1:
			return q(g.nat())
		case 2:
			return ap(q(n(3)), ref()) // a pending increment
		}
		return ref()
	}
	call := func(k int) plan.Value {
		var f plan.Value = n(0)
		switch g.rng.Intn(8) {
		case 0:
			f = g.expr(1) // anything: an opcode, a closure, another law
		case 1:
			f = plan.P(plan.L(n(8), n(uint64(k+1)), n(uint64(1+g.rng.Intn(k+1)))))
		}
		for i := 0; i < k; i++ {
			f = ap(f, operand())
		}
		return f
	}
	if g.rng.Intn(4) == 0 {
		return call(a)
	}
	var x plan.Value = n(uint64(a)) // receives x-1: a terminating loop
	if g.rng.Intn(4) == 0 {
		x = operand()
	}
	return ap(ap(ap(q(n(2)), operand()), call(a-1)), x)
}

func (g gen) loopProgram() plan.Value {
	l := g.loopLaw(2)
	var head plan.Value = l
	if g.rng.Intn(2) == 0 {
		head = plan.P(l)
	}
	ar, _ := l.Arity.Uint64()
	args := make([]plan.Value, ar)
	for i := range args {
		switch g.rng.Intn(20) {
		case 0, 1, 2, 3, 4:
			args[i] = g.expr(1)
		case 5:
			// Past the shared small nats (1024), but only just: the
			// reference model is quadratic in the length of a loop.
			args[i] = n(uint64(1024 + g.rng.Intn(8)))
		default:
			args[i] = n(uint64(g.rng.Intn(30)))
		}
	}
	return plan.A(head, args...)
}

// TestLoopsAgainstReference is TestAgainstReference on random loops: same
// outcome as the reference model, and the same value after a stop at a
// random step and a resume from the residual.
func TestLoopsAgainstReference(t *testing.T) {
	g := gen{rand.New(rand.NewSource(5))}
	agree, both := 0, 0
	for i := 0; i < 1200; i++ {
		switch checkAgainstRef(t, g, g.loopProgram(), eval.Options{NoJets: i%2 == 0, Steps: 200000}) {
		case refAgreed:
			agree++
		case refBothFailed:
			both++
		}
	}
	t.Logf("%d loops agreed on a value, %d both failed", agree, both)
	if agree < 500 {
		t.Fatalf("only %d loops had a value; the generator needs tuning", agree)
	}
}

// TestLoopCounterReuse runs (<mul.seed> 2000 3) without jets: Exec loops
// of up to 6000 iterations, whose counter node is rewritten in place past
// 1024, and checks the product, and the same after a stop in the middle of
// a loop and a resume from the residual.
func TestLoopCounterReuse(t *testing.T) {
	v := parseT(t, "(<mul.seed> 2000 3)")
	opts := eval.Options{NoJets: true}
	r, err := pallas.Evaluator{}.Eval(context.Background(), v, opts)
	if err != nil || !plan.Equal(r.Value, n(6000)) {
		t.Fatalf("got %v %v, want 6000", val(r), err)
	}
	for _, k := range []int64{5000, 9001, 14000} {
		_, err := pallas.Evaluator{}.Eval(context.Background(), v, eval.Options{NoJets: true, Steps: k})
		var se *eval.StoppedError
		if !errors.As(err, &se) {
			t.Fatalf("stop at %d: %v", k, err)
		}
		r2, err := pallas.Evaluator{}.Eval(context.Background(), se.Residual, opts)
		if err != nil || !plan.Equal(r2.Value, n(6000)) {
			t.Fatalf("stopped at %d, resumed to %v %v", k, val(r2), err)
		}
	}
}
