package pallas

import (
	"pstore/plan"
)

// Conversion of input values and compilation of law bodies.

// wrap turns a plan.Value into a node without looking inside apps: an app
// becomes a lazy node converted one level when evaluation touches it.
// Laws and pins are memoized per machine so that their compiled body, jet
// lookup and loaded contents are shared by every reference.
func (m *machine) wrap(v plan.Value) *node {
	switch v := v.(type) {
	case plan.Nat:
		return natNode(v)
	case *plan.Law:
		if n, ok := m.laws[v]; ok {
			return n
		}
		n := &node{tag: tagLaw, x: &lawInfo{law: v, arity: clampArity(v.Arity)}}
		if m.laws == nil {
			m.laws = map[*plan.Law]*node{}
		}
		m.laws[v] = n
		return n
	case *plan.Pin:
		if n, ok := m.pins[v]; ok {
			return n
		}
		n := &node{tag: tagPin, x: &pinInfo{pin: v}}
		if m.pins == nil {
			m.pins = map[*plan.Pin]*node{}
		}
		m.pins[v] = n
		return n
	case *plan.App:
		if n, ok := m.apps[v]; ok {
			return n
		}
		return &node{tag: tagLazy, x: v}
	}
	panic("pallas: unknown plan.Value")
}

// force converts a lazy node one level, in place. The same *plan.App met
// twice becomes one node (the second lazy node turns into an indirection),
// so sharing in the input is sharing in the graph.
func (m *machine) force(n *node) {
	a := n.x.(*plan.App)
	if prev, ok := m.apps[a]; ok && prev != n {
		n.tag, n.fn, n.x = tagInd, prev, nil
		return
	}
	if m.apps == nil {
		m.apps = map[*plan.App]*node{}
	}
	m.apps[a] = n
	var args []*node
	var ov *overflow
	if len(a.Args) <= len(n.inl) {
		args = n.inl[:len(a.Args):len(a.Args)]
		n.nin = uint8(len(a.Args))
	} else {
		args = make([]*node, len(a.Args))
		ov = &overflow{args: args}
		n.nin = ovf
	}
	for i, x := range a.Args {
		args[i] = m.wrap(x)
	}
	n.tag, n.fn = tagApp, m.wrap(a.Fun)
	if ov != nil {
		n.x = ov
	} else {
		n.x = nil
	}
}

// Compiled law bodies (PLAN.md 6.2, 6.3). A body expression is compiled
// once into postfix code for a small stack machine, so instantiating it is
// a loop over an array with no Go recursion and no type switches on
// plan.Values.

type opcode uint8

const (
	iRef   opcode = iota // push env[n]
	iConst               // push c
	iCall                // pop n args and a function, push the app
)

type instr struct {
	op   opcode
	n    int32
	need uint32 // iCall: when > 0 the app is a closure needing this many more
	c    *node
}

type lawCode struct {
	lets [][]instr // the leading let chain, in order
	body []instr
	tail *tailCode // the body's final call, for lawLoop; nil if it is none
}

// shape classifies a body expression by the top of its app chain.
func shape(t plan.Value) (head plan.Value, args []plan.Value, ok bool) {
	a, isApp := t.(*plan.App)
	if !isApp {
		return nil, nil, false
	}
	h, as := a.Spine()
	return h, as, true
}

func isNatV(v plan.Value, k uint64) bool {
	n, ok := v.(plan.Nat)
	if !ok {
		return false
	}
	x, small := n.Uint64()
	return small && x == k
}

func (m *machine) compile(li *lawInfo) *lawCode {
	if li.code != nil {
		return li.code
	}
	b := li.law.Body
	var lets []plan.Value
	for {
		h, as, ok := shape(b)
		if !ok || len(as) != 2 || !isNatV(h, 1) {
			break
		}
		lets = append(lets, as[0])
		b = as[1]
	}
	nmax := uint64(li.arity) + uint64(len(lets))
	c := &lawCode{lets: make([][]instr, len(lets))}
	for j, v := range lets {
		c.lets[j] = m.compileExpr(v, nmax, li.arity)
	}
	c.body = m.compileExpr(b, nmax, li.arity)
	c.tail = m.compileTail(b, nmax, li.arity, c)
	li.code = c
	return c
}

// compileExpr emits postfix code for body expression t with highest valid
// index nmax. Apply chains (0 (0 f a) b) become one call with two
// arguments: the intermediate pairs are fresh, so nothing can share them.
//
// selfArity is the law's arity: index 0 (the law, or the pin around it)
// has it, so a call of index 0 with fewer arguments is a closure.
func (m *machine) compileExpr(t plan.Value, nmax uint64, selfArity int) []instr {
	type task struct {
		t    plan.Value
		call int32 // > 0: emit a call of this many args instead
		need int   // for a call: known remaining arity, or 0
	}
	var out []instr
	stack := []task{{t: t}}
	for len(stack) > 0 {
		tk := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if tk.call > 0 {
			out = append(out, instr{op: iCall, n: tk.call, need: uint32(tk.need)})
			continue
		}
		t := tk.t
		if n, ok := t.(plan.Nat); ok {
			if x, small := n.Uint64(); small && x <= nmax {
				out = append(out, instr{op: iRef, n: int32(x)})
			} else {
				out = append(out, instr{op: iConst, c: natNode(n)})
			}
			continue
		}
		h, as, ok := shape(t)
		switch {
		case ok && len(as) == 2 && isNatV(h, 0):
			// The chain of apply forms down the function side: emit f,
			// then the arguments in order, then the call (the stack
			// takes them last first).
			f, xs, _ := applyChain(t)
			// When the function is a constant of known arity that the
			// arguments do not saturate, the app is born a closure and
			// never needs a look at its function part.
			need := m.callNeed(f, len(xs), nmax, selfArity)
			stack = append(stack, task{call: int32(len(xs)), need: need})
			for i := len(xs) - 1; i >= 0; i-- {
				stack = append(stack, task{t: xs[i]})
			}
			stack = append(stack, task{t: f})
		case ok && len(as) == 1 && isNatV(h, 2):
			out = append(out, instr{op: iConst, c: m.wrap(as[0])})
		default:
			out = append(out, instr{op: iConst, c: m.wrap(t)})
		}
	}
	return out
}

// callNeed returns the remaining arity of a call of function part f with
// k arguments when f's arity is known at compile time and k does not
// saturate it, else 0.
func (m *machine) callNeed(f plan.Value, k int, nmax uint64, selfArity int) int {
	ar := 0
	if isNatV(f, 0) {
		ar = selfArity
	} else if !isRef(f, nmax) {
		ar = m.constArity(f)
	}
	if ar > k {
		return ar - k
	}
	return 0
}

func isRef(v plan.Value, nmax uint64) bool {
	n, ok := v.(plan.Nat)
	if !ok {
		return false
	}
	x, small := n.Uint64()
	return small && x <= nmax
}

// constArity returns the arity of a constant function part when it is
// known without evaluating or loading anything, else 0.
func (m *machine) constArity(v plan.Value) int {
	switch v := v.(type) {
	case plan.Nat:
		return opArity(v)
	case *plan.Law:
		return clampArity(v.Arity)
	case *plan.Pin:
		if !v.Loaded() {
			return 0 // would need a load; find out at run time
		}
		// Convert the contents now (no load happens): flatten expects
		// the contents of every pin in a closure's head to be known.
		c, err := m.pinContents(m.wrap(v).x.(*pinInfo))
		if err != nil {
			return 0
		}
		switch c = follow(c); c.tag {
		case tagNat:
			return opArity(c.natv())
		case tagLaw:
			return c.x.(*lawInfo).arity
		}
	}
	return 0
}

// instantiate runs code against env. If the code ends in a call and into
// is not nil, the app is built in into (which becomes that app) instead of
// a new node.
func (m *machine) instantiate(code []instr, env []*node, into *node) *node {
	if len(code) == 1 {
		var r *node
		switch code[0].op {
		case iRef:
			r = env[code[0].n]
		case iConst:
			r = code[0].c
		}
		if r != nil {
			if into != nil && follow(r) == into {
				// The thunk (or let slot) is its own value: a black hole.
				return &node{tag: tagHole}
			}
			return r
		}
	}
	last := len(code) - 1
	if in := &code[last]; in.op == iCall && int(in.n) == last-1 {
		// A call whose function part and arguments are all references or
		// constants (a postfix call of n arguments in n+2 instructions has
		// no nested call): no value stack.
		n := into
		if n == nil {
			n = m.newNode()
		}
		// (Stores of nil only where needed: each pointer store costs a
		// write barrier while the GC marks, and a new node is all nil.)
		n.tag, n.flags = tagApp, 0
		if n.x != nil {
			n.x = nil
		}
		n.fn = operand(code[0], env)
		k := last - 1
		if k <= len(n.inl) {
			for i := 0; i < k; i++ {
				n.inl[i] = operand(code[1+i], env)
			}
			for i := k; i < len(n.inl); i++ {
				if n.inl[i] != nil {
					n.inl[i] = nil
				}
			}
			n.nin = uint8(k)
		} else {
			a := make([]*node, k)
			for i := range a {
				a[i] = operand(code[1+i], env)
			}
			n.clearInl()
			n.nin, n.x = ovf, &overflow{args: a}
		}
		if in.need > 0 {
			n.flags, n.need = fWHNF, in.need
		}
		return n
	}
	vs := m.vstack[:0]
	for i := range code {
		in := &code[i]
		switch in.op {
		case iRef:
			vs = append(vs, env[in.n])
		case iConst:
			vs = append(vs, in.c)
		case iCall:
			k := int(in.n)
			top := len(vs) - k
			var n *node
			if i == last && into != nil {
				n = into
			} else {
				n = m.newNode()
			}
			n.setApp(vs[top-1], vs[top:])
			if in.need > 0 {
				n.flags, n.need = fWHNF, in.need
			}
			vs = vs[:top-1]
			vs = append(vs, n)
		}
	}
	r := vs[0]
	vs[0] = nil // (clear() of one pointer costs a bulk write barrier)
	m.vstack = vs[:0]
	return r
}

// runLaw performs a law step (PLAN.md 6). The head and the arguments are
// m.astack[base:] (the environment); let slots are pushed after them. The
// result is built into `into` when that is not nil, else returned. The
// caller truncates m.astack afterwards.
func (m *machine) runLaw(li *lawInfo, base int, into *node) *node {
	c := m.compile(li)
	m.instLets(c, base)
	return m.instantiate(c.body, m.astack[base:], into)
}

// instLets pushes the let slots of c after the environment at
// m.astack[base:] and fills them (PLAN.md 6.2).
func (m *machine) instLets(c *lawCode, base int) {
	if len(c.lets) > 0 {
		a := len(m.astack)
		for range c.lets {
			h := m.newNode()
			h.tag = tagHole
			m.astack = append(m.astack, h)
		}
		env := m.astack[base:]
		for j, code := range c.lets {
			slot := m.astack[a+j]
			r := m.instantiate(code, env, slot)
			if r == slot {
				continue // built in place
			}
			// An alias (or a constant). If following the alias leads back
			// to this slot, the slot stays a hole (PLAN.md 6.2); become
			// does exactly that check.
			slot.become(r)
		}
	}
}
