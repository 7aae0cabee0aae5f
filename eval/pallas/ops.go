package pallas

import (
	"pstore/plan"
)

// The five opcodes (PLAN.md 5). A step of opcode k first evaluates the
// arguments listed in opPlans[k], in order (positions are relative to the
// head, so 1 is the first argument), then computes its result.

type opArg struct {
	arg int
	nf  bool // normalize instead of WHNF
}

var opPlans = [5][]opArg{
	0: {{1, false}, {2, false}, {3, true}},
	1: {{5, false}},
	2: {{3, false}},
	3: {{1, false}},
	4: {{1, true}},
}

// opNext evaluates the next argument of the opcode frame at index top, or,
// when all are evaluated, computes the result, overwrites the thunk and pops
// the frame (returning nil).
func (m *machine) opNext(top int) (*node, error) {
	fr := &m.frames[top]
	pl := opPlans[fr.op]
	for int(fr.i) < len(pl) {
		a := pl[fr.i]
		idx := int(fr.base) + a.arg
		n := follow(m.astack[idx])
		m.astack[idx] = n
		if (a.nf && n.isNF()) || (!a.nf && n.isWHNF()) {
			fr.i++
			continue
		}
		if a.nf {
			m.push(frame{k: kNF, o: n, i: -2})
		}
		return n, nil
	}
	o, base, ar := fr.o, int(fr.base), int(fr.ar)
	var into *node
	if o.nargs() == ar {
		into = o
	}
	res, err := m.opResult(fr.op, base, into)
	if err != nil {
		return nil, err
	}
	m.pop()
	m.finishStep(o, base, ar, res)
	// The opcode is done and its result is in o: count it (see check).
	if err := m.counted(); err != nil {
		return nil, err
	}
	return nil, nil
}

// opResult computes the result of an opcode whose arguments are evaluated.
// A new app or nat is built in into when it is not nil (the thunk itself);
// the arguments were copied to astack, so overwriting it is safe.
func (m *machine) opResult(op uint8, base int, into *node) (*node, error) {
	a := m.astack[base:]
	switch op {
	case 0:
		name, arity := castNat(a[1]), castNat(a[2])
		if arity.IsZero() {
			return nil, crashf("opcode 0 (make law) with arity 0")
		}
		body, err := m.value(a[3])
		if err != nil {
			return nil, err
		}
		l := plan.L(name, arity, body)
		n := &node{tag: tagLaw, x: &lawInfo{law: l, arity: clampArity(arity)}}
		return n, nil
	case 1:
		p, l, ap, nt, x := a[1], a[2], a[3], a[4], a[5]
		switch x.tag {
		case tagPin:
			c, err := m.pinContents(x.x.(*pinInfo))
			if err != nil {
				return nil, err
			}
			return m.mkApp(into, p, c), nil
		case tagLaw:
			law := x.x.(*lawInfo).law
			return m.mkApp(into, l, m.natNode(law.Name), m.natNode(law.Arity), m.wrap(law.Body)), nil
		case tagApp:
			xs := x.argv()
			k := len(xs)
			var g *node
			if k == 1 {
				g = x.fn
			} else {
				// The function part of a closure is a closure needing one
				// more argument.
				g = m.newNode()
				if x.nin == ovf {
					// Shares x's argument array: never written through
					// this view except to path-compress.
					g.tag, g.fn, g.nin, g.x = tagApp, x.fn, ovf, &overflow{args: xs[: k-1 : k-1]}
				} else {
					g.setApp(x.fn, xs[:k-1])
				}
				g.flags, g.need = fWHNF, x.need+1
				if x.flags&fNF != 0 {
					g.flags |= fNF
				}
			}
			return m.mkApp(into, ap, g, xs[k-1]), nil
		default:
			return m.mkApp(into, nt, x), nil
		}
	case 2:
		z, p, x := a[1], a[2], a[3]
		n := castNat(x)
		if n.IsZero() {
			if into != nil && follow(z) == into {
				return &node{tag: tagHole}, nil // the thunk is its own value
			}
			return z, nil
		}
		return m.mkApp(into, p, m.natNode(n.Dec())), nil
	case 3:
		return m.mkNat(into, castNat(a[1]).Inc()), nil
	case 4:
		v, err := m.value(a[1])
		if err != nil {
			return nil, err
		}
		return &node{tag: tagPin, x: &pinInfo{pin: plan.P(v), contents: a[1]}}, nil
	}
	panic("pallas: bad opcode")
}
