package plan4

import (
	"pstore/plan"
)

// residual turns a stopped machine (its frames, and the node being
// evaluated or the value being returned) into a plain value with the same
// result (eval.StoppedError.Residual). Every frame becomes the expression
// context it stands for, wrapped around the inner expression; a node that
// was being evaluated (a black hole) is overwritten with the expression
// for its value, so every reference to it shares the progress made. The
// graph is then written out: when no thunk is shared and there is no
// cycle, as a plain value; otherwise as ({0 1 body} 0), where body's let
// spine binds every shared thunk (PLAN4.md 6.4).
func (m *machine) residual() plan.Value {
	// e may be nil when a jet stopped after evaluating its arguments:
	// the jet's frame then stands for the whole computation.
	e := m.stopX
	if e == nil {
		e = m.stopV
	}
	for i := len(m.frames) - 1; i >= 0; i-- {
		f := &m.frames[i]
		switch f.op {
		case opAppN:
			n := f.n
			n.flags &^= fBusy
			if e != n {
				n.fun = e
			}
			e = n
		case opApply:
			e = mkApp(e, f.args)
		case opUpdate:
			n := f.n
			n.flags &^= fBusy
			if m.deref(e) != n {
				n.k, n.fun, n.args, n.ext, n.flags = kInd, e, nil, nil, 0
			}
			e = n
		case opInc:
			e = mkApp(opPins[2], []*node{e})
			if n := f.n; n != nil {
				n.flags &^= fBusy
				n.k, n.fun, n.args, n.ext, n.flags = kInd, e, nil, nil, 0
				e = n
			}
		case opCase:
			e = mkApp(opPins[3], []*node{f.args[0], f.args[1], f.args[2], f.args[3], f.args[4], e})
		case opPin:
			e = mkApp(opPins[0], []*node{e})
		case opLaw:
			a := []*node{f.args[0], f.args[1], f.args[2]}
			a[2-f.i] = e
			e = mkApp(opPins[1], a)
		case opCrash:
			e = mkApp(&node{k: kPin, flags: fWHNF | fNF, fun: f.n}, []*node{e})
		case opNF1:
		case opNF2:
			f.n.flags &^= fNFBusy
			e = f.n
		case opJet2:
			a := append([]*node(nil), f.args...)
			if i := int(f.i & 0xff); i < len(a) && e != nil {
				a[i] = e
			}
			e = mkApp(f.n, a)
		case opCmp, opTrace:
			e = mkApp(f.n, f.args)
		}
	}
	m.frames = m.frames[:0]
	m.stopX, m.stopV = nil, nil
	return m.writeGraph(e)
}

// isExpr reports whether n (dereferenced) must be written as code: a thunk
// or an app with thunks below it, or a black-hole let.
func isExpr(n *node) bool {
	return (n.k == kApp && n.flags&fNF == 0) || n.k == kHole
}

// writeGraph writes the expression graph rooted at root as a plain value.
func (m *machine) writeGraph(root *node) plan.Value {
	root = m.deref(root)
	if !isExpr(root) {
		return m.export(root)
	}
	// Count references between expression nodes.
	indeg := map[*node]int{root: 0}
	order := []*node{root}
	stack := []*node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.k == kHole {
			continue
		}
		visit := func(c *node) {
			c = m.deref(c)
			if !isExpr(c) {
				return
			}
			if _, seen := indeg[c]; !seen {
				order = append(order, c)
				stack = append(stack, c)
			}
			indeg[c]++
		}
		visit(n.fun)
		for _, a := range n.args {
			visit(a)
		}
	}
	slot := map[*node]uint64{}
	var bound []*node
	for _, n := range order {
		if n.k == kHole || indeg[n] >= 2 || (n == root && indeg[n] >= 1) {
			bound = append(bound, n)
		}
	}
	if len(bound) == 0 {
		// A tree of thunks: the plain value is exact.
		return m.snapshot(root)
	}
	if root != bound[0] {
		bound = append([]*node{root}, bound...)
	}
	for i, n := range bound {
		slot[n] = uint64(i) + 2 // slot 1 is the dummy argument
	}
	// code writes the expression for n: a slot reference for a bound
	// node (unless defining it), a quoted constant, or a call chain.
	code := func(n *node, define bool) plan.Value {
		type item struct {
			n    *node
			post bool
		}
		var vals []plan.Value
		st := []item{{n: n}}
		first := define
		for len(st) > 0 {
			it := st[len(st)-1]
			st = st[:len(st)-1]
			c := m.deref(it.n)
			if it.post {
				k := len(c.args) + 1
				parts := vals[len(vals)-k:]
				acc := parts[0]
				for _, a := range parts[1:] {
					acc = plan.A(plan.N(0), acc, a)
				}
				vals = append(vals[:len(vals)-k], acc)
				continue
			}
			if !isExpr(c) {
				vals = append(vals, plan.A(plan.N(0), m.export(c)))
				continue
			}
			if s, ok := slot[c]; ok && !first {
				vals = append(vals, plan.N(s))
				continue
			}
			first = false
			if c.k == kHole {
				vals = append(vals, plan.N(slot[c]))
				continue
			}
			st = append(st, item{n: c, post: true})
			for i := len(c.args) - 1; i >= 0; i-- {
				st = append(st, item{n: c.args[i]})
			}
			st = append(st, item{n: c.fun})
		}
		return vals[0]
	}
	body := plan.Value(plan.N(slot[root]))
	for i := len(bound) - 1; i >= 0; i-- {
		body = plan.A(plan.N(1), code(bound[i], true), body)
	}
	return plan.A(plan.L(plan.N(0), plan.N(1), body), plan.N(0))
}
