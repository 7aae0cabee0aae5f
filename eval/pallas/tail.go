package pallas

import (
	"slices"

	"pstore/plan"
)

// Tail calls and inline cases.
//
// A law body usually ends in a call: (f a b ...), or the loop idiom
// (2 z (f a ... ) x), "if x is 0 then z else f a ... (x-1)". Built the
// plain way, a law step writes that call into the thunk, and the machine
// then flattens it straight back onto astack and, for the case, pushes an
// opcode frame, and builds (p m), flattens p again, and so on: every
// iteration of a loop allocates the closure p only to take it apart.
//
// lawLoop runs such steps without touching the thunk: the next call's head
// and arguments go straight onto astack and the next law step runs there.
// It never evaluates anything (an inline case only proceeds when its
// scrutinee is already in WHNF), so nothing can observe the thunk while it
// is stale, and the thunk is written (with exactly what the plain path
// would have written, or the flattened call, which is the same app) before
// lawLoop returns in every way: a result, a call it does not handle, or a
// budget or context stop (the residual then shows the pending call).
// Steps and law calls are counted as the plain path counts them.
//
// Measured on (<mul.seed> 300 400) without jets: see bench_test.go.

const (
	tailCall uint8 = iota // the body is the call
	tailCase              // the body is (2 z p x), p applied to x-1
)

// callCode is a call built by a law body, with the function part and each
// argument compiled separately, so that lawLoop can put the call on astack
// instead of building it.
type callCode struct {
	head []instr // the function part
	args [][]instr
	need uint32 // the closure flag instantiate would set, or 0
}

type tailCode struct {
	kind uint8
	call callCode // tailCall: the body; tailCase: p (m is appended)
	z    []instr  // tailCase: the zero branch
	x    instr    // tailCase: the scrutinee, a reference or a constant
	// xLinear: x refers to an argument that nothing else in the law refers
	// to. A nat node lawLoop made itself and passed in that position is
	// then referenced by astack alone, and the next m is written into it
	// instead of a new node.
	xLinear bool
}

// applyChain splits an apply form (0 (0 f a) b) into f and [a b].
func applyChain(t plan.Value) (f plan.Value, xs []plan.Value, ok bool) {
	f = t
	for {
		h, as, isApp := shape(f)
		if !isApp || len(as) != 2 || !isNatV(h, 0) {
			break
		}
		xs = append(xs, as[1])
		f = as[0]
	}
	slices.Reverse(xs)
	return f, xs, len(xs) > 0
}

func (m *machine) compileCall(f plan.Value, xs []plan.Value, nmax uint64, self int) callCode {
	c := callCode{
		head: m.compileExpr(f, nmax, self),
		args: make([][]instr, len(xs)),
		need: uint32(m.callNeed(f, len(xs), nmax, self)),
	}
	for i, x := range xs {
		c.args[i] = m.compileExpr(x, nmax, self)
	}
	return c
}

// compileTail returns the tail form of final body expression b, or nil
// when b is not a call.
func (m *machine) compileTail(b plan.Value, nmax uint64, self int, lc *lawCode) *tailCode {
	f, xs, ok := applyChain(b)
	if !ok {
		return nil
	}
	call := m.compileCall(f, xs, nmax, self)
	if len(xs) != 3 || len(call.head) != 1 || call.head[0].op != iConst || !isSmallNat(call.head[0].c, 2) {
		return &tailCode{kind: tailCall, call: call}
	}
	xc := call.args[2]
	if len(xc) != 1 || xc[0].op == iCall {
		return &tailCode{kind: tailCall, call: call}
	}
	t := &tailCode{kind: tailCase, z: call.args[0], x: xc[0]}
	if pf, pxs, ok := applyChain(xs[1]); ok {
		t.call = m.compileCall(pf, pxs, nmax, self)
	} else {
		t.call = callCode{head: call.args[1]}
	}
	if t.x.op == iRef && t.x.n >= 1 && int(t.x.n) <= self {
		refs := 0
		count := func(code []instr) {
			for _, in := range code {
				if in.op == iRef && in.n == t.x.n {
					refs++
				}
			}
		}
		for _, code := range lc.lets {
			count(code)
		}
		count(t.z)
		count(t.call.head)
		for _, code := range t.call.args {
			count(code)
		}
		t.xLinear = refs == 0
	}
	return t
}

func isSmallNat(n *node, k uint64) bool {
	if n.tag != tagNat {
		return false
	}
	return n.x == nil && n.val == k
}

// operand returns the node of a single reference or constant instruction.
func operand(in instr, env []*node) *node {
	if in.op == iRef {
		return env[in.n]
	}
	return in.c
}

// tailLaw returns the law a call with head h runs when lawLoop can run it
// itself: a law, or a pin whose contents are a converted law without a jet.
// Anything else (opcodes, closures, pins not yet loaded, jets) goes back to
// the plain path.
func (m *machine) tailLaw(h *node) (*lawInfo, error) {
	switch h.tag {
	case tagLaw:
		return h.x.(*lawInfo), nil
	case tagPin:
		pi := h.x.(*pinInfo)
		if pi.contents == nil {
			return nil, nil
		}
		c := follow(pi.contents)
		if c.tag != tagLaw {
			return nil, nil
		}
		if m.pinJet(pi) != nil {
			return nil, nil
		}
		return c.x.(*lawInfo), nil
	}
	return nil, nil
}

// lawLoop performs the law step of thunk o, whose head and ar arguments
// are on astack at base (the step is already counted), and the law steps
// its body tail-calls, as long as lawLoop can run them itself. When it
// returns, o holds the result of the last step (or, after a stop, the
// pending call) and astack is truncated to base.
func (m *machine) lawLoop(o *node, li *lawInfo, base, ar int) error {
	if o.nargs() != ar {
		// Surplus arguments: the plain path applies the result to them.
		m.finishLaw(o, li, base, ar)
		return nil
	}
	var fresh *node // a nat node only astack refers to, at freshIdx
	freshIdx := 0
	for {
		c := li.code
		if c == nil {
			c = m.compile(li)
		}
		if len(c.lets) > 0 {
			m.instLets(c, base)
		}
		t := c.tail
		if t == nil {
			m.finishBody(o, c, base)
			return nil
		}
		env := m.astack[base:]
		var mn *node
		if t.kind == tailCase {
			// The plain path would now build (2 z p x) in o and run the
			// opcode 2 step on it.
			x := follow(operand(t.x, env))
			if !x.isWHNF() {
				m.finishBody(o, c, base)
				return nil
			}
			if err := m.tick(); err != nil {
				m.finishBody(o, c, base)
				return err
			}
			n := castNat(x)
			if n.IsZero() {
				m.finishWith(o, base, m.instantiate(t.z, env, o))
				return nil
			}
			v, small := n.Uint64()
			switch {
			case small && v > uint64(len(smallNats)) && t.xLinear && x == fresh &&
				int(t.x.n) == freshIdx && env[freshIdx] == fresh:
				fresh.val = v - 1
				mn = fresh
			case small && v > uint64(len(smallNats)):
				mn = m.newNode()
				mn.tag, mn.val = tagNat, v-1
			default:
				mn = m.natNode(n.Dec())
			}
		}
		ph := m.arg(t.call.head, env)
		// The next call's arguments, in a Go stack array when they fit:
		// stores there need no write barrier (stores through a slice that
		// may point into the heap do) and no clearing.
		var buf [8]*node
		var args []*node
		k := len(t.call.args)
		if mn != nil {
			k++
		}
		if k <= len(buf) {
			for i, code := range t.call.args {
				buf[i] = m.arg(code, env)
			}
			if mn != nil {
				buf[k-1] = mn
			}
			args = buf[:k]
		} else {
			args = make([]*node, k)
			for i, code := range t.call.args {
				args[i] = m.arg(code, env)
			}
			if mn != nil {
				args[k-1] = mn
			}
		}
		h := follow(ph)
		nli, err := m.tailLaw(h)
		if err != nil {
			return err
		}
		if nli == nil || nli.arity != len(args) {
			m.finishCall(o, t, ph, args, mn, base)
			return nil
		}
		if err := m.tick(); err != nil {
			// The pending call, flattened: the same app as (p m).
			o.setApp(ph, args)
			m.truncate(base)
			return err
		}
		m.stats.LawCalls++
		// The call replaces the environment: write it over the old one and
		// clear only what is left above it (the let slots, surplus
		// arguments).
		if len(m.astack) < base+1+k {
			m.astack = append(m.astack, make([]*node, base+1+k-len(m.astack))...)
		}
		// Stores only where the entry changes: each pointer store into
		// astack costs a write barrier while the GC marks, and a loop
		// keeps most entries (its own head, invariant arguments, the
		// reused counter).
		s := m.astack[base:]
		if s[0] != h {
			s[0] = h
		}
		for i, a := range args {
			if s[1+i] != a {
				s[1+i] = a
			}
		}
		m.truncate(base + 1 + k)
		li, ar = nli, k
		fresh = nil
		if mn != nil {
			if mn.x == nil && mn.val >= uint64(len(smallNats)) {
				// Made above (not a shared small nat), and only astack
				// refers to it.
				fresh, freshIdx = mn, ar
			}
		}
	}
}

// arg instantiates code, references and constants inline (instantiate
// is too big to be inlined).
func (m *machine) arg(code []instr, env []*node) *node {
	if len(code) == 1 {
		return operand(code[0], env)
	}
	return m.instantiate(code, env, nil)
}

// finishBody builds the body of the law whose environment is at
// m.astack[base:] into o, as the plain path does.
func (m *machine) finishBody(o *node, c *lawCode, base int) {
	m.finishWith(o, base, m.instantiate(c.body, m.astack[base:], o))
}

// finishWith overwrites o with the step's result r (unless it was built in
// o) and truncates astack to base.
func (m *machine) finishWith(o *node, base int, r *node) {
	m.truncate(base)
	if r != o {
		o.become(r)
	}
}

// finishCall writes the call lawLoop does not run itself into o, the way
// the plain path builds it: for a case, (p m) with p the app of ph to the
// arguments before m; for a plain tail call, ph applied to args.
func (m *machine) finishCall(o *node, t *tailCode, ph *node, args []*node, mn *node, base int) {
	if mn == nil {
		o.setApp(ph, args)
		if t.call.need > 0 {
			o.flags, o.need = fWHNF, t.call.need
		}
	} else {
		p := ph
		if k := len(args) - 1; k > 0 {
			p = m.newNode()
			p.setApp(ph, args[:k])
			if t.call.need > 0 {
				p.flags, p.need = fWHNF, t.call.need
			}
		}
		o.setApp(p, args[len(args)-1:])
	}
	m.truncate(base)
}
