package pallas_test

import (
	"context"
	"math/big"
	"math/rand"
	"testing"

	"pstore/eval"
	"pstore/eval/pallas"
	"pstore/plan"
)

func jetPins(t *testing.T) map[string]*plan.Pin {
	t.Helper()
	pins, err := pallas.BuiltinJetPins()
	if err != nil {
		t.Fatal(err)
	}
	return pins
}

var jetNames = []struct {
	name  string
	arity int
}{
	{"id", 1}, {"_ToNat", 1}, {"_IsNat", 1}, {"_IsPin", 1}, {"_IsLaw", 1},
	{"_If", 3}, {"_Not", 1}, {"_Dec", 1}, {"_Exec", 3}, {"_Add", 2},
	{"_Mul", 2}, {"_Sub", 2}, {"natLte", 2}, {"natMin", 2}, {"natCmp", 2},
	{"_Cmp", 2},
}

// TestJetsAgainstLaws evaluates every jetted law on random small arguments
// (nats, thunks, closures, pins, laws, crashing and looping arguments) with
// and without jets and requires the same outcome.
func TestJetsAgainstLaws(t *testing.T) {
	pins := jetPins(t)
	rng := rand.New(rand.NewSource(7))
	pool := []string{
		"0", "1", "2", "3", "4", "5", "7", "9", "12",
		"(3 4)", "(0 0)", "(4 3)", "{1 2 0}", "(5 0)", `(0 "bh" 1 (1 2 2) 0)`,
		"(0 1 2)", "<{\"id\" 1 1}>", "(2 0 3 (3 6))", "(4 (0 1))",
	}
	fpool := append([]string{"3", "3", "{\"id\" 1 1}", "(0 0 2 1 5)"}, pool...)
	ctx := context.Background()
	for _, jn := range jetNames {
		pin, ok := pins[jn.name]
		if !ok {
			t.Fatalf("no pin for %s", jn.name)
		}
		jetUsed := 0
		for trial := 0; trial < 150; trial++ {
			args := []plan.Value{pin}
			var srcs []string
			for i := 0; i < jn.arity; i++ {
				p := pool
				if jn.name == "_Exec" && i == 0 {
					p = fpool
				}
				s := p[rng.Intn(len(p))]
				srcs = append(srcs, s)
				args = append(args, parseT(t, s))
			}
			expr := plan.A(args[0], args[1:]...)
			lr, lerr := pallas.Evaluator{}.Eval(ctx, expr, eval.Options{NoJets: true, Steps: 200000})
			jr, jerr := pallas.Evaluator{}.Eval(ctx, expr, eval.Options{Steps: 200000})
			if jr.Stats.JetCalls > 0 {
				jetUsed++
			}
			if lerr != nil && errorsIsBudget(lerr) {
				continue // the law is too slow to decide; nothing to compare
			}
			if (lerr != nil) != (jerr != nil) {
				t.Fatalf("%s %v: law gives %v / %v, jet gives %v / %v", jn.name, srcs, val(lr), lerr, val(jr), jerr)
			}
			if lerr == nil && !plan.Equal(lr.Value, jr.Value) {
				t.Fatalf("%s %v: law gives %s, jet gives %s", jn.name, srcs, val(lr), val(jr))
			}
		}
		if jetUsed == 0 {
			t.Errorf("%s: the jet never ran", jn.name)
		}
	}
}

func errorsIsBudget(err error) bool {
	var se *eval.StoppedError
	return err != nil && asStopped(err, &se)
}

func val(r eval.Result) string {
	if r.Value == nil {
		return "<none>"
	}
	return plan.String(r.Value)
}

// TestJetsBig checks the arithmetic jets against math/big on nats far too
// large for the unary laws.
func TestJetsBig(t *testing.T) {
	pins := jetPins(t)
	rng := rand.New(rand.NewSource(3))
	rnd := func() *big.Int {
		x := new(big.Int).Rand(rng, new(big.Int).Lsh(big.NewInt(1), uint(1+rng.Intn(300))))
		if rng.Intn(8) == 0 {
			x.SetUint64(uint64(rng.Intn(3)))
		}
		return x
	}
	cmp := func(a, b *big.Int) *big.Int { return big.NewInt(int64(a.Cmp(b) + 1)) }
	ops := map[string]func(a, b *big.Int) *big.Int{
		"_Add": func(a, b *big.Int) *big.Int { return new(big.Int).Add(a, b) },
		"_Mul": func(a, b *big.Int) *big.Int { return new(big.Int).Mul(a, b) },
		"_Sub": func(a, b *big.Int) *big.Int {
			if a.Cmp(b) <= 0 {
				return new(big.Int)
			}
			return new(big.Int).Sub(a, b)
		},
		"natCmp": cmp,
		"_Cmp":   cmp,
		"natLte": func(a, b *big.Int) *big.Int {
			if a.Cmp(b) <= 0 {
				return big.NewInt(1)
			}
			return big.NewInt(0)
		},
		"natMin": func(a, b *big.Int) *big.Int {
			if a.Cmp(b) <= 0 {
				return a
			}
			return b
		},
	}
	for name, f := range ops {
		for i := 0; i < 200; i++ {
			a, b := rnd(), rnd()
			r, err := pallas.Evaluator{}.Eval(context.Background(), plan.A(pins[name], plan.NatFromBig(a), plan.NatFromBig(b)), eval.Options{Steps: 1000})
			if err != nil {
				t.Fatalf("%s %v %v: %v", name, a, b, err)
			}
			if want := plan.NatFromBig(f(a, b)); !plan.Equal(r.Value, want) {
				t.Fatalf("%s %v %v = %s, want %v", name, a, b, plan.String(r.Value), want)
			}
		}
	}
	// Unary ones and Exec with the increment.
	for i := 0; i < 200; i++ {
		a, k := rnd(), rnd()
		r, err := pallas.Evaluator{}.Eval(context.Background(), plan.A(pins["_Exec"], plan.N(3), plan.NatFromBig(a), plan.NatFromBig(k)), eval.Options{Steps: 1000})
		if err != nil || !plan.Equal(r.Value, plan.NatFromBig(new(big.Int).Add(a, k))) {
			t.Fatalf("_Exec 3 %v %v = %v, %v", a, k, val(r), err)
		}
		r, err = pallas.Evaluator{}.Eval(context.Background(), plan.A(pins["_Dec"], plan.NatFromBig(a)), eval.Options{Steps: 1000})
		want := new(big.Int).Set(a)
		if want.Sign() > 0 {
			want.Sub(want, big.NewInt(1))
		}
		if err != nil || !plan.Equal(r.Value, plan.NatFromBig(want)) {
			t.Fatalf("_Dec %v = %v, %v", a, val(r), err)
		}
	}
}

// TestJetMatchesOnlyExactLaw: a law with the same name and arity but
// another body is not jetted.
func TestJetMatchesOnlyExactLaw(t *testing.T) {
	fake := parseT(t, `<{"_Add" 2 (0 (0 (2 0) 1) 2)}>`)
	r, err := pallas.Evaluator{}.Eval(context.Background(), plan.A(fake, n(2), n(3)), eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Stats.JetCalls != 0 || !plan.Equal(r.Value, parseT(t, "(0 2 3)")) {
		t.Fatalf("fake _Add: %s, %d jet calls", val(r), r.Stats.JetCalls)
	}
}

// TestRegisterJet registers a jet for a new law by its digest.
func TestRegisterJet(t *testing.T) {
	// {"triple" 1 ...} computes 3*x the slow way; the jet does it natively.
	pin := parseT(t, `<{"triple" 1 (0 (0 <{"_Add" 2 (0 (0 (<{"_Exec" 3 (0 (0 (0 (2 2) 2) (0 (0 0 1) (0 1 2))) 3)}> 3) (0 <{"_ToNat" 1 (0 (2 0 3) 1)}> 1)) 2)}> 1) (0 (0 <{"_Add" 2 (0 (0 (<{"_Exec" 3 (0 (0 (0 (2 2) 2) (0 (0 0 1) (0 1 2))) 3)}> 3) (0 <{"_ToNat" 1 (0 (2 0 3) 1)}> 1)) 2)}> 1) 1))}>`).(*plan.Pin)
	calls := 0
	if err := pallas.RegisterJetFor(pin, "triple", 1, func(c *pallas.JetCall) pallas.JetResult {
		x, ok := c.Nat(0)
		if !ok {
			return c.Force(0)
		}
		calls++
		return pallas.ReturnNat(plan.NatFromBig(new(big.Int).Mul(x.Big(), big.NewInt(3))))
	}); err != nil {
		t.Fatal(err)
	}
	r, err := pallas.Evaluator{}.Eval(context.Background(), plan.A(pin, plan.A(n(3), n(13))), eval.Options{})
	if err != nil || !plan.Equal(r.Value, n(42)) || calls != 1 {
		t.Fatalf("triple: %s %v, %d calls", val(r), err, calls)
	}
	r, err = pallas.Evaluator{}.Eval(context.Background(), plan.A(pin, n(14)), eval.Options{NoJets: true})
	if err != nil || !plan.Equal(r.Value, n(42)) || calls != 1 {
		t.Fatalf("triple without jets: %s %v", val(r), err)
	}
}
