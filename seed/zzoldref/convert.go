package zzoldref

import (
	"fmt"
	"math"

	"pstore/plan"
)

// FromPallas rebuilds the value a decoded Pallas interchange tree stands
// for, structurally, without evaluating anything (SEED.md section 8,
// approach 2). Walking each app spine h a1 ... ak:
//
//   - h = 0 with at least 3 arguments whose first two are nats: the law
//     {a1 a2 a3} (arity 0 is an error), applied to the remaining arguments,
//     which must leave it unsaturated;
//   - h = 4 with at least 1 argument: the pin <a1>, applied to the rest the
//     same way;
//   - otherwise the spine must be a closure: k < arity(h), with the Pallas
//     arities (nat 0: 3, 1: 5, 2: 3, 3 and 4: 1, >= 5: 1; law: its arity;
//     pin: arity of its contents; app: arity of its head minus its
//     arguments). A spine that would reduce is rejected as not normal.
//
// Holes (pins supplied to Decode) count with the arity of their contents,
// which are loaded. Shared subtrees are converted once. Errors about the
// tree wrap ErrCorrupt.
func FromPallas(tree plan.Value) (plan.Value, error) {
	return rebuild(tree, pallasDialect{})
}

// FromPlan4 rebuilds the value of a decoded plan-di-c tree (PLAN4.md
// section 9) structurally. Its only hole is the pin <0> (any pin whose
// contents are the nat 0 is taken for it). Reading, per app spine:
//
//   - (<0> 1 n a b c ...) with n and a nats is the law {n a b} (any arity,
//     0 included, as plan4 allows), applied to c ...; with fewer than three
//     arguments after the 1 it is the pin <1> applied to them (a partial
//     application of the make-law primitive); n or a not a nat is an error;
//   - (<0> x y ...) with x not the nat 1 is the pin <x> applied to y ...;
//   - <0> alone is the pin <0>; every other app is kept as an app.
//
// This mirrors what the plan4 evaluator does with the file: (<0> x) makes
// the pin <x>, and (<0> 1) is <1>, the make-law primitive. Unlike
// FromPallas it does not check arities, because in plan4 a bare nat head is
// inert data. Law bodies and pin contents are rebuilt the same way.
func FromPlan4(tree plan.Value) (plan.Value, error) {
	return rebuild(tree, plan4Dialect{})
}

// spineState is the value of a spine prefix being rebuilt: base applied to
// args, with arity ar left (Pallas; saturating, MaxUint64 for huge), or a
// primitive (op) still waiting for arguments, which it has so far in pre.
type spineState struct {
	base plan.Value
	args []plan.Value
	ar   uint64
	op   int8 // opNone, opLaw, opPin
	pre  []plan.Value
	v    plan.Value // materialized value (set when the state is memoized)
}

const (
	opNone int8 = iota
	opLaw
	opPin
)

func (s *spineState) value() plan.Value {
	if len(s.args) == 0 {
		return s.base
	}
	return plan.NewAppShared(s.base, s.args[:len(s.args):len(s.args)])
}

type dialect interface {
	start(head plan.Value) (spineState, error)
	apply(s *spineState, a plan.Value) error
}

func rebuild(tree plan.Value, dl dialect) (plan.Value, error) {
	type frame struct {
		app *plan.App
		i   int
		st  spineState
	}
	memo := make(map[*plan.App]*spineState)
	var stack []frame
	cur := tree
	var res plan.Value
	var resState *spineState
	for {
		// descend
		if app, ok := cur.(*plan.App); ok {
			if s, ok := memo[app]; ok {
				res, resState = s.v, s
			} else {
				stack = append(stack, frame{app: app, i: -1})
				cur = app.Fun
				continue
			}
		} else {
			if cur == nil {
				return nil, corruptf("nil value in tree")
			}
			res, resState = cur, nil
		}
		// ascend
		for {
			if len(stack) == 0 {
				return res, nil
			}
			f := &stack[len(stack)-1]
			if f.i < 0 {
				if resState != nil {
					f.st = *resState
					f.st.args = f.st.args[:len(f.st.args):len(f.st.args)]
					f.st.pre = f.st.pre[:len(f.st.pre):len(f.st.pre)]
				} else {
					st, err := dl.start(res)
					if err != nil {
						return nil, err
					}
					f.st = st
				}
			} else if err := dl.apply(&f.st, res); err != nil {
				return nil, err
			}
			f.i++
			if f.i < len(f.app.Args) {
				cur = f.app.Args[f.i]
				break
			}
			s := new(spineState)
			*s = f.st
			s.v = s.value()
			memo[f.app] = s
			res, resState = s.v, s
			stack = stack[:len(stack)-1]
		}
	}
}

type pallasDialect struct{}

func natArityPallas(n plan.Nat) uint64 {
	switch v, _ := n.Uint64(); {
	case !n.IsSmall():
		return 1
	case v == 0 || v == 2:
		return 3
	case v == 1:
		return 5
	}
	return 1
}

// pallasArity returns the Pallas arity of a finished value (PLAN.md 3.1),
// 0 if it is not a closure.
func pallasArity(v plan.Value) (uint64, error) {
	var sub uint64
	for {
		switch x := v.(type) {
		case plan.Nat:
			return satSub(natArityPallas(x), sub), nil
		case *plan.Law:
			a, ok := x.Arity.Uint64()
			if !ok {
				a = math.MaxUint64
			}
			return satSub(a, sub), nil
		case *plan.Pin:
			it, err := x.Item()
			if err != nil {
				return 0, fmt.Errorf("seed: arity of a pin: %w", err)
			}
			v = it
		case *plan.App:
			h, args := x.Spine()
			sub += uint64(len(args))
			v = h
		default:
			return 0, corruptf("unknown value %T", v)
		}
	}
}

func satSub(a, b uint64) uint64 {
	if a == math.MaxUint64 {
		return a
	}
	if b >= a {
		return 0
	}
	return a - b
}

func (pallasDialect) start(h plan.Value) (spineState, error) {
	s := spineState{base: h}
	if n, ok := h.(plan.Nat); ok {
		if v, ok := n.Uint64(); ok && v == 0 {
			s.op = opLaw
		} else if ok && v == 4 {
			s.op = opPin
		}
	}
	ar, err := pallasArity(h)
	s.ar = ar
	return s, err
}

func (pallasDialect) apply(s *spineState, a plan.Value) error {
	switch s.op {
	case opPin:
		s.base, s.args, s.op = plan.P(a), nil, opNone
		ar, err := pallasArity(a)
		if err != nil {
			return err
		}
		if ar == 0 {
			return corruptf("pin contents are not normal")
		}
		s.ar = ar
		return nil
	case opLaw:
		s.pre = append(s.pre, a)
		if len(s.pre) < 3 {
			s.args = append(s.args, a)
			s.ar--
			return nil
		}
		n, ok1 := s.pre[0].(plan.Nat)
		ar, ok2 := s.pre[1].(plan.Nat)
		if !ok1 || !ok2 {
			return corruptf("not normal: (0 n a b) with a name or arity that is not a nat would be evaluated")
		}
		if ar.IsZero() {
			return corruptf("law %v with arity 0", n)
		}
		s.base, s.args, s.op, s.pre = plan.L(n, ar, s.pre[2]), nil, opNone, nil
		s.ar, _ = ar.Uint64()
		if !ar.IsSmall() {
			s.ar = math.MaxUint64
		}
		return nil
	}
	if s.ar <= 1 {
		return corruptf("not normal: an application of %s would reduce", describe(s.base))
	}
	if s.ar != math.MaxUint64 {
		s.ar--
	}
	s.args = append(s.args, a)
	return nil
}

func describe(v plan.Value) string {
	switch x := v.(type) {
	case plan.Nat:
		return "the nat " + x.String()
	case *plan.Law:
		return "the law named " + x.Name.String()
	}
	return "a " + v.Kind().String()
}

type plan4Dialect struct{}

func isPin0(v plan.Value) bool {
	p, ok := v.(*plan.Pin)
	if !ok {
		return false
	}
	it, err := p.Item()
	if err != nil {
		return false
	}
	n, ok := it.(plan.Nat)
	return ok && n.IsZero()
}

func (plan4Dialect) start(h plan.Value) (spineState, error) {
	s := spineState{base: h}
	if isPin0(h) {
		s.op = opPin
	}
	return s, nil
}

func (plan4Dialect) apply(s *spineState, a plan.Value) error {
	switch s.op {
	case opPin:
		if n, ok := a.(plan.Nat); ok {
			if v, ok := n.Uint64(); ok && v == 1 {
				s.base, s.args, s.op, s.pre = plan.P(n), nil, opLaw, s.pre[:0]
				return nil
			}
		}
		s.base, s.args, s.op = plan.P(a), nil, opNone
		return nil
	case opLaw:
		s.pre = append(s.pre, a)
		if len(s.pre) < 3 {
			s.args = append(s.args, a)
			return nil
		}
		n, ok1 := s.pre[0].(plan.Nat)
		ar, ok2 := s.pre[1].(plan.Nat)
		if !ok1 || !ok2 {
			return corruptf("plan4 law (<0> 1 n a b) with a name or arity that is not a nat")
		}
		s.base, s.args, s.op, s.pre = plan.L(n, ar, s.pre[2]), nil, opNone, nil
		return nil
	}
	s.args = append(s.args, a)
	return nil
}
