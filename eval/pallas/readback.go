package pallas

import (
	"pstore/plan"
)

// Reading the graph back as plan.Values: results, the contents of new pins
// and law bodies (opcodes 4 and 0), and residuals of stopped evaluations.
// All walks use explicit stacks.

type readback struct {
	memo  map[*node]plan.Value
	state map[*node]uint8 // 1 = on the path (gray), 2 = done
	stack []*node
}

// value reads back n (normally a node in normal form) as a DAG: a node
// reachable along several paths becomes one shared plan.Value. Unconverted
// input apps are returned as they are; busy thunks are read as the thunk
// they stand for (their fn and args are kept while busy). It reports a
// cycle with ok false (only possible when n is not normalized).
func (m *machine) value(n *node) (plan.Value, error) {
	if n = follow(n); n.isNF() {
		return m.nfValue(n), nil
	}
	v, ok := m.dag(n)
	if !ok {
		// Opcodes only read back normalized nodes, which are acyclic.
		return nil, loopErr("reading back a cyclic value")
	}
	return v, nil
}

// nfValue reads back a node in normal form. Normal-form nodes never change,
// so the plan.App built for an app node is kept in its x field: reading
// back a structure again (opcode 4 of something containing an earlier
// result) reuses it instead of rebuilding, and no maps are needed.
func (m *machine) nfValue(root *node) plan.Value {
	if v, ok := leafValue(root); ok {
		return v
	}
	if v := root.appCache(); v != nil {
		return v
	}
	type item struct {
		n     *node
		ready bool
	}
	get := func(c *node) plan.Value {
		c = follow(c)
		if v, ok := leafValue(c); ok {
			return v
		}
		return c.appCache()
	}
	st := []item{{n: root}}
	for len(st) > 0 {
		it := st[len(st)-1]
		st = st[:len(st)-1]
		t := it.n
		if t.appCache() != nil {
			continue
		}
		targs := t.argv()
		if !it.ready {
			st = append(st, item{n: t, ready: true})
			for i := len(targs) - 1; i >= -1; i-- {
				var c *node
				if i < 0 {
					c = follow(t.fn)
				} else {
					c = follow(targs[i])
				}
				if c.tag == tagApp && c.appCache() == nil {
					st = append(st, item{n: c})
				}
			}
			continue
		}
		args := make([]plan.Value, len(targs))
		for i, a := range targs {
			args[i] = get(a)
		}
		t.setAppCache(plan.NewAppShared(get(t.fn), args))
	}
	return root.appCache()
}

func leafValue(n *node) (plan.Value, bool) {
	switch n.tag {
	case tagNat:
		return n.natv(), true
	case tagLaw:
		return n.x.(*lawInfo).law, true
	case tagPin:
		return n.x.(*pinInfo).pin, true
	case tagLazy:
		return n.x.(*plan.App), true
	case tagHole:
		return holeValue, true
	}
	return nil, false
}

// holeValue is a closed expression whose evaluation enters a black hole
// (PLAN.md 9, row 59): it stands for a let slot that never got a value.
var holeValue = plan.A(plan.L(plan.N(0), plan.N(1), plan.A(plan.N(1), plan.N(2), plan.N(2))), plan.N(0))

func (m *machine) dag(root *node) (plan.Value, bool) {
	root = follow(root)
	if v, ok := leafValue(root); ok {
		return v, true
	}
	rb := &m.rb
	if rb.memo == nil {
		rb.memo = map[*node]plan.Value{}
		rb.state = map[*node]uint8{}
	}
	defer func() {
		clear(rb.memo)
		clear(rb.state)
		clear(rb.stack)
		rb.stack = rb.stack[:0]
	}()
	rb.stack = append(rb.stack[:0], root)
	for len(rb.stack) > 0 {
		t := rb.stack[len(rb.stack)-1]
		switch rb.state[t] {
		case 2:
			rb.stack = rb.stack[:len(rb.stack)-1]
			continue
		case 0:
			rb.state[t] = 1
			// Push unfinished children.
			for i := len(t.argv()) - 1; i >= -1; i-- {
				var c *node
				if i < 0 {
					c = follow(t.fn)
				} else {
					c = follow(t.argv()[i])
				}
				if c.tag != tagApp {
					continue
				}
				switch rb.state[c] {
				case 1:
					return nil, false // cycle
				case 0:
					rb.stack = append(rb.stack, c)
				}
			}
			continue
		}
		// state 1 and all children done: build.
		rb.stack = rb.stack[:len(rb.stack)-1]
		get := func(c *node) plan.Value {
			c = follow(c)
			if v, ok := leafValue(c); ok {
				return v
			}
			return rb.memo[c]
		}
		args := make([]plan.Value, len(t.argv()))
		for i, a := range t.argv() {
			args[i] = get(a)
		}
		rb.memo[t] = plan.NewAppShared(get(t.fn), args)
		rb.state[t] = 2
	}
	return rb.memo[root], true
}

// residual reads back root as a plain value that evaluates to the same
// result: a DAG when the graph is acyclic (the evaluator's input conversion
// turns shared plan.Apps back into shared nodes), else a letrec: the law
// {0 1 body} applied to 0, whose body rebuilds every shared node as a let
// binding (PLAN.md 6.2) and ends with the root.
func (m *machine) residual(root *node) plan.Value {
	if v, ok := m.dag(root); ok {
		return v
	}
	return m.letrec(root)
}

func (m *machine) letrec(root *node) plan.Value {
	root = follow(root)
	// In-degrees of app nodes (the root counts one extra reference).
	indeg := map[*node]int{root: 1}
	stack := []*node{root}
	seen := map[*node]bool{root: true}
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for i := -1; i < len(t.argv()); i++ {
			var c *node
			if i < 0 {
				c = follow(t.fn)
			} else {
				c = follow(t.argv()[i])
			}
			if c.tag != tagApp {
				continue
			}
			indeg[c]++
			if !seen[c] {
				seen[c] = true
				stack = append(stack, c)
			}
		}
	}
	// Slots: every app node with in-degree >= 2, numbered in depth-first
	// order from the root so that residuals are reproducible.
	slot := map[*node]uint64{}
	var order []*node
	{
		vis := map[*node]bool{root: true}
		st := []*node{root}
		for len(st) > 0 {
			t := st[len(st)-1]
			st = st[:len(st)-1]
			if indeg[t] >= 2 {
				order = append(order, t)
			}
			for i := len(t.argv()) - 1; i >= -1; i-- {
				var c *node
				if i < 0 {
					c = follow(t.fn)
				} else {
					c = follow(t.argv()[i])
				}
				if c.tag == tagApp && !vis[c] {
					vis[c] = true
					st = append(st, c)
				}
			}
		}
	}
	for j, n := range order {
		slot[n] = uint64(2 + j) // $0 self, $1 the dummy argument
	}
	nmax := uint64(1 + len(order))
	zero := plan.N(0)

	// expr builds the body expression of node n: a slot reference, a leaf
	// constant, or (0 f x) applications. A leaf is quoted (2 v) when the
	// body would read it as something else: a nat that names a slot, or
	// an app (an input not yet converted, or the black hole), which could
	// have the shape of a body form such as (0 f x).
	leaf := func(c *node) plan.Value {
		v, _ := leafValue(c)
		switch x := v.(type) {
		case plan.Nat:
			if k, small := x.Uint64(); small && k <= nmax {
				return plan.A(plan.N(2), x)
			}
		case *plan.App:
			return plan.A(plan.N(2), x)
		}
		return v
	}
	memo := map[*node]plan.Value{}
	expr := func(top *node) plan.Value {
		// Post-order over non-slot app nodes below top.
		type item struct {
			n    *node
			done bool
		}
		ref := func(c *node, inside bool) (plan.Value, bool) {
			c = follow(c)
			if c.tag != tagApp {
				return leaf(c), true
			}
			if s, ok := slot[c]; ok && inside {
				return plan.N(s), true
			}
			if v, ok := memo[c]; ok {
				return v, true
			}
			return nil, false
		}
		st := []item{{n: top}}
		for len(st) > 0 {
			it := st[len(st)-1]
			st = st[:len(st)-1]
			t := it.n
			if !it.done {
				st = append(st, item{n: t, done: true})
				for i := len(t.argv()) - 1; i >= -1; i-- {
					var c *node
					if i < 0 {
						c = t.fn
					} else {
						c = t.argv()[i]
					}
					if _, ok := ref(c, true); !ok {
						st = append(st, item{n: follow(c)})
					}
				}
				continue
			}
			f, _ := ref(t.fn, true)
			for _, a := range t.argv() {
				x, _ := ref(a, true)
				f = plan.A(zero, f, x)
			}
			memo[t] = f
		}
		return memo[top]
	}
	var body plan.Value
	if s, ok := slot[root]; ok {
		body = plan.N(s)
	} else {
		body = expr(root)
	}
	for j := len(order) - 1; j >= 0; j-- {
		b := expr(order[j])
		body = plan.A(plan.N(1), b, body)
	}
	return plan.A(plan.L(zero, plan.N(1), body), zero)
}
