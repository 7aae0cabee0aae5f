package pallas

import (
	"fmt"

	"pstore/plan"
)

// The heap graph. Every value under evaluation is a *node; nodes are owned
// by one machine (one Eval call) and mutated only by it, except the shared
// small-nat nodes, which are never written.
//
// An app node stands for the left-nested chain (((fn a1) a2) ... an): one
// node with an argument array, so a saturated call finds its arguments
// without walking pairs. Only the node as a whole is ever overwritten; the
// inner pairs (fn a1 ... ak), k < n, have no identity of their own, so
// nothing can share them and reducing them in place of the whole node loses
// no sharing.

type tag uint8

const (
	tagLazy tag = iota // x is a *plan.App not converted yet
	tagNat             // nat
	tagLaw             // x is a *lawInfo
	tagPin             // x is a *pinInfo
	tagApp             // fn applied to args (len(args) >= 1)
	tagInd             // indirection to fn (a reduced thunk)
	tagHole            // a let slot that never got a value (alias cycle)
)

// Node flags.
const (
	// fWHNF: the app is a closure; need holds its remaining arity.
	fWHNF uint8 = 1 << iota
	// fNF: the app is in normal form (every child normal).
	fNF
	// fMark: the function part is being evaluated (PLAN.md 4.4, second
	// black hole kind). Reaching a marked node is a loop.
	fMark
	// fBusy: the thunk is under reduction (black hole). Its fn and args
	// are left intact so a residual can restore the thunk.
	fBusy
	// fGray: being normalized; reaching it again means the value is
	// infinite (cyclic), which has no normal form.
	fGray
)

// A node is 64 bytes (a size class of its own): the header, one word that
// is either a nat's value or unused, the function part, x, and up to three
// inline arguments. It was 96 bytes (a plan.Nat and an []*node slice header
// in every node); at 24 million allocations per (<mul.seed> 300 400) the
// smaller node took GC and allocation from about 60% of the time to 45%.
type node struct {
	tag   tag
	flags uint8
	nin   uint8  // apps: arguments in inl (0 to 3), or ovf: in x (*overflow)
	need  uint32 // closures: arguments still missing (>= 1)
	val   uint64 // nats: the value, when x is nil (else x is the plan.Nat)
	fn    *node
	// x is *lawInfo (laws), *pinInfo (pins), *plan.App (lazy nodes, and
	// the read-back value cached on apps in normal form), plan.Nat (nats of
	// 64 bits and more) or *overflow (apps of more than three arguments).
	x any
	// inl holds the arguments of apps with at most three, so such an app is
	// one allocation. Only thunks are ever overwritten, and a thunk's
	// arguments are copied out (flatten) before its result is written, so
	// reusing inl for the result is safe.
	inl [3]*node
}

// ovf in nin: the arguments are in an *overflow in x.
const ovf = 255

// overflow holds the arguments of an app of more than three, and its
// cached read-back value.
type overflow struct {
	args []*node
	app  *plan.App
}

// argv returns the arguments of app n. Writing through it (path
// compression, normalization) writes the node's own arguments.
func (n *node) argv() []*node {
	if n.nin == ovf {
		return n.x.(*overflow).args
	}
	k := int(n.nin)
	return n.inl[:k:k]
}

// nargs is len(n.argv()).
func (n *node) nargs() int {
	if n.nin == ovf {
		return len(n.x.(*overflow).args)
	}
	return int(n.nin)
}

// natv returns the value of nat node n.
func (n *node) natv() plan.Nat {
	if n.x == nil {
		return plan.N(n.val)
	}
	return n.x.(plan.Nat)
}

// setNat makes n the nat v (tag, value and x only).
func (n *node) setNat(v plan.Nat) {
	n.tag, n.nin = tagNat, 0
	if s, ok := v.Uint64(); ok {
		n.val = s
		if n.x != nil {
			n.x = nil
		}
	} else {
		n.val, n.x = 0, v
	}
}

// appCache returns the read-back value cached on app n, or nil.
func (n *node) appCache() *plan.App {
	if n.nin == ovf {
		return n.x.(*overflow).app
	}
	a, _ := n.x.(*plan.App)
	return a
}

func (n *node) setAppCache(a *plan.App) {
	if n.nin == ovf {
		n.x.(*overflow).app = a
		return
	}
	n.x = a
}

// clearInl drops stale inline arguments: they would keep their whole old
// subgraph alive (on (<mul.seed> 300 400) that was every intermediate sum,
// 1.7 GB). Separate stores: assigning [3]*node{} is a bulk write barrier.
func (n *node) clearInl() {
	// Loads first: a store costs a write barrier while the GC marks.
	if n.inl[0] != nil {
		n.inl[0] = nil
	}
	if n.inl[1] != nil {
		n.inl[1] = nil
	}
	if n.inl[2] != nil {
		n.inl[2] = nil
	}
}

// setApp makes n the app of fn to args (copied).
func (n *node) setApp(fn *node, args []*node) {
	n.tag, n.flags, n.fn = tagApp, 0, fn
	if n.x != nil {
		n.x = nil
	}
	if k := len(args); k <= len(n.inl) {
		// An explicit loop: copy() of pointers goes through
		// typedslicecopy, which cost 10% of the hot loop.
		for i, a := range args {
			n.inl[i] = a
		}
		for i := k; i < len(n.inl); i++ {
			if n.inl[i] != nil {
				n.inl[i] = nil // not garbage kept alive by an old value
			}
		}
		n.nin = uint8(k)
		return
	}
	n.clearInl()
	a := make([]*node, len(args))
	copy(a, args)
	n.nin, n.x = ovf, &overflow{args: a}
}

// dropArgs removes the first k arguments of app n (which has more).
func (n *node) dropArgs(k int) {
	args := n.argv()[k:]
	if n.nin == ovf && len(args) > len(n.inl) {
		n.x = &overflow{args: args}
		return
	}
	n.setApp(n.fn, args)
}

// mkApp builds the app of fn to args in into, or in a new node when into
// is nil.
func (m *machine) mkApp(into, fn *node, args ...*node) *node {
	if into == nil {
		into = m.newNode()
	}
	into.setApp(fn, args)
	return into
}

// mkNat makes into (or a node) the nat v.
func (m *machine) mkNat(into *node, v plan.Nat) *node {
	if into == nil {
		return m.natNode(v)
	}
	into.flags = 0
	if into.fn != nil {
		into.fn = nil
	}
	into.setNat(v)
	into.clearInl()
	return into
}

// maxArity clamps huge arities: no app can ever hold this many arguments,
// so a law of larger arity behaves the same as one of this arity.
const maxArity = 1 << 30

// smallNats are shared read-only nodes for small nats. They are never
// written: become copies from them, flags are only set on apps.
var smallNats = func() (t [1024]*node) {
	for i := range t {
		t[i] = &node{tag: tagNat, val: uint64(i)}
	}
	return
}()

func natNode(n plan.Nat) *node {
	if v, ok := n.Uint64(); ok && v < uint64(len(smallNats)) {
		return smallNats[v]
	}
	x := &node{}
	x.setNat(n)
	return x
}

func (m *machine) natNode(n plan.Nat) *node {
	if v, ok := n.Uint64(); ok && v < uint64(len(smallNats)) {
		return smallNats[v]
	}
	x := m.newNode()
	x.setNat(n)
	return x
}

// newNode allocates a node. Allocating nodes in slabs of 32 (one
// make([]node, 32) per 32 nodes) was tried and rejected: it cut allocation
// calls 25x, but on (<mul.seed> 30 40) without jets it was no faster (8 to
// 10 ms of process CPU either way) and on (<mul.seed> 300 400) about 20%
// faster (12 s against 15 s CPU, on a heavily loaded machine), while a slab
// stays alive as long as any of its nodes does, which breaks "memory
// bounded by the live graph".
func (m *machine) newNode() *node { return &node{} }

// lawInfo is a law known to the machine: the immutable plan.Law and its
// compiled body (built on first application).
type lawInfo struct {
	law   *plan.Law
	arity int // clamped to maxArity; 0 for an (invalid) arity-0 literal
	code  *lawCode
}

// pinInfo is a pin known to the machine. contents is converted only when
// evaluation needs it (applying the pin, reflecting on it); the jet lookup
// is done once, the first time the pin is applied as a law.
type pinInfo struct {
	pin      *plan.Pin
	contents *node
	jetDone  bool
	jet      *jetEntry
}

func (n *node) isWHNF() bool {
	switch n.tag {
	case tagNat, tagLaw, tagPin:
		return true
	case tagApp:
		return n.flags&fWHNF != 0
	}
	return false
}

// isNF reports whether n is known to be in normal form.
func (n *node) isNF() bool {
	switch n.tag {
	case tagNat, tagLaw, tagPin:
		return true
	case tagApp:
		return n.flags&fNF != 0
	}
	return false
}

// follow skips indirections.
func follow(n *node) *node {
	for n.tag == tagInd {
		n = n.fn
	}
	return n
}

// become overwrites thunk o with the value of r (PLAN.md 4.4). Values are
// copied; anything that may still be a thunk is referenced through an
// indirection so its work is shared. A thunk whose result is itself has no
// value: it becomes a hole.
func (o *node) become(r *node) {
	r = follow(r)
	o.flags, o.nin = 0, 0
	o.clearInl()
	if r == o {
		o.tag, o.fn, o.x = tagHole, nil, nil
		return
	}
	switch r.tag {
	case tagNat:
		o.tag, o.val, o.fn, o.x = tagNat, r.val, nil, r.x
	case tagLaw, tagPin:
		o.tag, o.fn, o.x = r.tag, nil, r.x
	default:
		o.tag, o.fn, o.x = tagInd, r, nil
	}
}

// castNat is the nat cast of PLAN.md 4.5 on a node in WHNF.
func castNat(n *node) plan.Nat {
	if n.tag == tagNat {
		return n.natv()
	}
	return plan.Nat{}
}

func opArity(n plan.Nat) int {
	v, ok := n.Uint64()
	if !ok {
		return 1
	}
	switch v {
	case 0, 2:
		return 3
	case 1:
		return 5
	}
	return 1
}

func clampArity(a plan.Nat) int {
	v, ok := a.Uint64()
	if !ok || v > maxArity {
		return maxArity
	}
	return int(v)
}

func describe(n *node) string {
	n = follow(n)
	switch n.tag {
	case tagNat:
		return "nat " + n.natv().String()
	case tagLaw:
		return fmt.Sprintf("law {%s %s ...}", n.x.(*lawInfo).law.Name, n.x.(*lawInfo).law.Arity)
	case tagPin:
		return "pin"
	case tagApp, tagLazy:
		return "app"
	}
	return "hole"
}
