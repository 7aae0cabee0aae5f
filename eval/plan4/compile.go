package plan4

// Law bodies are compiled once per law node, on its first call, into a
// small post-order program (PLAN4.md section 6). Running the program builds
// the let nodes and the result expression for one call:
//
//	slots  = self, arg1 .. argA, one fresh node per let whose expression is
//	         a call (lets that are aliases or constants get no node: their
//	         references are resolved at compile time)
//	iRef s   push slots[s]
//	iConst   push a constant node (an NF sub-term of the body)
//	iMk n    pop a head and n arguments, push a new thunk (head args...)
//	iFill n  the same, but fill the pre-allocated let node slots[s]
//
// Nested calls (0 (0 f a) b) are flattened into one node (f a b), so a
// saturated call of a law or primitive needs no spine walk. The result
// expression, when it is a call, is not built as a node at all: its head
// and arguments are left on the stack and applied directly (a tail call),
// which keeps loops in constant stack.

const (
	iRef uint8 = iota
	iConst
	iMk
	iFill
)

type instr struct {
	op uint8
	// whnf (iMk, iFill): the node is a partial application of a known
	// law or primitive, or inert data (a nat head): it is built already
	// in WHNF, so forcing it costs nothing.
	whnf bool
	a    int32 // iRef: slot; iMk/iFill: argument count
	b    int32 // iFill: slot of the let node
	k    *node // iConst
}

type lawCode struct {
	arity   int
	letArgc []int32 // argument count of each call-let node, in slot order
	prog    []instr
	// tail >= 0: the result is a call; after prog the stack holds its
	// head and tail arguments. tail < 0: the stack holds the result.
	tail int32
}

// exprKind classifies a term read as code (PLAN4.md 6.3).
const (
	eRef = iota
	eConst
	eCall
)

// readExpr reads t as code: a slot reference, a constant or a call. For a
// call it returns the head term and the arguments (nested calls in head
// position flattened), left to right.
func (m *machine) readExpr(t *node, maxRef uint64, buf []*node) (k int, slot uint64, c *node, head *node, args []*node) {
	t = m.deref(t)
	switch t.k {
	case kNat:
		if isSmall(t) && t.w <= maxRef {
			return eRef, t.w, nil, nil, nil
		}
		return eConst, 0, t, nil, nil
	case kApp:
		h, sp := m.pairSpine(t, buf)
		if h.k == kNat && isSmall(h) && h.w == 0 {
			if len(sp) == 1 {
				return eConst, 0, m.deref(sp[0]), nil, nil // quote
			}
			if len(sp) == 2 {
				// call (0 f g): flatten while f is itself a call.
				args = []*node{sp[1]}
				f := sp[0]
				for {
					fh, fsp := m.pairSpine(f, buf)
					if !(fh.k == kNat && isSmall(fh) && fh.w == 0 && len(fsp) == 2) {
						break
					}
					args = append(args, fsp[1])
					f = fsp[0]
				}
				for i, j := 0, len(args)-1; i < j; i, j = i+1, j-1 {
					args[i], args[j] = args[j], args[i]
				}
				return eCall, 0, nil, f, args
			}
		}
		return eConst, 0, t, nil, nil
	}
	return eConst, 0, t, nil, nil
}

// compile builds the code of a law of the given arity and body.
func (m *machine) compile(arity uint64, body *node) *lawCode {
	// The let spine: (1 v k) repeated, only at the top.
	var lets []*node
	cur := m.deref(body)
	var buf []*node
	for {
		h, sp := m.pairSpine(cur, buf)
		buf = sp
		if cur.k == kApp && h.k == kNat && isSmall(h) && h.w == 1 && len(sp) == 2 {
			lets = append(lets, sp[0])
			cur = m.deref(sp[1])
			continue
		}
		break
	}
	nl := uint64(len(lets))
	maxRef := arity + nl
	base := arity + 1 // slot of the first let

	// Classify the lets. target[i] says what slot base+i stands for.
	type letInfo struct {
		k     int
		slot  uint64 // eRef: referenced slot
		c     *node  // eConst
		head  *node
		args  []*node
		newSl int32 // eCall: index in the slots array
		done  bool  // alias resolution finished
		res   instr // resolved reference (iRef/iConst)
	}
	li := make([]letInfo, nl)
	code := &lawCode{arity: int(arity)}
	next := int32(base)
	for i, t := range lets {
		k, s, c, h, a := m.readExpr(t, maxRef, buf)
		li[i] = letInfo{k: k, slot: s, c: c, head: h, args: a}
		if k == eCall {
			li[i].newSl = next
			next++
			code.letArgc = append(code.letArgc, int32(len(a)))
			li[i].done = true
			li[i].res = instr{op: iRef, a: li[i].newSl}
		} else if k == eConst {
			li[i].done = true
			li[i].res = instr{op: iConst, k: c}
		}
	}
	// Resolve alias lets (a let that is just a slot reference), detecting
	// cycles of aliases, which are black holes.
	hole := &node{k: kHole}
	for i := range li {
		if li[i].done {
			continue
		}
		// Follow the chain, marking visited entries.
		seen := map[uint64]bool{}
		j := uint64(i)
		var r instr
		for {
			e := &li[j]
			if e.done {
				r = e.res
				break
			}
			if seen[j] {
				r = instr{op: iConst, k: hole}
				break
			}
			seen[j] = true
			if e.slot < base { // self or an argument
				r = instr{op: iRef, a: int32(e.slot)}
				break
			}
			j = e.slot - base
		}
		for s := range seen {
			li[s].done = true
			li[s].res = r
		}
	}
	ref := func(s uint64) instr {
		if s < base {
			return instr{op: iRef, a: int32(s)}
		}
		return li[s-base].res
	}

	// emit appends the post-order program for a call (head, args) read
	// as code. Iterative: nested calls in arguments are pushed as tasks.
	type task struct {
		t    *node // term to emit as an expression, or nil
		mk   int32 // when t is nil: emit iMk with this many arguments
		fill int32 // slot to fill (for the outermost iMk of a let), or -1
		head *node // when t is nil: the call's head term
	}
	var tasks []task
	emitCall := func(head *node, args []*node, fill int32) {
		tasks = append(tasks, task{mk: int32(len(args)), fill: fill, head: head})
		for i := len(args) - 1; i >= 0; i-- {
			tasks = append(tasks, task{t: args[i]})
		}
		tasks = append(tasks, task{t: head})
		for len(tasks) > 0 {
			tk := tasks[len(tasks)-1]
			tasks = tasks[:len(tasks)-1]
			if tk.t == nil {
				w := m.partialHead(tk.head, maxRef, int(tk.mk))
				if tk.fill >= 0 {
					code.prog = append(code.prog, instr{op: iFill, a: tk.mk, b: tk.fill, whnf: w})
				} else if tk.mk >= 0 {
					code.prog = append(code.prog, instr{op: iMk, a: tk.mk, whnf: w})
				}
				continue
			}
			k, s, c, h, a := m.readExpr(tk.t, maxRef, buf)
			switch k {
			case eRef:
				code.prog = append(code.prog, ref(s))
			case eConst:
				code.prog = append(code.prog, instr{op: iConst, k: c})
			case eCall:
				tasks = append(tasks, task{mk: int32(len(a)), fill: -1, head: h})
				for i := len(a) - 1; i >= 0; i-- {
					tasks = append(tasks, task{t: a[i]})
				}
				tasks = append(tasks, task{t: h})
			}
		}
	}
	for i := range li {
		if li[i].k == eCall {
			emitCall(li[i].head, li[i].args, li[i].newSl)
		}
	}
	k, s, c, h, a := m.readExpr(cur, maxRef, buf)
	switch k {
	case eRef:
		code.prog = append(code.prog, ref(s))
		code.tail = -1
	case eConst:
		code.prog = append(code.prog, instr{op: iConst, k: c})
		code.tail = -1
	case eCall:
		// Head and arguments, without the final iMk.
		emitCall(h, a, -1)
		code.prog = code.prog[:len(code.prog)-1]
		code.tail = int32(len(a))
	}
	return code
}

// partialHead reports whether a call of head term h (read as code) to n
// arguments is a value: h is a constant that is a nat (inert data), a law,
// or a loaded pin of a law or primitive, whose arity is more than n.
func (m *machine) partialHead(h *node, maxRef uint64, n int) bool {
	k, _, c, _, _ := m.readExpr(h, maxRef, nil)
	if k != eConst {
		return false
	}
	c = m.deref(c)
	if c.k == kPin {
		if c.fun == nil {
			// An input pin: look inside only if its contents are in
			// memory already (never load a pin just to compile).
			pi, _ := c.ext.(*pinInfo)
			if pi == nil || pi.src == nil || !pi.src.Loaded() {
				return false
			}
			if _, err := m.pinItem(c); err != nil {
				return false
			}
		}
		it := m.deref(c.fun)
		if it.k == kNat {
			return uint64(n) < primArity(it)
		}
		c = it
	}
	switch c.k {
	case kNat:
		return true
	case kLaw:
		li := c.ext.(*lawInfo)
		return !li.arityOK || uint64(n) < li.arity
	}
	return false
}
