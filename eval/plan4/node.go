package plan4

import (
	"fmt"
	"math/big"

	"pstore/plan"
)

// The evaluator's own heap graph. A node is one mutable cell; app nodes are
// thunks until evaluated and are then overwritten in place (with the value
// itself when it is a small nat, else with an indirection), so a shared
// thunk is reduced at most once.

type kind uint8

const (
	kNat  kind = iota // w, or ext.(*big.Int) when >= 2^64
	kPin              // fun: contents (nil until loaded); w: jet id; ext: *pinInfo or nil
	kLaw              // ext: *lawInfo
	kApp              // fun applied to args (len(args) >= 1); ext: the plan.Value an NF node came from
	kHole             // a let that is an alias of itself: evaluating it is a loop
	kInd              // fun: the node this one was overwritten with
	kVal              // ext: a plan.Value not converted yet (lazy conversion of inputs)
)

const (
	fWHNF   uint8 = 1 << iota // app in weak head normal form (partial application or data)
	fNF                       // node and everything below it is in normal form
	fBusy                     // black hole: the node is being evaluated
	fNFBusy                   // the node is being normalized (a cycle here is a loop)
)

type node struct {
	k     kind
	flags uint8
	w     uint64
	fun   *node
	args  []*node
	ext   any
}

// pinInfo is the extra state of a pin node.
type pinInfo struct {
	src *plan.Pin // the input pin this node stands for (kept as is in results)
	out *plan.Pin // the exported pin, once built
}

// lawInfo is a law node's contents.
type lawInfo struct {
	name   plan.Nat
	arityN plan.Nat
	arity  uint64 // arityN, valid when arityOK
	// arityOK is false when the arity is 2^64 or more: such a law can
	// never be saturated.
	arityOK bool
	body    *node
	code    *lawCode  // compiled on first call
	src     *plan.Law // the input law, if any
	out     *plan.Law // the exported law, once built
}

func (li *lawInfo) setArity(a plan.Nat) {
	li.arityN = a
	li.arity, li.arityOK = a.Uint64()
}

// smallNats are shared nat nodes for 0..255. They are immutable (nat nodes
// are never updated), so every machine may share them.
var smallNats = func() (t [256]*node) {
	for i := range t {
		t[i] = &node{k: kNat, flags: fWHNF | fNF, w: uint64(i)}
	}
	return
}()

// opPins are the pins <0> .. <3>, shared the same way (only residuals build
// calls to them).
var opPins = func() (t [4]*node) {
	for i := range t {
		t[i] = &node{k: kPin, flags: fWHNF | fNF, fun: smallNats[i], ext: &pinInfo{src: plan.P(plan.N(uint64(i)))}}
	}
	return
}()

func natNode(n uint64) *node {
	if n < uint64(len(smallNats)) {
		return smallNats[n]
	}
	return &node{k: kNat, flags: fWHNF | fNF, w: n}
}

func natNodeOf(n plan.Nat) *node {
	if u, ok := n.Uint64(); ok {
		return natNode(u)
	}
	return &node{k: kNat, flags: fWHNF | fNF, ext: n.BigShared()}
}

func bigNatNode(b *big.Int) *node {
	if b.IsUint64() {
		return natNode(b.Uint64())
	}
	return &node{k: kNat, flags: fWHNF | fNF, ext: b}
}

// natOf returns the value of a nat node.
func natOf(n *node) plan.Nat {
	if b, ok := n.ext.(*big.Int); ok {
		return plan.NatFromBigNoCopy(b)
	}
	return plan.N(n.w)
}

// bigOf returns a nat node's value as a *big.Int the caller must not modify.
func bigOf(n *node) *big.Int {
	if b, ok := n.ext.(*big.Int); ok {
		return b
	}
	return new(big.Int).SetUint64(n.w)
}

// isSmall reports whether nat node n is below 2^64.
func isSmall(n *node) bool { return n.ext == nil }

// newApp allocates an app node with room for n arguments. Small argument
// arrays are allocated together with the node.
func newApp(n int) *node {
	switch n {
	case 1:
		c := new(struct {
			n node
			a [1]*node
		})
		c.n.k = kApp
		c.n.args = c.a[:]
		return &c.n
	case 2:
		c := new(struct {
			n node
			a [2]*node
		})
		c.n.k = kApp
		c.n.args = c.a[:]
		return &c.n
	case 3:
		c := new(struct {
			n node
			a [3]*node
		})
		c.n.k = kApp
		c.n.args = c.a[:]
		return &c.n
	case 4:
		c := new(struct {
			n node
			a [4]*node
		})
		c.n.k = kApp
		c.n.args = c.a[:]
		return &c.n
	}
	return &node{k: kApp, args: make([]*node, n)}
}

// mkApp builds the app of f to a copy of args.
func mkApp(f *node, args []*node) *node {
	n := newApp(len(args))
	n.fun = f
	copy(n.args, args)
	return n
}

// valNode wraps an input value for lazy conversion. nf says the value is
// known to be in normal form (inside a pin or a law body).
func valNode(v plan.Value, nf bool) *node {
	switch x := v.(type) {
	case plan.Nat:
		return natNodeOf(x)
	}
	var fl uint8
	if nf {
		fl = fWHNF | fNF
	}
	return &node{k: kVal, flags: fl, ext: v}
}

// convert turns a kVal node into the node it stands for, creating kVal
// nodes for its children. Pins and laws are shared by pointer, so the same
// input pin is loaded once and the same input law compiled once.
func (m *machine) convert(n *node) {
	nf := n.flags&fNF != 0
	switch x := n.ext.(type) {
	case *plan.Pin:
		if o, ok := memoized(&m.pinMemo, x, n); ok {
			n.k, n.fun, n.ext, n.flags = kInd, o, nil, 0
			return
		}
		n.k, n.flags, n.ext = kPin, fWHNF|fNF, &pinInfo{src: x}
	case *plan.Law:
		if o, ok := memoized(&m.lawMemo, x, n); ok {
			n.k, n.fun, n.ext, n.flags = kInd, o, nil, 0
			return
		}
		li := &lawInfo{name: x.Name, body: valNode(x.Body, true), src: x}
		li.setArity(x.Arity)
		n.k, n.flags, n.ext = kLaw, fWHNF|fNF, li
	case *plan.App:
		if !nf {
			// The same input thunk twice is one thunk: share it.
			if o, ok := memoized(&m.appMemo, x, n); ok {
				n.k, n.fun, n.ext, n.flags = kInd, o, nil, 0
				return
			}
		}
		n.k = kApp
		n.fun = valNode(x.Fun, nf)
		n.args = make([]*node, len(x.Args))
		for i, a := range x.Args {
			n.args[i] = valNode(a, nf)
		}
		if nf {
			n.ext = x // an NF node exports as the value it came from
		} else {
			n.ext = nil
		}
	case plan.Nat:
		nn := natNodeOf(x)
		n.k, n.w, n.ext, n.flags = kNat, nn.w, nn.ext, fWHNF|fNF
	default:
		panic(fmt.Sprintf("plan4: converting unknown value %T", n.ext))
	}
}

// deref follows indirections and converts lazy input nodes.
func (m *machine) deref(n *node) *node {
	for n.k >= kInd {
		if n.k == kInd {
			n = n.fun
		} else {
			m.convert(n)
		}
	}
	return n
}

// pinItem returns the contents of a pin node, loading an input pin on first
// use (and working out its jet then).
func (m *machine) pinItem(p *node) (*node, error) {
	if p.fun != nil {
		return p.fun, nil
	}
	pi := p.ext.(*pinInfo)
	wasLoaded := pi.src.Loaded()
	it, err := pi.src.Item()
	if err != nil {
		return nil, fmt.Errorf("plan4: loading pin: %w", err)
	}
	if !wasLoaded {
		m.stats.PinsLoaded++
	}
	p.w = uint64(jetForValue(it))
	p.fun = valNode(it, true)
	return p.fun, nil
}

// pairSpine returns the head (not an app) of an NF node and all its
// arguments, left to right. buf is reused for the result when possible.
func (m *machine) pairSpine(n *node, buf []*node) (*node, []*node) {
	n = m.deref(n)
	if n.k != kApp {
		return n, buf[:0]
	}
	cnt := 0
	h := n
	for h.k == kApp {
		cnt += len(h.args)
		h = m.deref(h.fun)
	}
	if cap(buf) < cnt {
		buf = make([]*node, cnt)
	}
	buf = buf[:cnt]
	end := cnt
	for c := n; c.k == kApp; c = m.deref(c.fun) {
		end -= len(c.args)
		copy(buf[end:], c.args)
	}
	return h, buf
}

// spineArg returns the i-th argument (from the left, from 0) of n's pair
// spine, as pairSpine would list it, without copying the spine; false when
// the spine has no more than i arguments.
func (m *machine) spineArg(n *node, i uint64) (*node, bool) {
	n = m.deref(n)
	cnt := uint64(0)
	for h := n; h.k == kApp; h = m.deref(h.fun) {
		cnt += uint64(len(h.args))
	}
	if i >= cnt {
		return nil, false
	}
	end := cnt
	for c := n; ; c = m.deref(c.fun) {
		end -= uint64(len(c.args))
		if i >= end {
			return c.args[i-end], true
		}
	}
}

// memoized returns the node already made for the input value x, or else
// records n as x's node (making the map on first use) and returns false.
func memoized[K comparable](memo *map[K]*node, x K, n *node) (*node, bool) {
	if o, ok := (*memo)[x]; ok {
		return o, true
	}
	if *memo == nil {
		*memo = map[K]*node{}
	}
	(*memo)[x] = n
	return nil, false
}
