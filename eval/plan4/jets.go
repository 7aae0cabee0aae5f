package plan4

import (
	"cmp"
	"math/big"
	"math/bits"

	"pstore/plan"
)

// Jets (PLAN4.md section 7). A pin gets a jet when it is made (by <0>, or
// when an input pin is loaded) if its contents is a law whose name and
// arity are those of a jet; the body is not looked at. The jet id is kept
// in the pin node's w field. Every jet computes exactly what the Sire law
// computes, evaluating its arguments in the same order and no further:
// arithmetic jets take WHNF of x then y and cast both to nats; Cmp is lazy;
// Div and Mod by zero are a loop (the laws diverge), not 0.

type jetID uint8

const (
	jNone jetID = iota
	jAdd
	jSub
	jMul
	jDiv
	jMod
	jDec
	jCmp
	jTrace
	// Jets matched by exact law (name, arity and body equal to the Sire
	// law in jetlaws/): semantics identical to the law by construction.
	jIx
	jBitSz
	jEql
)

var jetNames = [...]string{jAdd: "Add", jSub: "Sub", jMul: "Mul", jDiv: "Div", jMod: "Mod", jDec: "Dec", jCmp: "Cmp", jTrace: "Trace"}

type jetKey struct {
	name  uint64
	arity uint64
}

var jetTable = func() map[jetKey]jetID {
	t := map[jetKey]jetID{}
	for id, name := range jetNames {
		if name == "" {
			continue
		}
		ar := uint64(2)
		if jetID(id) == jDec {
			ar = 1
		}
		t[jetKey{plan.NatFromBytes([]byte(name)).Uint64s()[0], ar}] = jetID(id)
	}
	return t
}()

func jetFor(name, arity plan.Nat) jetID {
	k, ok := jetKeyOf(name, arity)
	if !ok {
		return jNone
	}
	return jetTable[k]
}

// jetKeyOf returns the key of a law with this name and arity; false if
// either is too large for any jet.
func jetKeyOf(name, arity plan.Nat) (jetKey, bool) {
	n, ok1 := name.Uint64()
	a, ok2 := arity.Uint64()
	return jetKey{n, a}, ok1 && ok2
}

// jetForLaw is the jet of a pin made around the law node li (body
// exported only when an exact-law jet has the same name and arity).
func (m *machine) jetForLaw(li *lawInfo) jetID {
	if id := jetFor(li.name, li.arityN); id != jNone {
		return id
	}
	return exactJet(li.name, li.arityN, func() plan.Value { return m.export(li.body) })
}

func jetForValue(v plan.Value) jetID {
	if l, ok := v.(*plan.Law); ok {
		if id := jetFor(l.Name, l.Arity); id != jNone {
			return id
		}
		return exactJetForLaw(l)
	}
	return jNone
}

func jetArity(id jetID) int {
	if id == jDec || id == jBitSz {
		return 1
	}
	return 2
}

// framedJet reports whether jet id always runs in a frame of its own that
// counts the call's step when it finishes (Cmp, Eql, Trace), even when its
// arguments are values. jetReady and callJet both go by it, so apply never
// counts a step that the frame counts again.
func framedJet(id jetID) bool { return id == jCmp || id == jEql || id == jTrace }

// jetReady reports whether jet id can complete at once on args: a jet that
// is not framed whose arguments are all values.
func (m *machine) jetReady(id jetID, args []*node) bool {
	if framedJet(id) {
		return false
	}
	for _, a := range args[:jetArity(id)] {
		if !isWHNF(m.deref(a)) {
			return false
		}
	}
	return true
}

// isWHNF reports whether a dereferenced node is a value: a nat, pin, law
// or WHNF app (a thunk or a black-hole let is not).
func isWHNF(n *node) bool { return n.k < kApp || (n.k == kApp && n.flags&fWHNF != 0) }

// callJet runs jet id on args (len = the jet's arity).
func (m *machine) callJet(id jetID, self *node, args []*node, volatile bool) (x, v *node, err error) {
	if framedJet(id) {
		if id == jTrace {
			m.push(frame{op: opTrace, n: self, args: ownArgs(args, volatile)})
			m.push(frame{op: opNF1})
			return args[0], nil, nil
		}
		// Cmp or Eql.
		st := &cmpState{stack: []cmpPair{{args[0], args[1]}}, eql: id == jEql}
		m.push(frame{op: opCmp, n: self, args: ownArgs(args, volatile), aux: st})
		return m.cmpStage(&m.frames[len(m.frames)-1])
	}
	// Arithmetic, Ix and BitSz: fast path when the arguments are already
	// values (the step was counted by apply).
	if m.jetReady(id, args) {
		a0 := m.deref(args[0])
		if jetArity(id) == 1 {
			return nil, arith(id, a0, nil), nil
		}
		return m.finish2(id, a0, m.deref(args[1]))
	}
	a := ownArgs(args, volatile)
	m.push(frame{op: opJet2, i: 0, n: self, args: a, aux: nil})
	f := &m.frames[len(m.frames)-1]
	f.i = int32(id) << 8
	return m.jet2Next(f)
}

// jet2Stage receives the WHNF of the argument the jet asked for.
func (m *machine) jet2Stage(f *frame, v *node) (x, r *node, err error) {
	i := f.i & 0xff
	f.args[i] = v
	f.i++
	return m.jet2Next(f)
}

// jet2Next evaluates the next argument that is not a value yet, or
// computes the result. f.i holds the jet id (high bits) and the index of
// the next argument (low 8 bits).
func (m *machine) jet2Next(f *frame) (x, r *node, err error) {
	id := jetID(f.i >> 8)
	k := jetArity(id)
	for int(f.i&0xff) < k {
		a := m.deref(f.args[f.i&0xff])
		if !isWHNF(a) {
			return a, nil, nil
		}
		f.args[f.i&0xff] = a
		f.i++
	}
	if err := m.step(); err != nil {
		return nil, nil, err
	}
	args := f.args
	m.pop()
	if k == 1 {
		return nil, arith(id, args[0], nil), nil
	}
	return m.finish2(id, args[0], args[1])
}

// finish2 completes a two-argument jet on WHNF arguments. Ix returns the
// selected element to evaluate (a tail call, as in the law).
func (m *machine) finish2(id jetID, a, b *node) (x, v *node, err error) {
	if id == jIx {
		i := natCast(a)
		if b.k == kApp && isSmall(i) {
			if x, ok := m.spineArg(b, i.w); ok {
				return x, nil, nil
			}
		}
		return nil, smallNats[0], nil
	}
	v, err = m.arith2(id, a, b)
	return nil, v, err
}

// natCast is N(x): the nat, or the nat 0 when x is not a nat.
func natCast(n *node) *node {
	if n.k == kNat {
		return n
	}
	return smallNats[0]
}

func arith(id jetID, a, _ *node) *node {
	if id == jBitSz {
		if a.k != kNat {
			return smallNats[1] // what the law gives for a non-nat
		}
		if isSmall(a) {
			return natNode(uint64(bits.Len64(a.w)))
		}
		return natNode(uint64(bigOf(a).BitLen()))
	}
	x := natCast(a)
	// Dec
	if isSmall(x) {
		if x.w == 0 {
			return x
		}
		return natNode(x.w - 1)
	}
	return bigNatNode(new(big.Int).Sub(bigOf(x), big.NewInt(1)))
}

func (m *machine) arith2(id jetID, a, b *node) (*node, error) {
	x, y := natCast(a), natCast(b)
	if isSmall(x) && isSmall(y) {
		p, q := x.w, y.w
		switch id {
		case jAdd:
			s, c := bits.Add64(p, q, 0)
			if c == 0 {
				return natNode(s), nil
			}
		case jSub:
			if p <= q {
				return smallNats[0], nil
			}
			return natNode(p - q), nil
		case jMul:
			hi, lo := bits.Mul64(p, q)
			if hi == 0 {
				return natNode(lo), nil
			}
		case jDiv:
			if q == 0 {
				return nil, loopErr("Div by zero (the law diverges)")
			}
			return natNode(p / q), nil
		case jMod:
			if q == 0 {
				return nil, loopErr("Mod by zero (the law diverges)")
			}
			return natNode(p % q), nil
		}
	}
	bx, by := bigOf(x), bigOf(y)
	r := new(big.Int)
	switch id {
	case jAdd:
		r.Add(bx, by)
	case jSub:
		if bx.Cmp(by) <= 0 {
			return smallNats[0], nil
		}
		r.Sub(bx, by)
	case jMul:
		r.Mul(bx, by)
	case jDiv:
		if by.Sign() == 0 {
			return nil, loopErr("Div by zero (the law diverges)")
		}
		r.Quo(bx, by)
	case jMod:
		if by.Sign() == 0 {
			return nil, loopErr("Mod by zero (the law diverges)")
		}
		r.Rem(bx, by)
	}
	return bigNatNode(r), nil
}

// cmpState is the Cmp jet's work list: pairs still to compare, the next on
// top. It compares depth first, left to right, evaluating each side to WHNF
// only when the law would (PLAN4.md section 8).
type cmpState struct {
	stack []cmpPair
	eql   bool // the Eql jet: 1 when equal, else 0
}

type cmpPair struct{ a, b *node }

func rank(n *node) int {
	switch n.k {
	case kNat:
		return 0
	case kPin:
		return 1
	case kLaw:
		return 2
	}
	return 3
}

func cmpNats(a, b *node) int {
	if isSmall(a) && isSmall(b) {
		return cmp.Compare(a.w, b.w)
	}
	return bigOf(a).Cmp(bigOf(b))
}

func cmpResult(c int) *node { return smallNats[c+1] }

func (m *machine) cmpStage(f *frame) (x, v *node, err error) {
	next, c, err := m.cmpRun(f.aux)
	if err != nil || next != nil {
		return next, nil, err
	}
	if err := m.step(); err != nil {
		return nil, nil, err
	}
	eql := f.aux.eql
	m.pop()
	if eql {
		if c == 0 {
			return nil, smallNats[1], nil
		}
		return nil, smallNats[0], nil
	}
	return nil, cmpResult(c), nil
}

// cmpRun advances the comparison: it returns a node that must be evaluated
// first, or the result (-1, 0, +1) when next is nil.
func (m *machine) cmpRun(st *cmpState) (next *node, c int, err error) {
	for len(st.stack) > 0 {
		p := &st.stack[len(st.stack)-1]
		a := m.deref(p.a)
		p.a = a
		if !isWHNF(a) {
			return a, 0, nil
		}
		b := m.deref(p.b)
		p.b = b
		if !isWHNF(b) {
			return b, 0, nil
		}
		st.stack = st.stack[:len(st.stack)-1]
		if a == b && a.flags&fNF != 0 {
			continue
		}
		ra, rb := rank(a), rank(b)
		if ra != rb {
			if ra < rb {
				return nil, -1, nil
			}
			return nil, 1, nil
		}
		switch a.k {
		case kNat:
			if c := cmpNats(a, b); c != 0 {
				return nil, c, nil
			}
		case kPin:
			ia, err := m.pinItem(a)
			if err != nil {
				return nil, 0, err
			}
			ib, err := m.pinItem(b)
			if err != nil {
				return nil, 0, err
			}
			st.stack = append(st.stack, cmpPair{ia, ib})
		case kLaw:
			la, lb := a.ext.(*lawInfo), b.ext.(*lawInfo)
			c := la.name.Cmp(lb.name)
			if c == 0 {
				c = la.arityN.Cmp(lb.arityN)
			}
			if c != 0 {
				return nil, c, nil
			}
			st.stack = append(st.stack, cmpPair{la.body, lb.body})
		case kApp:
			ha, sa := m.pairSpine(a, nil)
			hb, sb := m.pairSpine(b, nil)
			if len(sa) != len(sb) {
				if len(sa) < len(sb) {
					return nil, -1, nil
				}
				return nil, 1, nil
			}
			for i := len(sa) - 1; i >= 0; i-- {
				st.stack = append(st.stack, cmpPair{sa[i], sb[i]})
			}
			st.stack = append(st.stack, cmpPair{ha, hb})
		}
	}
	return nil, 0, nil
}

// traceStage: x is normalized (v); report it and continue with y.
func (m *machine) traceStage(f *frame, v *node) (x, r *node, err error) {
	if err := m.step(); err != nil {
		return nil, nil, err
	}
	y := f.args[1]
	m.pop()
	if m.opts.Trace != nil {
		m.opts.Trace(plan.String(m.export(v)))
	}
	return y, nil, nil
}
