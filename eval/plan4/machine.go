package plan4

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"pstore/eval"
	"pstore/plan"
)

// Frame operations. The machine alternates between evaluating a node to
// WHNF (following heads, pushing frames) and returning a WHNF value to the
// frame on top of the stack.
const (
	opAppN   uint8 = iota // the head of n is evaluated: apply it to n.args, update n
	opApply               // apply the value to args (no node to update)
	opUpdate              // overwrite n with the value
	opInc                 // <2>: x+1; n, when set, is the node to update with it
	opCase                // <3>: dispatch on the examined value; args: p l a z m o
	opPin                 // <0>: pin the NF value
	opLaw                 // <1>: i = stage (0: body NF done, 1: arity, 2: name); args: n a b
	opNF1                 // normalize the value
	opNF2                 // normalizing n: i = next argument (-1: function part first)
	opJet2                // a jet evaluating its arguments: i = jet id<<8 | next argument; n = the jet pin; args: x y
	opCmp                 // Cmp or Eql jet: aux = *cmpState
	opTrace               // Trace jet, x normalized: args: x y
	opCrash               // a pinned nat above 3 was called: n = the nat; the payload is normalized
)

type frame struct {
	op   uint8
	i    int32
	n    *node
	args []*node
	aux  *cmpState
}

// machine is one evaluation's heap and stacks. It is used by one goroutine.
type machine struct {
	frames []frame
	slots  []*node  // scratch: the slots of the law being instantiated
	vstk   []*node  // scratch: the instantiation value stack
	buf    []*node  // scratch: gathered arguments
	cbuf   [3]*node // scratch: the arguments of a case branch

	pinMemo map[*plan.Pin]*node
	lawMemo map[*plan.Law]*node
	appMemo map[*plan.App]*node // input thunks

	opts  eval.Options
	jets  bool
	stats eval.Stats
	done  <-chan struct{}
	ctx   context.Context
	tick  int32
	stop  error // ErrBudget / ErrCanceled cause when stopped
	// stopX / stopV: when stopped, the node that was about to be
	// evaluated, or the value that was being returned to the top frame.
	stopX, stopV *node

	// A pending tail application (see applyLater): f to args.
	pf    *node
	pargs []*node
	pvol  bool
}

// applyLater asks the loop to apply the WHNF value f to args. Helpers
// that end in a tail call use it instead of calling apply themselves, so
// a chain of tail calls runs in the loop, not on the Go stack.
func (m *machine) applyLater(f *node, args []*node, volatile bool) (x, v *node, err error) {
	m.pf, m.pargs, m.pvol = f, args, volatile
	return nil, nil, nil
}

func newMachine(opts eval.Options) *machine {
	return &machine{opts: opts, jets: !opts.NoJets}
}

func (m *machine) push(f frame) { m.frames = append(m.frames, f) }

// pop drops the top frame. It does not clear it (that would cost a write
// barrier per pop): a machine used once is dropped whole after its run,
// and a session clears its stacks after each input (clearScratch), so
// stale frames keep nothing alive past an evaluation.
func (m *machine) pop() {
	m.frames = m.frames[:len(m.frames)-1]
}

var (
	errStopped = errors.New("plan4: stopped")
	errDepth   = errors.New("plan4: too deep")
)

// maxFrames bounds the explicit stack (about 56 bytes a frame), so that a
// runaway non-tail recursion ends with an error instead of exhausting
// memory. A million-deep recursion needs about three million frames.
var maxFrames = 20_000_000

// run evaluates x to WHNF (or NF when nf is set) and returns the value. On
// errStopped the frames and x describe the stopped computation (see
// residual); on other errors the stack has been unwound.
func (m *machine) run(x *node, nf bool) (*node, error) {
	base := len(m.frames)
	if nf {
		m.push(frame{op: opNF1})
	}
	v, err := m.loop(x, base)
	if err == errDepth {
		m.unwind(base)
		return nil, &eval.StoppedError{Cause: m.stop, Steps: m.stats.Steps}
	}
	if err != nil && err != errStopped {
		m.unwind(base)
	}
	return v, err
}

// clearScratch drops the stale pointers left in the stacks' spare
// capacity, so they keep no garbage alive between the evaluations of a
// machine that is kept (a session). A stack that grew past maxKeptScratch
// is dropped rather than cleared: clearing it would cost its peak size on
// every later evaluation.
func (m *machine) clearScratch() {
	m.frames = scrub(m.frames)
	m.slots = scrub(m.slots[:0])
	m.vstk = scrub(m.vstk[:0])
	m.buf = scrub(m.buf[:0])
	m.cbuf = [3]*node{}
	m.pf, m.pargs = nil, nil
}

// maxKeptScratch is the largest capacity (in elements) of a stack that
// clearScratch keeps for reuse.
const maxKeptScratch = 1 << 16

// scrub clears the spare capacity of s, or returns nil when s is empty and
// its capacity is above maxKeptScratch.
func scrub[T any](s []T) []T {
	if len(s) == 0 && cap(s) > maxKeptScratch {
		return nil
	}
	clear(s[len(s):cap(s)])
	return s
}

// unwind drops the frames above base after an error, clearing the black
// holes so the graph stays usable (a session keeps its state).
func (m *machine) unwind(base int) {
	for len(m.frames) > base {
		f := &m.frames[len(m.frames)-1]
		if f.n != nil {
			f.n.flags &^= fBusy | fNFBusy
		}
		m.pop()
	}
}

func loopErr(what string) error {
	return fmt.Errorf("%w: %s", eval.ErrLoop, what)
}

func crashErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{eval.ErrCrash}, args...)...)
}

// step counts one reduction against the budget and polls the context.
func (m *machine) step() error {
	if len(m.frames) > maxFrames {
		m.stop = fmt.Errorf("%w: stack depth limit (%d frames) reached", eval.ErrBudget, maxFrames)
		return errDepth
	}
	m.stats.Steps++
	if m.opts.Steps > 0 && m.stats.Steps > m.opts.Steps {
		m.stats.Steps--
		m.stop = eval.ErrBudget
		return errStopped
	}
	m.tick++
	if m.tick&1023 == 0 && m.done != nil {
		select {
		case <-m.done:
			m.stop = fmt.Errorf("%w: %w", eval.ErrCanceled, m.ctx.Err())
			return errStopped
		default:
		}
	}
	return nil
}

// loop is the reduction loop. x is the node to evaluate; the result is
// returned when the stack is back at base.
func (m *machine) loop(x *node, base int) (v *node, err error) {
	// stopX/stopV: on a stop, the machine state is saved in m.stopNode.
	for {
		// Evaluate x to WHNF.
		for {
			switch x.k {
			case kApp:
				if x.flags&fWHNF != 0 {
					v = x
					goto ret
				}
				if x.flags&fBusy != 0 {
					return nil, loopErr("a value needs itself")
				}
				x.flags |= fBusy
				m.frames = append(m.frames, frame{op: opAppN, n: x})
				x = x.fun
			case kInd:
				x = x.fun
			case kVal:
				m.convert(x)
			case kHole:
				return nil, loopErr("a let is an alias of itself")
			default:
				v = x
				goto ret
			}
		}
	ret:
		// Return v (WHNF, dereferenced) to the frames.
		for {
			if len(m.frames) == base {
				return v, nil
			}
			f := &m.frames[len(m.frames)-1]
			switch f.op {
			case opAppN:
				n := f.n
				m.pop()
				n.fun = v
				x, v, err = m.apply(v, n.args, n, false)
			case opApply:
				args := f.args
				m.pop()
				x, v, err = m.apply(v, args, nil, false)
			case opUpdate:
				n := f.n
				m.pop()
				update(n, v)
				continue
			case opInc:
				if err = m.step(); err != nil {
					m.stopV = v
					return nil, err
				}
				n := f.n
				m.pop()
				v = incValue(v)
				if n != nil {
					update(n, v)
				}
				continue
			case opCase:
				x, v, err = m.caseOf(f, v)
			case opPin:
				if err = m.step(); err != nil {
					m.stopV = v
					return nil, err
				}
				m.pop()
				v = m.makePin(v)
				continue
			case opLaw:
				x, v, err = m.lawStage(f, v)
			case opNF1:
				if v.k != kApp || v.flags&fNF != 0 {
					m.pop()
					continue
				}
				if v.flags&fNFBusy != 0 {
					return nil, loopErr("normalizing a cyclic value")
				}
				v.flags |= fNFBusy
				*f = frame{op: opNF2, n: v, i: -1}
				x, v, err = m.nfStep(f)
			case opNF2:
				x, v, err = m.nfStep(f)
			case opJet2:
				x, v, err = m.jet2Stage(f, v)
			case opCmp:
				x, v, err = m.cmpStage(f)
			case opTrace:
				x, v, err = m.traceStage(f, v)
			case opCrash:
				err = m.exception(f.n, v)
			default:
				panic("plan4: bad frame")
			}
			for x == nil && v == nil && err == nil {
				// A pending tail application.
				f, a, vol := m.pf, m.pargs, m.pvol
				m.pf, m.pargs = nil, nil
				x, v, err = m.apply(f, a, nil, vol)
			}
			if err != nil {
				if err == errStopped {
					m.stopX, m.stopV = x, v
				}
				return nil, err
			}
			if x != nil {
				break
			}
		}
	}
}

// update overwrites the thunk n with its value v.
func update(n, v *node) {
	if v == n {
		n.flags = (n.flags &^ fBusy) | fWHNF
		n.ext = nil
		return
	}
	n.flags &^= fBusy
	if v.k == kNat {
		n.k, n.w, n.ext, n.fun, n.args = kNat, v.w, v.ext, nil, nil
		n.flags = fWHNF | fNF
		return
	}
	n.k, n.fun, n.args, n.ext, n.flags = kInd, v, nil, nil, 0
}

// incValue is <2> on a WHNF value: x+1, or 1 for a non-nat.
func incValue(v *node) *node {
	if v.k != kNat {
		return smallNats[1]
	}
	return incNode(v)
}

func incNode(v *node) *node {
	if isSmall(v) && v.w != ^uint64(0) {
		return natNode(v.w + 1)
	}
	return bigNatNode(new(big.Int).Add(bigOf(v), big.NewInt(1)))
}

// whnfApp is the value of f applied to args when that is not a call: n
// itself, or a new app node.
func whnfApp(f *node, args []*node, n *node, volatile bool) *node {
	if n != nil {
		update(n, n)
		return n
	}
	var a *node
	if volatile {
		a = mkApp(f, args)
	} else {
		a = &node{k: kApp, fun: f, args: args}
	}
	a.flags = fWHNF
	return a
}

func ownArgs(args []*node, volatile bool) []*node {
	if !volatile {
		return args
	}
	c := make([]*node, len(args))
	copy(c, args)
	return c
}

// apply applies the WHNF value f to args. n is the node whose value this
// is (updated with the result), or nil. volatile says args is scratch that
// must be copied before it is kept. It returns either a node to evaluate
// next (x) or a value to return (v).
func (m *machine) apply(f *node, args []*node, n *node, volatile bool) (x, v *node, err error) {
	// Find the head, counting the arguments already in f's spine.
	head := f
	pre := 0
	for head.k == kApp {
		pre += len(head.args)
		head = m.deref(head.fun)
	}
	var arity uint64
	var self, law *node
	transparent := false
	switch head.k {
	case kNat:
		return nil, whnfApp(f, args, n, volatile), nil
	case kLaw:
		li := head.ext.(*lawInfo)
		if !li.arityOK {
			return nil, whnfApp(f, args, n, volatile), nil
		}
		arity, self, law = li.arity, head, head
	case kPin:
		for {
			item, err := m.pinItem(head)
			if err != nil {
				return nil, nil, err
			}
			item = m.deref(item)
			switch item.k {
			case kNat:
				arity = primArity(item)
			case kLaw:
				li := item.ext.(*lawInfo)
				if !li.arityOK {
					return nil, whnfApp(f, args, n, volatile), nil
				}
				arity, self, law = li.arity, head, item
			case kPin:
				head = item
				transparent = true
				continue
			case kApp:
				// The contents' arguments come first.
				transparent = true
				h := item
				for h.k == kApp {
					pre += len(h.args)
					h = m.deref(h.fun)
				}
				head = h
				if h.k == kNat {
					return nil, whnfApp(f, args, n, volatile), nil
				}
				if h.k == kLaw {
					li := h.ext.(*lawInfo)
					if !li.arityOK {
						return nil, whnfApp(f, args, n, volatile), nil
					}
					arity, self, law = li.arity, h, h
					break
				}
				continue // a pin: look at its contents
			}
			break
		}
	}
	total := uint64(pre) + uint64(len(args))
	if total < arity {
		return nil, whnfApp(f, args, n, volatile), nil
	}
	r := int(arity)
	var callArgs []*node
	cvol := volatile // callArgs is scratch
	if pre == 0 && !transparent {
		callArgs = args[:r]
	} else {
		callArgs = m.gather(f, args, r)
		cvol = true
	}
	// Steps are counted when a call completes: a law call and a jet whose
	// arguments are already values complete here; a primitive or a jet
	// that must evaluate its arguments first counts its step when it
	// finishes (see the frames in loop). So a residual that re-enters a
	// primitive stopped halfway does not pay for it twice.
	jet := jNone
	if law != nil && m.jets && self.k == kPin && self.w != 0 {
		jet = jetID(self.w)
	}
	if law != nil && (jet == jNone || m.jetReady(jet, callArgs)) {
		if err := m.step(); err != nil {
			// Stopped before the call: the state is "return f to an
			// apply frame".
			if n != nil {
				n.flags |= fBusy
				m.push(frame{op: opAppN, n: n})
			} else {
				m.push(frame{op: opApply, args: ownArgs(args, volatile)})
			}
			return nil, f, err
		}
	}
	rest := args[r-pre:]
	if len(rest) > 0 {
		if n != nil {
			n.flags |= fBusy
			m.push(frame{op: opUpdate, n: n})
		}
		m.push(frame{op: opApply, args: ownArgs(rest, volatile)})
	} else if n != nil {
		n.flags |= fBusy
		m.push(frame{op: opUpdate, n: n})
	}
	if law != nil {
		m.stats.LawCalls++
		if jet != jNone {
			m.stats.JetCalls++
			return m.callJet(jet, self, callArgs, cvol)
		}
		return m.callLaw(law, self, callArgs)
	}
	// A primitive: head is a pin of a nat (possibly through pins).
	item := m.deref(head.fun)
	if !isSmall(item) || item.w > 3 {
		// Abort with the opcode and the normal form of the payload.
		m.push(frame{op: opCrash, n: item})
		m.push(frame{op: opNF1})
		return callArgs[0], nil, nil
	}
	switch item.w {
	case 0:
		m.push(frame{op: opPin})
		m.push(frame{op: opNF1})
		return callArgs[0], nil, nil
	case 1:
		m.push(frame{op: opLaw, args: ownArgs(callArgs, cvol)})
		m.push(frame{op: opNF1})
		return callArgs[2], nil, nil
	case 2:
		// Fast path: the argument is already a value.
		if a := m.deref(callArgs[0]); isWHNF(a) {
			if err := m.step(); err != nil {
				m.push(frame{op: opInc})
				return nil, a, err
			}
			return nil, incValue(a), nil
		}
		// Fold the update of the node into the Inc frame (one frame a
		// level for deep (<2> (<2> ...)) chains).
		if t := len(m.frames) - 1; n != nil && len(rest) == 0 && t >= 0 && m.frames[t].op == opUpdate && m.frames[t].n == n {
			m.frames[t].op = opInc
		} else {
			m.push(frame{op: opInc})
		}
		return callArgs[0], nil, nil
	default:
		// Fast path: the examined value is already a value; dispatch
		// without a frame (the branches are only read, not kept).
		if o := m.deref(callArgs[5]); isWHNF(o) {
			if err := m.step(); err != nil {
				m.push(frame{op: opCase, args: ownArgs(callArgs, cvol)})
				return nil, o, err
			}
			return m.dispatch(callArgs, o)
		}
		m.push(frame{op: opCase, args: ownArgs(callArgs, cvol)})
		return callArgs[5], nil, nil
	}
}

// primArity is the arity of a pinned nat (PLAN4.md section 2): 3 for <1>
// (n a b), 6 for <3> (p l a z m o), 1 for any other (<0>, <2>, and the
// nats above 3, which abort on their one argument).
func primArity(item *node) uint64 {
	if isSmall(item) {
		switch item.w {
		case 1:
			return 3
		case 3:
			return 6
		}
	}
	return 1
}

// gather returns the first r arguments of the call f args: those in f's
// spine (and in the contents of transparent pins at its head), then args.
func (m *machine) gather(f *node, args []*node, r int) []*node {
	var chunks [][]*node
	h := f
	for {
		h = m.deref(h)
		if h.k == kApp {
			chunks = append(chunks, h.args)
			h = h.fun
			continue
		}
		if h.k == kPin && h.fun != nil {
			it := m.deref(h.fun)
			if it.k == kApp || it.k == kPin {
				h = it
				continue
			}
		}
		break
	}
	out := m.buf[:0]
	for i := len(chunks) - 1; i >= 0; i-- {
		out = append(out, chunks[i]...)
	}
	out = append(out, args...)
	m.buf = out
	return out[:r:r]
}

// exception is the abort of a pinned nat above 3 (PLAN4.md 2.5).
func (m *machine) exception(op, payload *node) error {
	s := plan.String(m.snapshot(payload))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return crashErr("Exception(%s): %s", natOf(op).String(), s)
}

// callLaw instantiates law (self is the law or its pin) with args and
// returns its result expression to evaluate (a tail call).
func (m *machine) callLaw(law, self *node, args []*node) (x, v *node, err error) {
	li := law.ext.(*lawInfo)
	code := li.code
	if code == nil {
		code = m.compile(li.arity, li.body)
		li.code = code
	}
	slots := append(m.slots[:0], self)
	slots = append(slots, args...)
	for _, c := range code.letArgc {
		slots = append(slots, newApp(int(c)))
	}
	stk := m.vstk[:0]
	for i := range code.prog {
		in := &code.prog[i]
		switch in.op {
		case iRef:
			stk = append(stk, slots[in.a])
		case iConst:
			stk = append(stk, in.k)
		case iMk:
			b := len(stk) - int(in.a) - 1
			nd := newApp(int(in.a))
			nd.fun = stk[b]
			copy(nd.args, stk[b+1:])
			if in.whnf {
				nd.flags = fWHNF
			}
			stk = stk[:b+1]
			stk[b] = nd
		case iFill:
			b := len(stk) - int(in.a) - 1
			nd := slots[in.b]
			nd.fun = stk[b]
			copy(nd.args, stk[b+1:])
			if in.whnf {
				nd.flags = fWHNF
			}
			stk = stk[:b]
		}
	}
	m.slots = slots
	m.vstk = stk
	if code.tail < 0 {
		return stk[0], nil, nil
	}
	head := m.deref(stk[0])
	targs := stk[1:]
	if isWHNF(head) {
		// The head is already a value: apply it directly.
		return m.applyLater(head, targs, true)
	}
	m.push(frame{op: opApply, args: ownArgs(targs, true)})
	return head, nil, nil
}

// caseOf dispatches <3> on the examined value v (PLAN4.md 2.4).
func (m *machine) caseOf(f *frame, v *node) (x, r *node, err error) {
	if err := m.step(); err != nil {
		return nil, v, err
	}
	a := f.args
	m.pop()
	return m.dispatch(a, v)
}

// dispatch selects the branch of <3> p l a z m for the examined value v
// (a[5] is not read).
func (m *machine) dispatch(a []*node, v *node) (x, r *node, err error) {
	switch v.k {
	case kPin:
		it, err := m.pinItem(v)
		if err != nil {
			return nil, nil, err
		}
		m.cbuf[0] = it
		return m.tailCall(a[0], m.cbuf[:1])
	case kLaw:
		li := v.ext.(*lawInfo)
		m.cbuf[0], m.cbuf[1], m.cbuf[2] = natNodeOf(li.name), natNodeOf(li.arityN), li.body
		return m.tailCall(a[1], m.cbuf[:3])
	case kApp:
		hd, last := splitLast(v)
		m.cbuf[0], m.cbuf[1] = hd, last
		return m.tailCall(a[2], m.cbuf[:2])
	default: // nat
		if isSmall(v) && v.w == 0 {
			return a[3], nil, nil
		}
		var d *node
		if isSmall(v) {
			d = natNode(v.w - 1)
		} else {
			d = bigNatNode(new(big.Int).Sub(bigOf(v), big.NewInt(1)))
		}
		m.cbuf[0] = d
		return m.tailCall(a[4], m.cbuf[:1])
	}
}

// splitLast returns the pair view (head, last argument) of a WHNF app.
func splitLast(v *node) (*node, *node) {
	k := len(v.args)
	last := v.args[k-1]
	if k == 1 {
		return v.fun, last
	}
	h := &node{k: kApp, flags: v.flags & (fWHNF | fNF), fun: v.fun, args: v.args[: k-1 : k-1]}
	h.flags |= fWHNF
	return h, last
}

// tailCall evaluates (f args...); args is scratch (m.cbuf).
func (m *machine) tailCall(f *node, args []*node) (x, v *node, err error) {
	f = m.deref(f)
	if isWHNF(f) {
		return m.applyLater(f, args, true)
	}
	m.push(frame{op: opApply, args: ownArgs(args, true)})
	return f, nil, nil
}

// makePin builds <v> for an NF value v, working out its jet.
func (m *machine) makePin(v *node) *node {
	p := &node{k: kPin, flags: fWHNF | fNF, fun: v}
	if v.k == kLaw {
		p.w = uint64(m.jetForLaw(v.ext.(*lawInfo)))
	}
	return p
}

// lawStage runs <1> n a b: body to NF first, then the arity, then the name.
func (m *machine) lawStage(f *frame, v *node) (x, r *node, err error) {
	switch f.i {
	case 0:
		f.args[2] = v
		f.i = 1
		return f.args[1], nil, nil
	case 1:
		f.args[1] = v
		f.i = 2
		return f.args[0], nil, nil
	}
	if err := m.step(); err != nil {
		return nil, v, err
	}
	a := f.args
	m.pop()
	li := &lawInfo{body: a[2]}
	if v.k == kNat {
		li.name = natOf(v)
	}
	ar := m.deref(a[1])
	if ar.k == kNat {
		li.setArity(natOf(ar))
	} else {
		li.setArity(plan.N(0))
	}
	return nil, &node{k: kLaw, flags: fWHNF | fNF, ext: li}, nil
}

// nfStep advances the normalization of f.n: its function part, then its
// arguments left to right.
func (m *machine) nfStep(f *frame) (x, v *node, err error) {
	for {
		n := f.n
		if f.i == -1 {
			f.i = 0
			fn := m.deref(n.fun)
			n.fun = fn
			if fn.k == kApp && fn.flags&fNF == 0 {
				if fn.flags&fNFBusy != 0 {
					return nil, nil, loopErr("normalizing a cyclic value")
				}
				if fn.flags&fWHNF == 0 {
					// Should not happen (the head of a WHNF app is
					// evaluated); normalize it the general way.
					m.push(frame{op: opNF1})
					return fn, nil, nil
				}
				fn.flags |= fNFBusy
				m.push(frame{op: opNF2, n: fn, i: -1})
				f = &m.frames[len(m.frames)-1]
				continue
			}
		}
		for int(f.i) < len(n.args) {
			a := m.deref(n.args[f.i])
			n.args[f.i] = a
			f.i++
			if a.k == kHole {
				m.push(frame{op: opNF1})
				return a, nil, nil // a loop
			}
			if a.k != kApp || a.flags&fNF != 0 {
				continue
			}
			if a.flags&fNFBusy != 0 {
				return nil, nil, loopErr("normalizing a cyclic value")
			}
			if a.flags&fWHNF != 0 {
				a.flags |= fNFBusy
				m.push(frame{op: opNF2, n: a, i: -1})
				f = &m.frames[len(m.frames)-1]
				goto next
			}
			m.push(frame{op: opNF1})
			return a, nil, nil
		}
		// Done with n.
		n.flags = (n.flags &^ fNFBusy) | fNF | fWHNF
		m.pop()
		return nil, n, nil
	next:
	}
}
