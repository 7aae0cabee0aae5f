package pallas_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"pstore/eval"
	"pstore/eval/pallas"
	"pstore/plan"
)

// A deliberately naive reference evaluator, written straight from the
// pseudocode of PLAN.md sections 4 to 6: binary app nodes, Go recursion,
// no compilation, no jets. Random programs are run through both it and the
// real evaluator, which must agree.

type rnode struct {
	kind  int // rNat, rLaw, rPin, rApp, rHole, rInd
	nat   plan.Nat
	law   *plan.Law
	pin   *rnode // pin contents
	ppin  *plan.Pin
	f, x  *rnode // app; f is the target of rInd
	busy  bool
	onNF  bool
	doneN bool
}

const (
	rNat = iota
	rLaw
	rPin
	rApp
	rHole
	rInd
)

var errRes = errors.New("ref: resource limit")

type refEval struct {
	fuel  int
	depth int
}

func (r *refEval) conv(v plan.Value) *rnode {
	switch v := v.(type) {
	case plan.Nat:
		return &rnode{kind: rNat, nat: v}
	case *plan.Law:
		return &rnode{kind: rLaw, law: v}
	case *plan.Pin:
		return &rnode{kind: rPin, pin: r.conv(v.MustItem()), ppin: v}
	case *plan.App:
		n := r.conv(v.Fun)
		for _, a := range v.Args {
			n = &rnode{kind: rApp, f: n, x: r.conv(a)}
		}
		return n
	}
	panic("bad value")
}

func rfollow(n *rnode) *rnode {
	for n.kind == rInd {
		n = n.f
	}
	return n
}

func (r *refEval) arity(f *rnode) (int, error) {
	f = rfollow(f)
	switch f.kind {
	case rNat:
		v, ok := f.nat.Uint64()
		if !ok {
			return 1, nil
		}
		switch v {
		case 0, 2:
			return 3, nil
		case 1:
			return 5, nil
		}
		return 1, nil
	case rLaw:
		a, ok := f.law.Arity.Uint64()
		if !ok || a > 1<<20 {
			return 1 << 20, nil
		}
		return int(a), nil
	case rPin:
		c, err := r.whnf(f.pin)
		if err != nil {
			return 0, err
		}
		return r.arity(c)
	case rApp:
		a, err := r.arity(f.f)
		return a - 1, err
	}
	return 0, fmt.Errorf("arity of %d", f.kind)
}

func (r *refEval) whnf(o *rnode) (*rnode, error) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > 3000 {
		return nil, errRes
	}
	for {
		o = rfollow(o)
		switch o.kind {
		case rHole:
			return nil, eval.ErrLoop
		case rNat, rLaw, rPin:
			return o, nil
		}
		if o.busy {
			return nil, eval.ErrLoop
		}
		o.busy = true
		f, err := r.whnf(o.f)
		o.busy = false
		if err != nil {
			return nil, err
		}
		o.f = f
		a, err := r.arity(f)
		if err != nil {
			return nil, err
		}
		if a == 0 {
			return nil, eval.ErrCrash
		}
		if a != 1 {
			return o, nil
		}
		// flatten
		var args []*rnode
		cur := o
		for {
			cur = rfollow(cur)
			if cur.kind == rApp {
				args = append([]*rnode{cur.x}, args...)
				cur = cur.f
				continue
			}
			if cur.kind == rPin {
				c := rfollow(cur.pin)
				if c.kind != rLaw {
					cur = c
					continue
				}
			}
			break
		}
		r.fuel--
		if r.fuel < 0 {
			return nil, errRes
		}
		o.busy = true
		res, err := r.step(cur, args)
		o.busy = false
		if err != nil {
			return nil, err
		}
		res = rfollow(res)
		if res == o {
			*o = rnode{kind: rHole}
		} else {
			*o = rnode{kind: rInd, f: res}
		}
	}
}

func (r *refEval) nat(n *rnode) (plan.Nat, error) {
	w, err := r.whnf(n)
	if err != nil {
		return plan.Nat{}, err
	}
	if w.kind == rNat {
		return w.nat, nil
	}
	return plan.N(0), nil
}

func (r *refEval) step(h *rnode, a []*rnode) (*rnode, error) {
	ap := func(f *rnode, xs ...*rnode) *rnode {
		for _, x := range xs {
			f = &rnode{kind: rApp, f: f, x: x}
		}
		return f
	}
	switch h.kind {
	case rNat:
		op, _ := h.nat.Uint64()
		if h.nat.BitLen() > 8 || op > 4 {
			return nil, eval.ErrCrash
		}
		switch op {
		case 0:
			nm, err := r.nat(a[0])
			if err != nil {
				return nil, err
			}
			ar, err := r.nat(a[1])
			if err != nil {
				return nil, err
			}
			b, err := r.normalize(a[2])
			if err != nil {
				return nil, err
			}
			if ar.IsZero() {
				return nil, eval.ErrCrash
			}
			return &rnode{kind: rLaw, law: plan.L(nm, ar, r.read(b))}, nil
		case 1:
			x, err := r.whnf(a[4])
			if err != nil {
				return nil, err
			}
			switch x.kind {
			case rPin:
				return ap(a[0], x.pin), nil
			case rLaw:
				return ap(a[1], &rnode{kind: rNat, nat: x.law.Name}, &rnode{kind: rNat, nat: x.law.Arity}, r.conv(x.law.Body)), nil
			case rApp:
				return ap(a[2], x.f, x.x), nil
			}
			return ap(a[3], x), nil
		case 2:
			n, err := r.nat(a[2])
			if err != nil {
				return nil, err
			}
			if n.IsZero() {
				return a[0], nil
			}
			return ap(a[1], &rnode{kind: rNat, nat: n.Dec()}), nil
		case 3:
			n, err := r.nat(a[0])
			if err != nil {
				return nil, err
			}
			return &rnode{kind: rNat, nat: n.Inc()}, nil
		case 4:
			x, err := r.normalize(a[0])
			if err != nil {
				return nil, err
			}
			return &rnode{kind: rPin, pin: x, ppin: plan.P(r.read(x))}, nil
		}
	case rLaw, rPin:
		law := h.law
		if h.kind == rPin {
			law = rfollow(h.pin).law
		}
		env := append([]*rnode{h}, a...)
		b := law.Body
		var binds []plan.Value
		for {
			app, ok := b.(*plan.App)
			if !ok {
				break
			}
			hd, as := app.Spine()
			if len(as) != 2 || !isNatV2(hd, 1) {
				break
			}
			binds = append(binds, as[0])
			b = as[1]
		}
		nmax := uint64(len(env) - 1 + len(binds))
		base := len(env)
		for range binds {
			env = append(env, &rnode{kind: rHole})
		}
		for j, v := range binds {
			res := r.inst(v, env, nmax)
			slot := env[base+j]
			t := rfollow(res)
			if t == slot {
				continue
			}
			*slot = rnode{kind: rInd, f: res}
		}
		return r.inst(b, env, nmax), nil
	}
	return nil, fmt.Errorf("bad head")
}

func isNatV2(v plan.Value, k uint64) bool {
	n, ok := v.(plan.Nat)
	x, small := n.Uint64()
	return ok && small && x == k
}

func (r *refEval) inst(t plan.Value, env []*rnode, nmax uint64) *rnode {
	if n, ok := t.(plan.Nat); ok {
		if x, small := n.Uint64(); small && x <= nmax {
			return env[x]
		}
		return r.conv(t)
	}
	if app, ok := t.(*plan.App); ok {
		hd, as := app.Spine()
		if len(as) == 2 && isNatV2(hd, 0) {
			return &rnode{kind: rApp, f: r.inst(as[0], env, nmax), x: r.inst(as[1], env, nmax)}
		}
		if len(as) == 1 && isNatV2(hd, 2) {
			return r.conv(as[0])
		}
	}
	return r.conv(t)
}

func (r *refEval) normalize(o *rnode) (*rnode, error) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > 3000 {
		return nil, errRes
	}
	w, err := r.whnf(o)
	if err != nil {
		return nil, err
	}
	if w.kind != rApp || w.doneN {
		return w, nil
	}
	if w.onNF {
		return nil, eval.ErrLoop
	}
	w.onNF = true
	if w.f, err = r.normalize(w.f); err != nil {
		return nil, err
	}
	if w.x, err = r.normalize(w.x); err != nil {
		return nil, err
	}
	w.onNF = false
	w.doneN = true
	return w, nil
}

func (r *refEval) read(n *rnode) plan.Value {
	n = rfollow(n)
	switch n.kind {
	case rNat:
		return n.nat
	case rLaw:
		return n.law
	case rPin:
		return n.ppin
	case rApp:
		return plan.A(r.read(n.f), r.read(n.x))
	}
	return plan.N(999999)
}

// genExpr makes a random expression; genBody a random law body.
type gen struct{ rng *rand.Rand }

func (g gen) nat() plan.Value {
	if g.rng.Intn(4) == 0 {
		return n(uint64(g.rng.Intn(12)))
	}
	return n(uint64(g.rng.Intn(5)))
}

func (g gen) expr(d int) plan.Value {
	if d <= 0 {
		return g.nat()
	}
	switch g.rng.Intn(7) {
	case 0, 1:
		return g.nat()
	case 2:
		a := 1 + g.rng.Intn(3)
		return plan.L(n(uint64(g.rng.Intn(3))), n(uint64(a)), g.body(d-1, uint64(a)+2))
	case 3:
		return plan.A(n(4), g.expr(d-1))
	}
	k := 1 + g.rng.Intn(4)
	f := g.expr(d - 1)
	args := make([]plan.Value, k)
	for i := range args {
		args[i] = g.expr(d - 1)
	}
	return plan.A(f, args...)
}

func (g gen) body(d int, nmax uint64) plan.Value {
	if d <= 0 {
		return n(uint64(g.rng.Intn(int(nmax) + 2)))
	}
	switch g.rng.Intn(8) {
	case 0, 1:
		return n(uint64(g.rng.Intn(int(nmax) + 2)))
	case 2, 3:
		return plan.A(n(0), g.body(d-1, nmax), g.body(d-1, nmax))
	case 4:
		return plan.A(n(2), g.nat())
	case 5:
		return plan.A(n(1), g.body(d-1, nmax), g.body(d-1, nmax))
	case 6:
		return plan.A(n(0), plan.A(n(0), q(n(uint64(g.rng.Intn(5)))), g.body(d-1, nmax)), g.body(d-1, nmax))
	}
	return plan.A(n(2), plan.L(n(0), n(uint64(1+g.rng.Intn(2))), g.body(d-1, nmax)))
}

// TestAgainstReference runs random programs through the reference model
// and the real evaluator (with and without jets, and resumed from a random
// stop) and requires the same outcome: equal normal forms, or both failing.
func TestAgainstReference(t *testing.T) {
	g := gen{rand.New(rand.NewSource(11))}
	agree, both := 0, 0
	for i := 0; i < 20000; i++ {
		switch checkAgainstRef(t, g, g.expr(3+i%3), eval.Options{NoJets: true, Steps: 100000}) {
		case refAgreed:
			agree++
		case refBothFailed:
			both++
		}
	}
	t.Logf("%d programs agreed on a value, %d both failed", agree, both)
	if agree < 500 {
		t.Fatalf("only %d programs had a value; the generator needs tuning", agree)
	}
}

// The outcomes of checkAgainstRef.
const (
	refSkipped    = iota // the reference model ran out of fuel, or pallas of steps
	refBothFailed        // both failed
	refAgreed            // both gave the same value
)

// checkAgainstRef evaluates v with the reference model and with pallas
// under opts, and fails t unless they have the same outcome. When they
// agree on a value, it also stops pallas at a random step and checks that
// resuming from the residual gives that value.
func checkAgainstRef(t *testing.T, g gen, v plan.Value, opts eval.Options) int {
	t.Helper()
	ref := &refEval{fuel: 20000}
	rn, rerr := ref.normalize(ref.conv(v))
	if errors.Is(rerr, errRes) {
		return refSkipped
	}
	got, err := pallas.Evaluator{}.Eval(context.Background(), v, opts)
	if errors.Is(err, eval.ErrBudget) {
		return refSkipped
	}
	if rerr != nil {
		if err == nil {
			t.Fatalf("%s: reference fails (%v), pallas gives %s", plan.String(v), rerr, plan.String(got.Value))
		}
		return refBothFailed
	}
	want := ref.read(rn)
	if err != nil {
		t.Fatalf("%s: reference gives %s, pallas fails: %v", plan.String(v), plan.String(want), err)
	}
	if !plan.Equal(got.Value, want) {
		t.Fatalf("%s: reference gives %s, pallas %s", plan.String(v), plan.String(want), plan.String(got.Value))
	}
	if s := got.Stats.Steps; s > 1 {
		k := 1 + g.rng.Int63n(s-1)
		stopOpts := opts
		stopOpts.Steps = k
		_, err := pallas.Evaluator{}.Eval(context.Background(), v, stopOpts)
		var se *eval.StoppedError
		if !errors.As(err, &se) {
			t.Fatalf("%s: stop at %d: %v", plan.String(v), k, err)
		}
		r2, err := pallas.Evaluator{}.Eval(context.Background(), se.Residual, opts)
		if err != nil || !plan.Equal(r2.Value, want) {
			t.Fatalf("%s: stopped at %d, resumed to %v %v, want %s\nresidual %s", plan.String(v), k, val(r2), err, plan.String(want), plan.String(se.Residual))
		}
	}
	return refAgreed
}
