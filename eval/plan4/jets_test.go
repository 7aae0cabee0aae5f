package plan4

import (
	"context"
	"fmt"
	"math/big"
	"math/rand"
	"testing"

	"pstore/eval"
	"pstore/plan"
)

// findPin returns the pinned law named name inside v (the seeds contain
// the Sire laws the jets stand for: Dec inside Sub, Div inside BitSz).
func findPin(v plan.Value, name string) *plan.Pin {
	stack := []plan.Value{v}
	seen := map[plan.Value]bool{}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch y := x.(type) {
		case *plan.Pin:
			if seen[y] {
				continue
			}
			seen[y] = true
			it := y.MustItem()
			if l, ok := it.(*plan.Law); ok && string(l.Name.AppendBytes(nil)) == name {
				return y
			}
			stack = append(stack, it)
		case *plan.Law:
			stack = append(stack, y.Body)
		case *plan.App:
			stack = append(stack, y.Fun)
			stack = append(stack, y.Args...)
		}
	}
	return nil
}

// lawPins returns the Sire law of each jet, taken from the seed files. Mod
// has no seed: it is built from its Sire definition
// Mod x y = Sub x (Mul y (Div x y)).
func lawPins(t testing.TB) map[string]plan.Value {
	load := func(n string) plan.Value {
		v, err := seedRef(n + ".seed")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	sub, mul, add, cmp, bitsz := load("Sub"), load("Mul"), load("Add"), load("Cmp"), load("BitSz")
	out := map[string]plan.Value{"Add": add, "Sub": sub, "Mul": mul, "Cmp": cmp,
		"Dec": findPin(sub, "Dec"), "Div": findPin(bitsz, "Div")}
	for k, v := range out {
		if v == nil || v == plan.Value((*plan.Pin)(nil)) {
			t.Fatalf("no law for %s", k)
		}
	}
	// {"Mod" 2 (0 (0 Sub 1) (0 (0 Mul 2) (0 (0 Div 1) 2)))}
	mod := plan.P(plan.L(plan.NatFromBytes([]byte("Mod")), plan.N(2),
		plan.A(plan.N(0), plan.A(plan.N(0), sub, plan.N(1)),
			plan.A(plan.N(0), plan.A(plan.N(0), mul, plan.N(2)),
				plan.A(plan.N(0), plan.A(plan.N(0), out["Div"], plan.N(1)), plan.N(2))))))
	out["Mod"] = mod
	return out
}

func evalV(t testing.TB, v plan.Value, opts eval.Options) (plan.Value, eval.Stats, error) {
	r, err := Evaluator{}.Eval(context.Background(), v, opts)
	return r.Value, r.Stats, err
}

// TestJetsAgainstLaws runs each jet and its law (jets off) on random small
// inputs, including non-nat arguments (cast to 0), and compares.
func TestJetsAgainstLaws(t *testing.T) {
	laws := lawPins(t)
	seed := int64(1)
	rng := rand.New(rand.NewSource(seed))
	t.Logf("random seed %d", seed)
	arg := func() plan.Value {
		switch rng.Intn(6) {
		case 0:
			return plan.A(plan.N(1), plan.N(uint64(rng.Intn(5)))) // an app: not a nat
		case 1:
			return plan.A(plan.P(plan.N(2)), plan.N(uint64(rng.Intn(20)))) // a thunk
		}
		return plan.N(uint64(rng.Intn(25)))
	}
	for _, name := range []string{"Add", "Sub", "Mul", "Div", "Mod", "Dec"} {
		for i := 0; i < 40; i++ {
			args := []plan.Value{arg(), arg()}
			if name == "Dec" {
				args = args[:1]
			}
			if name == "Div" || name == "Mod" {
				args[1] = plan.N(uint64(1 + rng.Intn(9)))
			}
			e := plan.A(laws[name], args...)
			jet, st, err := evalV(t, e, eval.Options{})
			if err != nil || st.JetCalls == 0 {
				t.Fatalf("%s: jet: %v %+v", plan.String(e), err, st)
			}
			law, st, err := evalV(t, e, eval.Options{NoJets: true, Steps: 10_000_000})
			if err != nil || st.JetCalls != 0 {
				t.Fatalf("%s: law: %v", plan.String(e), err)
			}
			if !plan.Equal(jet, law) {
				t.Fatalf("%s: jet %s law %s", plan.String(e), plan.String(jet), plan.String(law))
			}
		}
	}
	// Cmp on random small values of every kind.
	var val func(d int) plan.Value
	val = func(d int) plan.Value {
		if d > 2 {
			return plan.N(uint64(rng.Intn(3)))
		}
		switch rng.Intn(5) {
		case 0:
			return plan.P(val(d + 1))
		case 1:
			return plan.L(plan.N(uint64(rng.Intn(2))), plan.N(uint64(1+rng.Intn(2))), val(d+1))
		case 2:
			return plan.A(plan.N(uint64(rng.Intn(2))), val(d+1))
		case 3:
			return plan.A(plan.N(0), val(d+1), val(d+1))
		}
		return plan.N(uint64(rng.Intn(3)))
	}
	for i := 0; i < 150; i++ {
		x, y := val(0), val(0)
		if i%5 == 0 {
			y = x
		}
		e := plan.A(laws["Cmp"], x, y)
		jet, _, err := evalV(t, e, eval.Options{})
		if err != nil {
			t.Fatal(err)
		}
		law, _, err := evalV(t, e, eval.Options{NoJets: true, Steps: 50_000_000})
		if err != nil {
			t.Fatalf("%s: law: %v", plan.String(e), err)
		}
		c, _ := plan.Compare(x, y)
		if !plan.Equal(jet, law) || !plan.Equal(jet, plan.N(uint64(c+1))) {
			t.Fatalf("%s: jet %s law %s compare %d", plan.String(e), plan.String(jet), plan.String(law), c)
		}
	}
}

// TestJetsBig checks the arithmetic jets on large nats against math/big.
func TestJetsBig(t *testing.T) {
	laws := lawPins(t)
	rng := rand.New(rand.NewSource(2))
	rnd := func() *big.Int {
		b := make([]byte, rng.Intn(40))
		rng.Read(b)
		return new(big.Int).SetBytes(b)
	}
	for i := 0; i < 300; i++ {
		x, y := rnd(), rnd()
		want := map[string]*big.Int{
			"Add": new(big.Int).Add(x, y),
			"Mul": new(big.Int).Mul(x, y),
			"Dec": new(big.Int).Sub(x, big.NewInt(1)),
			"Sub": new(big.Int).Sub(x, y),
		}
		if want["Sub"].Sign() < 0 {
			want["Sub"].SetInt64(0)
		}
		if want["Dec"].Sign() < 0 {
			want["Dec"].SetInt64(0)
		}
		if y.Sign() != 0 {
			want["Div"] = new(big.Int).Quo(x, y)
			want["Mod"] = new(big.Int).Rem(x, y)
		}
		for name, w := range want {
			args := []plan.Value{plan.NatFromBig(x), plan.NatFromBig(y)}
			if name == "Dec" {
				args = args[:1]
			}
			got, _, err := evalV(t, plan.A(laws[name], args...), eval.Options{})
			if err != nil || !plan.Equal(got, plan.NatFromBig(w)) {
				t.Fatalf("%s %v %v: got %v (%v) want %v", name, x, y, got, err, w)
			}
		}
		// Cmp agrees with big.Int.Cmp.
		got, _, err := evalV(t, plan.A(laws["Cmp"], plan.NatFromBig(x), plan.NatFromBig(y)), eval.Options{})
		if err != nil || !plan.Equal(got, plan.N(uint64(x.Cmp(y)+1))) {
			t.Fatalf("Cmp %v %v: %v %v", x, y, got, err)
		}
	}
}

// The Cmp jet is lazy like the law: it does not force what the law does
// not (a diverging argument inside a longer spine, or after a difference).
func TestCmpLazy(t *testing.T) {
	bh := `({"L" 1 (1 2 2)} 0)`
	for _, c := range []struct{ x, y, want string }{
		{"1", "(2 " + bh + ")", "0"},
		{"(0 1 " + bh + ")", "(0 2 " + bh + ")", "0"},
		{"(0 " + bh + " 1)", "(0 " + bh + ")", "2"},
		{"(0 1 2 " + bh + ")", "(0 1)", "2"},
	} {
		for _, nojets := range []bool{false, true} {
			src := fmt.Sprintf("(<Cmp.seed> %s %s)", c.x, c.y)
			got, err := evalStr(t, src, eval.Options{NoJets: nojets, Steps: 10_000_000})
			if err != nil || !plan.Equal(got, parseExpr(t, c.want)) {
				t.Errorf("%s (nojets=%v): %v %v", src, nojets, got, err)
			}
		}
	}
}

// TestExactJets: Ix, BitSz and Eql get their jets only for the exact law
// (a fake with the same name and arity runs its own body), and agree with
// the law on random inputs, including non-nats and laziness.
func TestExactJets(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	small := func() string {
		switch rng.Intn(5) {
		case 0:
			return fmt.Sprintf("(0 %d %d)", rng.Intn(4), rng.Intn(4))
		case 1:
			return fmt.Sprintf("<%d>", rng.Intn(3))
		case 2:
			return fmt.Sprintf("(<2> %d)", rng.Intn(300))
		}
		return fmt.Sprint(rng.Intn(300))
	}
	list := func() string {
		switch rng.Intn(4) {
		case 0:
			return small()
		case 1:
			return `({"K" 3 0} 5 (<2> 6))`
		}
		s := "(0"
		for i := rng.Intn(5); i >= 0; i-- {
			s += " " + small()
		}
		return s + ")"
	}
	var srcs []string
	for i := 0; i < 60; i++ {
		srcs = append(srcs,
			fmt.Sprintf("(<BitSz.seed> %s)", small()),
			fmt.Sprintf("(<Ix.seed> %s %s)", small(), list()),
			fmt.Sprintf("(<Eql.seed> %s %s)", list(), list()),
		)
	}
	srcs = append(srcs, `(<Ix.seed> 1 (0 ({"L" 1 (1 2 2)} 0) 7))`,
		`(<Eql.seed> (0 1 ({"L" 1 (1 2 2)} 0)) (0 2 3))`)
	for _, src := range srcs {
		jet, st, err := evalV(t, parseExpr(t, src), eval.Options{})
		if err != nil || st.JetCalls == 0 {
			t.Fatalf("%s: %v, %d jet calls", src, err, st.JetCalls)
		}
		law, _, err := evalV(t, parseExpr(t, src), eval.Options{NoJets: true, Steps: 20_000_000})
		if err != nil || !plan.Equal(jet, law) {
			t.Fatalf("%s: jet %s, law %s (%v)", src, plan.String(jet), plan.String(law), err)
		}
	}
	if got := mustEval(t, "(<BitSz.seed> 0x123456789abcdef0123456789)"); !plan.Equal(got, plan.N(97)) {
		t.Fatalf("BitSz big: %s", plan.String(got))
	}
	// A fake with the right name and arity gets no jet.
	got := mustEval(t, `(<{"Ix" 2 7}> 0 (0 1))`)
	if !plan.Equal(got, plan.N(7)) {
		t.Fatalf("fake Ix: %s", plan.String(got))
	}
	// A pin made at run time around the exact law gets the jet too.
	_, st, err := evalV(t, parseExpr(t, `(<0> (<PinItem.seed> <BitSz.seed>) 255)`), eval.Options{})
	if err != nil || st.Steps > 10 {
		t.Fatalf("run-time pin: %v %+v (the law would take hundreds of steps)", err, st)
	}
}

// TestEqlSteps: Eql on two values costs what Cmp on them costs (one step,
// counted once when the comparison finishes), and a budget of exactly that
// many steps finishes it.
func TestEqlSteps(t *testing.T) {
	for _, args := range []string{"3 4", "5 5", "(0 1 2) (0 1 2)", "<2> (0 1)"} {
		cmpSrc, eqlSrc := "(<Cmp.seed> "+args+")", "(<Eql.seed> "+args+")"
		_, cst, err := evalV(t, parseExpr(t, cmpSrc), eval.Options{})
		if err != nil || cst.JetCalls != 1 {
			t.Fatalf("%s: %v %+v", cmpSrc, err, cst)
		}
		_, est, err := evalV(t, parseExpr(t, eqlSrc), eval.Options{})
		if err != nil || est.JetCalls != 1 {
			t.Fatalf("%s: %v %+v", eqlSrc, err, est)
		}
		if est.Steps != cst.Steps {
			t.Errorf("%s: %d steps, %s: %d", eqlSrc, est.Steps, cmpSrc, cst.Steps)
		}
		if _, _, err := evalV(t, parseExpr(t, eqlSrc), eval.Options{Steps: cst.Steps}); err != nil {
			t.Errorf("%s with a budget of %d steps: %v", eqlSrc, cst.Steps, err)
		}
	}
}

// TestIxSpine: the Ix jet on a spine of several app nodes (built at run
// time: 0 | 1 | 2 | 3 4, the arguments 1 2 3 4), at each end and past it,
// agrees with the law and with the expected element.
func TestIxSpine(t *testing.T) {
	const id = `<{"Id" 1 1}>`
	list := "(" + id + " (" + id + " (0 1) 2) 3 4)"
	for _, c := range []struct{ i, want string }{
		{"0", "1"}, {"1", "2"}, {"2", "3"}, {"3", "4"}, {"4", "0"}, {"5", "0"},
		{"(0 3)", "1"}, // a non-nat index is 0
	} {
		src := "(<Ix.seed> " + c.i + " " + list + ")"
		jet, st, err := evalV(t, parseExpr(t, src), eval.Options{})
		if err != nil || st.JetCalls != 1 {
			t.Fatalf("%s: %v, %d jet calls", src, err, st.JetCalls)
		}
		law, _, err := evalV(t, parseExpr(t, src), eval.Options{NoJets: true, Steps: 20_000_000})
		if err != nil {
			t.Fatalf("%s: law: %v", src, err)
		}
		if want := parseExpr(t, c.want); !plan.Equal(jet, want) || !plan.Equal(law, want) {
			t.Errorf("%s: jet %s, law %s, want %s", src, plan.String(jet), plan.String(law), c.want)
		}
	}
}
