package pallas

import (
	"context"
	"errors"
	"fmt"

	"pstore/eval"
	"pstore/plan"
)

// The reduction machine: one per Eval call. All evaluation state is in the
// heap graph and in two explicit stacks (frames and astack), never in Go
// recursion, so program depth is limited only by memory, and an evaluation
// stopped between two steps can be read back as a residual value.

// Frame kinds.
const (
	kFn    uint8 = iota // o's function part is being evaluated (o is marked)
	kArity              // the contents of a pin in o's head are being evaluated
	kNF                 // normalizing o; i is the child under way (-2: o itself)
	kOp                 // opcode step of o, waiting for argument i
	kJet                // jet step of o, waiting for the argument it forced
	kInc                // o is (3 x), busy, waiting for x
)

type frame struct {
	k    uint8
	op   uint8
	i    int32
	base int32 // astack index of the step's head (kOp, kJet)
	ar   int32 // arity of the step (kOp, kJet)
	o    *node
	jet  *jetEntry
}

type machine struct {
	ctx   context.Context
	done  <-chan struct{}
	opts  eval.Options
	stats eval.Stats

	frames []frame
	astack []*node // heads and arguments of steps under way, let slots
	vstack []*node // instantiate's value stack

	laws map[*plan.Law]*node
	pins map[*plan.Pin]*node
	apps map[*plan.App]*node

	rb readback // reused by opcodes 0 and 4
	jc JetCall  // reused by jet calls

	stopErr error  // set when stopped by budget or context
	polls   uint64 // budget checks so far; the context is polled every ctxEvery
}

func newMachine(ctx context.Context, opts eval.Options) *machine {
	// The memo maps are made on first insert (reading a nil map is fine):
	// small evaluations, the common case for jetted calls, need none.
	return &machine{ctx: ctx, done: ctx.Done(), opts: opts}
}

// errStop is the internal signal that the budget or the context stopped the
// machine; Eval turns it into an *eval.StoppedError with a residual.
var errStop = errors.New("pallas: stopped")

func crashf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{eval.ErrCrash}, args...)...)
}

func loopErr(what string) error {
	return fmt.Errorf("%w: %s", eval.ErrLoop, what)
}

// ctxEvery is how many steps run between two looks at the context.
const ctxEvery = 1 << 10

// Step accounting. A law call (or a jet) completes the moment it starts
// (its body is instantiated at once), so it is counted then, by tick.
// An opcode or an increment may first have to evaluate its arguments,
// which can nest arbitrarily deep ((3 (3 ... (3 0)))): such a reduction is
// only checked when it starts (check) and counted when it completes
// (counted). Counting at the start made every nested reduction in progress
// at a stop count again after a resume, so a resumed evaluation with a
// budget smaller than the nesting depth redid the same entries and never
// made progress (eval/suspend found it). Now descending is free, each
// completion is kept in place and counted, and a stop can come right
// after one, so every resume with a budget of at least 1 makes progress.

// tick checks the budget and the context and accounts one step that
// completes as it starts (a law call, a jet). It returns errStop if the step
// must not run.
func (m *machine) tick() error {
	if err := m.check(); err != nil {
		return err
	}
	m.stats.Steps++
	return nil
}

// check returns errStop if the budget is spent or the context is done; it
// accounts nothing. Called before a reduction starts.
func (m *machine) check() error {
	if m.opts.Steps > 0 && m.stats.Steps >= m.opts.Steps {
		m.stopErr = eval.ErrBudget
		return errStop
	}
	if m.done != nil {
		m.polls++
		if m.polls%ctxEvery == 0 {
			select {
			case <-m.done:
				m.stopErr = fmt.Errorf("%w: %w", eval.ErrCanceled, m.ctx.Err())
				return errStop
			default:
			}
		}
	}
	return nil
}

// counted accounts a reduction that has just completed (its result is in
// place). When the budget was already spent it is not counted, and errStop
// stops the evaluation after it: the work is kept in the graph.
func (m *machine) counted() error {
	if m.opts.Steps > 0 && m.stats.Steps >= m.opts.Steps {
		m.stopErr = eval.ErrBudget
		return errStop
	}
	m.stats.Steps++
	return nil
}

func (m *machine) push(f frame) {
	n := len(m.frames)
	if n == cap(m.frames) {
		m.frames = append(m.frames, f)
		return
	}
	// Field by field: appending the struct goes through typedmemmove and
	// a bulk write barrier.
	m.frames = m.frames[:n+1]
	p := &m.frames[n]
	p.k, p.op, p.i, p.base, p.ar = f.k, f.op, f.i, f.base, f.ar
	if p.o != f.o {
		p.o = f.o
	}
	if p.jet != f.jet {
		p.jet = f.jet
	}
}

func (m *machine) pop() {
	n := len(m.frames) - 1
	// Popped frames stay in the backing array, which the GC scans whole:
	// drop their pointers so they do not keep dead nodes alive.
	m.frames[n].o, m.frames[n].jet = nil, nil
	m.frames = m.frames[:n]
}

// truncate drops astack entries from base on, clearing them so that the
// stack does not keep dead nodes alive.
func (m *machine) truncate(base int) {
	// A loop, not clear(): clear() of a few pointers goes through
	// memclrHasPointers and a bulk write barrier, 10% of the hot loop.
	// (Written backwards: the compiler turns the forward loop into
	// memclrHasPointers.)
	for i := len(m.astack) - 1; i >= base; i-- {
		m.astack[i] = nil
	}
	m.astack = m.astack[:base]
}

// pinContents returns the converted contents of a pin, loading them on
// first use.
func (m *machine) pinContents(pi *pinInfo) (*node, error) {
	if pi.contents != nil {
		return pi.contents, nil
	}
	wasLoaded := pi.pin.Loaded()
	v, err := pi.pin.Item()
	if err != nil {
		return nil, fmt.Errorf("pallas: loading pin: %w", err)
	}
	if !wasLoaded {
		m.stats.PinsLoaded++
	}
	pi.contents = m.wrap(v)
	return pi.contents, nil
}

// arity returns the arity of f, a node in WHNF. When that needs the WHNF of
// a pin's contents that is not known yet, it returns that node as pending.
func (m *machine) arity(f *node) (ar int, pending *node, err error) {
	for {
		switch f.tag {
		case tagNat:
			return opArity(f.natv()), nil, nil
		case tagLaw:
			return f.x.(*lawInfo).arity, nil, nil
		case tagApp:
			return int(f.need), nil, nil
		case tagPin:
			c, err := m.pinContents(f.x.(*pinInfo))
			if err != nil {
				return 0, nil, err
			}
			c = follow(c)
			if !c.isWHNF() {
				return 0, c, nil
			}
			f = c
		default:
			return 0, nil, fmt.Errorf("pallas: internal error: arity of %v", f.tag)
		}
	}
}

// flatten pushes the head and the first ar arguments of the saturated app
// o (whose function part f is in WHNF) onto astack (PLAN.md 4.2): pins
// around non-laws are dropped, a pin around a law is kept. It returns the
// base index (the head's position).
func (m *machine) flatten(o, f *node, ar int) int {
	// First pass: count the arguments along the head chain, so that the
	// second pass can write each one once, in place (no reversal).
	total := ar
	cur := f
	for {
		cur = follow(cur)
		if cur.tag == tagApp {
			total += cur.nargs()
			cur = cur.fn
			continue
		}
		if cur.tag == tagPin {
			if c := follow(cur.x.(*pinInfo).contents); c.tag != tagLaw {
				cur = c
				continue
			}
		}
		break
	}
	base := len(m.astack)
	if cap(m.astack)-base < total+1 {
		m.astack = append(m.astack, make([]*node, total+1)...)
	} else {
		m.astack = m.astack[:base+total+1]
	}
	s := m.astack[base:]
	s[0] = cur
	end := total + 1
	// Loops, not copy(): copy() of pointers goes through typedslicecopy
	// and a bulk write barrier.
	for i, a := range o.argv()[:ar] {
		s[end-ar+i] = a
	}
	end -= ar
	for c := f; ; {
		c = follow(c)
		if c.tag == tagApp {
			args := c.argv()
			for i, a := range args {
				s[end-len(args)+i] = a
			}
			end -= len(args)
			c = c.fn
			continue
		}
		if c.tag == tagPin {
			if cc := follow(c.x.(*pinInfo).contents); cc.tag != tagLaw {
				c = cc
				continue
			}
		}
		break
	}
	return base
}

// run reduces root to WHNF, or to normal form when nf is set, and returns
// the node holding the result.
func (m *machine) run(root *node, nf bool) (*node, error) {
	stackBase := len(m.frames)
	cur := root
	var ret *node
	descend := true
	if nf {
		m.push(frame{k: kNF, o: root, i: -2})
	}
	for {
		if descend {
			// WHNF(cur), PLAN.md 4.1.
			cur = follow(cur)
			switch cur.tag {
			case tagLazy:
				m.force(cur)
				continue
			case tagNat, tagLaw, tagPin:
				ret, descend = cur, false
				continue
			case tagHole:
				return nil, loopErr("a let binding that is its own value")
			}
			o := cur
			if o.flags&fWHNF != 0 {
				ret, descend = o, false
				continue
			}
			if o.flags&(fMark|fBusy) != 0 {
				return nil, loopErr("a thunk that needs its own value")
			}
			f := follow(o.fn)
			o.fn = f
			if f.tag == tagApp && f.flags&(fWHNF|fMark|fBusy) == 0 {
				// Shortcut for the common case of a function part that
				// is an unsaturated app of a value whose arity is known:
				// it is a closure, no frame needed.
				if g := follow(f.fn); g.isWHNF() && g.tag != tagPin {
					f.fn = g
					if ar, _, _ := m.arity(g); ar > f.nargs() {
						f.flags |= fWHNF
						f.need = uint32(ar - f.nargs())
					}
				}
			}
			if f.tag == tagNat && o.nin == 1 && isSmallNat(f, 3) {
				// (3 x), the most common step of all (every pending
				// increment in a chain of them): no flattening, no astack,
				// and the thunk is written when x comes back.
				if err := m.check(); err != nil {
					return nil, err
				}
				x := follow(o.inl[0])
				if x.isWHNF() {
					m.mkNat(o, castNat(x).Inc())
					if err := m.counted(); err != nil {
						return nil, err
					}
					ret, descend = o, false
					continue
				}
				if o.inl[0] != x {
					o.inl[0] = x
				}
				o.flags |= fBusy
				m.push(frame{k: kInc, o: o})
				cur = x
				continue
			}
			if !f.isWHNF() {
				o.flags |= fMark
				m.push(frame{k: kFn, o: o})
				cur = f
				continue
			}
			ar, pend, err := m.arity(f)
			if err != nil {
				return nil, err
			}
			if pend != nil {
				o.flags |= fMark
				m.push(frame{k: kArity, o: o})
				cur = pend
				continue
			}
			if ar == 0 {
				return nil, crashf("applying a law of arity 0 (%s)", describe(f))
			}
			if o.nargs() < ar {
				o.flags |= fWHNF
				o.need = uint32(ar - o.nargs())
				ret, descend = o, false
				continue
			}
			// A saturated call: one step (counted at the start for a law
			// or a jet, at the end for an opcode: see check).
			if err := m.check(); err != nil {
				return nil, err
			}
			base := m.flatten(o, f, ar)
			head := m.astack[base]
			if head.tag != tagNat {
				m.stats.Steps++
			}
			switch head.tag {
			case tagNat:
				op, small := head.natv().Uint64()
				if !small || op > 4 {
					return nil, crashf("applying nat %s, which is not an opcode, to %s", head.natv(), describe(m.astack[base+1]))
				}
				o.flags |= fBusy
				m.push(frame{k: kOp, op: uint8(op), base: int32(base), ar: int32(ar), o: o})
				next, err := m.opNext(len(m.frames) - 1)
				if err != nil {
					return nil, err
				}
				if next != nil {
					cur = next
				}
				// else: the step finished; cur is still o, reduce it further
				continue
			case tagPin:
				pi := head.x.(*pinInfo)
				if jet := m.pinJet(pi); jet != nil {
					m.stats.LawCalls++
					m.stats.JetCalls++
					o.flags |= fBusy
					m.push(frame{k: kJet, base: int32(base), ar: int32(ar), o: o, jet: jet})
					next, err := m.callJet(len(m.frames) - 1)
					if err != nil {
						return nil, err
					}
					if next != nil {
						cur = next
					}
					continue
				}
				m.stats.LawCalls++
				if err := m.lawLoop(o, follow(pi.contents).x.(*lawInfo), base, ar); err != nil {
					return nil, err
				}
				continue
			case tagLaw:
				m.stats.LawCalls++
				if err := m.lawLoop(o, head.x.(*lawInfo), base, ar); err != nil {
					return nil, err
				}
				continue
			}
			return nil, fmt.Errorf("pallas: internal error: head %v", head.tag)
		}

		// Return ret to the frame on top.
		if len(m.frames) == stackBase {
			return ret, nil
		}
		top := len(m.frames) - 1
		fr := &m.frames[top]
		switch fr.k {
		case kFn:
			o := fr.o
			m.pop()
			o.flags &^= fMark
			o.fn = ret
			cur, descend = o, true
		case kArity:
			o := fr.o
			m.pop()
			o.flags &^= fMark
			cur, descend = o, true
		case kNF:
			next, done, err := m.nfNext(top, ret)
			if err != nil {
				return nil, err
			}
			if next != nil {
				cur, descend = next, true
			} else {
				ret = done
			}
		case kOp:
			m.astack[int(fr.base)+opPlans[fr.op][fr.i].arg] = ret
			fr.i++
			o := fr.o
			next, err := m.opNext(top)
			if err != nil {
				return nil, err
			}
			if next != nil {
				cur, descend = next, true
			} else {
				cur, descend = o, true
			}
		case kInc:
			o := fr.o
			// Popped without clearing: the stale pointer is to o, which
			// is a nat now (no outgoing pointers), so it keeps 64 bytes
			// alive at most, and it saves a write barrier per increment.
			m.frames = m.frames[:top]
			m.mkNat(o, castNat(ret).Inc()) // clears fBusy
			if err := m.counted(); err != nil {
				return nil, err
			}
			ret = o
		case kJet:
			m.astack[int(fr.base)+int(fr.i)] = ret
			o := fr.o
			next, err := m.callJet(top)
			if err != nil {
				return nil, err
			}
			if next != nil {
				cur, descend = next, true
			} else {
				cur, descend = o, true
			}
		}
	}
}

// finishLaw runs a law step for thunk o and overwrites o with the result.
func (m *machine) finishLaw(o *node, li *lawInfo, base, ar int) {
	var into *node
	if o.nargs() == ar {
		into = o
	}
	r := m.runLaw(li, base, into)
	m.truncate(base)
	if r == o {
		return
	}
	m.finishStep(o, base, ar, r)
}

// finishStep overwrites thunk o (whose first ar arguments were consumed by
// the step) with the step's result r.
func (m *machine) finishStep(o *node, base, ar int, r *node) {
	m.truncate(base)
	o.flags &^= fBusy
	if r == o {
		return // built in place
	}
	if o.nargs() > ar {
		o.dropArgs(ar)
		o.fn = r
		return
	}
	o.become(r)
}

// nfNext advances the normalization frame at index top after the node it
// waits on has been evaluated to ret (PLAN.md 4.3). It returns the next node
// to evaluate, or, when the frame is finished (and popped), the normalized
// node as done.
func (m *machine) nfNext(top int, ret *node) (next, done *node, err error) {
	fr := &m.frames[top]
	if fr.i == -2 {
		r := ret
		fr.o = r
		if r.tag != tagApp || r.flags&fNF != 0 {
			m.pop()
			return nil, r, nil
		}
		if r.flags&fGray != 0 {
			return nil, nil, loopErr("normalizing an infinite (cyclic) value")
		}
		r.flags |= fGray
		fr.i = -1
	} else {
		// A child came back normalized.
		if fr.i == -1 {
			fr.o.fn = ret
		} else {
			fr.o.argv()[fr.i] = ret
		}
		fr.i++
	}
	o := fr.o
	for {
		var c *node
		if fr.i == -1 {
			c = follow(o.fn)
			o.fn = c
		} else if args := o.argv(); int(fr.i) < len(args) {
			c = follow(args[fr.i])
			args[fr.i] = c
		} else {
			o.flags &^= fGray
			o.flags |= fNF
			m.pop()
			return nil, o, nil
		}
		if c.isNF() {
			fr.i++
			continue
		}
		if c.tag == tagApp && c.flags&fGray != 0 {
			return nil, nil, loopErr("normalizing an infinite (cyclic) value")
		}
		m.push(frame{k: kNF, o: c, i: -2})
		return c, nil, nil
	}
}
