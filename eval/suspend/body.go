package suspend

import (
	"math"

	"pstore/plan"
)

// Rewriting a residual as a law whose body is normal in the dialect (see
// doc.go, "The residual law"). Every walk uses explicit stacks: residuals
// can be a million nodes deep.

// gnode is a node of the expression graph a residual stands for.
type gnode struct {
	val   plan.Value // a constant in normal form, when fn == nil and !hole
	fn    *gnode     // an application (thunk or closure with thunks below)
	args  []*gnode
	hole  bool   // a let slot that is its own alias (a black hole)
	alias *gnode // a let slot standing for another node (decoding only)
}

func (g *gnode) isExpr() bool { return g.hole || g.fn != nil }

func follow(g *gnode) *gnode {
	for g.alias != nil {
		g = g.alias
	}
	return g
}

const inf = math.MaxInt64

// checker decides whether values are in normal form for a dialect. It is
// conservative: an app whose arity depends on an unloaded pin is reported
// not normal (it is then rebuilt, which is always correct).
type checker struct {
	plan4 bool
	memo  map[*plan.App]bool
}

// arity returns the number of arguments v still needs (<= 0: saturated),
// or ok false when it cannot be known without loading a pin.
func (c *checker) arity(v plan.Value) (int64, bool) {
	var used int64
	inPin := false
	for {
		switch x := v.(type) {
		case *plan.App:
			h, args := x.Spine()
			used += int64(len(args))
			v, inPin = h, false
		case *plan.Pin:
			if !x.Loaded() {
				return 0, false
			}
			it, err := x.Item()
			if err != nil {
				return 0, false
			}
			v, inPin = it, true
		case *plan.Law:
			a, small := x.Arity.Uint64()
			if !small || a > inf/2 {
				return inf, true
			}
			return int64(a) - used, true
		case plan.Nat:
			var a int64 = 1
			k, small := x.Uint64()
			if c.plan4 {
				if !inPin {
					return inf, true // a bare nat head is inert data
				}
				if small {
					switch k {
					case 1:
						a = 3
					case 3:
						a = 6
					}
				}
			} else if small {
				switch k {
				case 0, 2:
					a = 3
				case 1:
					a = 5
				}
			}
			return a - used, true
		default:
			return 0, false
		}
	}
}

// normal reports whether v is in normal form: nats, laws and pins are;
// an app is when it is not saturated and all its arguments are normal.
func (c *checker) normal(v plan.Value) bool {
	a, ok := v.(*plan.App)
	if !ok {
		return true
	}
	if r, ok := c.memo[a]; ok {
		return r
	}
	stack := []*plan.App{a}
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		if _, done := c.memo[t]; done {
			stack = stack[:len(stack)-1]
			continue
		}
		_, args := t.Spine()
		pending := false
		for _, x := range args {
			if xa, ok := x.(*plan.App); ok {
				if _, done := c.memo[xa]; !done {
					stack = append(stack, xa)
					pending = true
				}
			}
		}
		if pending {
			continue
		}
		stack = stack[:len(stack)-1]
		r := true
		for _, x := range args {
			if xa, ok := x.(*plan.App); ok && !c.memo[xa] {
				r = false
				break
			}
		}
		if r {
			ar, ok := c.arity(t)
			r = ok && ar >= 1
		}
		c.memo[t] = r
	}
	return c.memo[a]
}

// builder reads residual values into the expression graph.
type builder struct {
	chk  *checker
	apps map[*plan.App]*gnode // the same input app is one node
}

func newBuilder(plan4 bool) *builder {
	return &builder{chk: &checker{plan4: plan4, memo: map[*plan.App]bool{}}, apps: map[*plan.App]*gnode{}}
}

// value reads v as an expression: normal values are constants, other apps
// are application nodes (shared by pointer).
func (b *builder) value(v plan.Value) *gnode {
	var work []*plan.App
	node := func(x plan.Value) *gnode {
		xa, ok := x.(*plan.App)
		if !ok || b.chk.normal(xa) {
			return &gnode{val: x}
		}
		if g := b.apps[xa]; g != nil {
			return g
		}
		g := &gnode{}
		b.apps[xa] = g
		work = append(work, xa)
		return g
	}
	root := node(v)
	for len(work) > 0 {
		t := work[len(work)-1]
		work = work[:len(work)-1]
		g := b.apps[t]
		g.fn = node(t.Fun)
		g.args = make([]*gnode, len(t.Args))
		for i, x := range t.Args {
			g.args[i] = node(x)
		}
	}
	return root
}

// residual reads an evaluator's residual. A saturated call of an unpinned
// law of arity 1 (the letrec form both evaluators write) is unfolded by the
// dialect's instantiation rules; anything else is read as a value.
func (b *builder) residual(r plan.Value) *gnode {
	if a, ok := r.(*plan.App); ok && len(a.Args) == 1 {
		if l, ok := a.Fun.(*plan.Law); ok {
			if ar, small := l.Arity.Uint64(); small && ar == 1 {
				return b.letrec(l, a.Args[0])
			}
		}
	}
	return b.value(r)
}

// term kinds of a law body expression.
const (
	termConst = iota
	termRef
	termApply
)

// classify reads one body term by the dialect's rules (PLAN.md 6.3,
// PLAN4.md 6.3): a slot reference, an application (0 f x), or a constant
// (quoted or literal).
func (b *builder) classify(t plan.Value, maxRef uint64) (kind int, k uint64, x, y plan.Value) {
	switch v := t.(type) {
	case plan.Nat:
		if n, small := v.Uint64(); small && n <= maxRef {
			return termRef, n, nil, nil
		}
	case *plan.App:
		h, args := v.Spine()
		hn, ok := h.(plan.Nat)
		if !ok {
			break
		}
		op, small := hn.Uint64()
		if !small {
			break
		}
		switch {
		case op == 0 && len(args) == 2:
			return termApply, 0, args[0], args[1]
		case op == 2 && len(args) == 1 && !b.chk.plan4:
			return termConst, 0, args[0], nil
		case op == 0 && len(args) == 1 && b.chk.plan4:
			return termConst, 0, args[0], nil
		}
	}
	return termConst, 0, t, nil
}

func isLet(t plan.Value) (v, rest plan.Value, ok bool) {
	a, isApp := t.(*plan.App)
	if !isApp {
		return nil, nil, false
	}
	h, args := a.Spine()
	if hn, isNat := h.(plan.Nat); isNat && len(args) == 2 {
		if op, small := hn.Uint64(); small && op == 1 {
			return args[0], args[1], true
		}
	}
	return nil, nil, false
}

// code reads body term t into a graph node, with slots as the environment.
func (b *builder) code(t plan.Value, slots []*gnode) *gnode {
	maxRef := uint64(len(slots) - 1)
	type item struct {
		t   plan.Value
		dst **gnode
	}
	var root *gnode
	work := []item{{t, &root}}
	for len(work) > 0 {
		it := work[len(work)-1]
		work = work[:len(work)-1]
		kind, k, x, y := b.classify(it.t, maxRef)
		switch kind {
		case termRef:
			*it.dst = slots[k]
		case termConst:
			*it.dst = b.value(x)
		case termApply:
			g := &gnode{args: make([]*gnode, 1)}
			*it.dst = g
			work = append(work, item{y, &g.args[0]}, item{x, &g.fn})
		}
	}
	return root
}

// letrec unfolds ({n 1 body} arg): slot 0 is the law, slot 1 the argument,
// then one slot per let binding (mutually recursive).
func (b *builder) letrec(l *plan.Law, arg plan.Value) *gnode {
	var binds []plan.Value
	body := l.Body
	for {
		v, rest, ok := isLet(body)
		if !ok {
			break
		}
		binds = append(binds, v)
		body = rest
	}
	slots := make([]*gnode, 2+len(binds))
	slots[0] = &gnode{val: l}
	slots[1] = b.value(arg)
	for j := range binds {
		slots[2+j] = &gnode{}
	}
	for j, v := range binds {
		g := b.code(v, slots)
		s := slots[2+j]
		if kind, _, _, _ := b.classify(v, uint64(len(slots)-1)); kind == termApply {
			// A fresh node: the slot becomes it, in place, so every
			// reference already made to the slot sees it.
			s.fn, s.args = g.fn, g.args
		} else {
			s.alias = g
		}
	}
	// A chain of aliases that comes back to itself is a black hole.
	for _, s := range slots[2:] {
		for {
			seen := map[*gnode]bool{}
			g := s
			for g.alias != nil && !seen[g] {
				seen[g] = true
				g = g.alias
			}
			if g.alias == nil {
				break
			}
			g.alias, g.hole = nil, true
		}
	}
	return b.code(body, slots)
}

// emitter writes an expression graph as a law body of the dialect.
type emitter struct {
	plan4 bool
	max   uint64 // highest slot number
}

// quote writes constant v so that the body reads it as itself.
func (e *emitter) quote(v plan.Value) plan.Value {
	q := uint64(2)
	if e.plan4 {
		q = 0
	}
	switch x := v.(type) {
	case plan.Nat:
		if n, small := x.Uint64(); small && n <= e.max {
			return plan.A(plan.N(q), x)
		}
		return x
	case *plan.App:
		return plan.A(plan.N(q), x)
	}
	return v
}

// law writes the graph under root as {0 1 body}: applied to any argument,
// it evaluates to what root stands for.
func (e *emitter) law(root *gnode) *plan.Law {
	root = follow(root)
	if !root.isExpr() {
		e.max = 1
		return plan.L(plan.N(0), plan.N(1), e.quote(root.val))
	}
	// In-degrees of expression nodes (the root counts one).
	indeg := map[*gnode]int{root: 1}
	var order []*gnode // depth-first pre-order from the root
	stack := []*gnode{root}
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		order = append(order, t)
		if t.hole {
			continue
		}
		for i := len(t.args) - 1; i >= -1; i-- {
			var c *gnode
			if i < 0 {
				c = follow(t.fn)
			} else {
				c = follow(t.args[i])
			}
			if !c.isExpr() {
				continue
			}
			n, seen := indeg[c]
			indeg[c] = n + 1
			if !seen {
				stack = append(stack, c)
			}
		}
	}
	slot := map[*gnode]uint64{}
	var bound []*gnode
	for _, g := range order {
		if g.hole || indeg[g] >= 2 {
			slot[g] = uint64(2 + len(bound)) // $0 self, $1 the dummy argument
			bound = append(bound, g)
		}
	}
	e.max = uint64(1 + len(bound))

	// expr writes the expression of top: apply forms down to constants
	// and slot references (top itself is written out even if bound).
	memo := map[*gnode]plan.Value{}
	expr := func(top *gnode) plan.Value {
		if top.hole {
			return plan.N(slot[top])
		}
		ref := func(c *gnode) (plan.Value, bool) {
			c = follow(c)
			if !c.isExpr() {
				return e.quote(c.val), true
			}
			if s, ok := slot[c]; ok {
				return plan.N(s), true
			}
			v, ok := memo[c]
			return v, ok
		}
		type item struct {
			g    *gnode
			post bool
		}
		st := []item{{g: top}}
		var last plan.Value
		for len(st) > 0 {
			it := st[len(st)-1]
			st = st[:len(st)-1]
			t := it.g
			if !it.post {
				st = append(st, item{g: t, post: true})
				for i := len(t.args) - 1; i >= -1; i-- {
					c := t.fn
					if i >= 0 {
						c = t.args[i]
					}
					if _, ok := ref(c); !ok {
						st = append(st, item{g: follow(c)})
					}
				}
				continue
			}
			f, _ := ref(t.fn)
			for _, a := range t.args {
				x, _ := ref(a)
				f = plan.A(plan.N(0), f, x)
			}
			if t != top {
				memo[t] = f
			}
			last = f
		}
		return last
	}
	var body plan.Value
	if s, ok := slot[root]; ok {
		body = plan.N(s)
	} else {
		body = expr(root)
	}
	for j := len(bound) - 1; j >= 0; j-- {
		body = plan.A(plan.N(1), expr(bound[j]), body)
	}
	return plan.L(plan.N(0), plan.N(1), body)
}

// residualLaw rewrites residual r (of an evaluator of the given dialect)
// as a law of arity 1 whose body is normal in that dialect.
func residualLaw(r plan.Value, plan4 bool) *plan.Law {
	b := newBuilder(plan4)
	root := b.residual(r)
	e := &emitter{plan4: plan4}
	return e.law(root)
}
