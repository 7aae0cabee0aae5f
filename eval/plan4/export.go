package plan4

import (
	"pstore/plan"
)

// export converts a node graph back to a plan.Value, iteratively and
// preserving sharing (a node shared in the graph is one value). Input
// values that were never converted, input pins and laws, and NF nodes
// converted from input come back as the very values they came from, so an
// untouched unloaded pin stays the same *plan.Pin.
//
// The graph must be acyclic (an NF value always is); snapshot handles the
// general case for error messages.
func (m *machine) export(root *node) plan.Value {
	v, _ := m.exportGraph(root, false)
	return v
}

// snapshot exports a graph that may contain thunks and cycles, without
// evaluating anything; a cycle is cut with the nat 0. For messages only.
func (m *machine) snapshot(root *node) plan.Value {
	v, _ := m.exportGraph(root, true)
	return v
}

type exItem struct {
	n    *node
	post bool
}

func (m *machine) exportGraph(root *node, cut bool) (plan.Value, bool) {
	memo := map[*node]plan.Value{}
	var onPath map[*node]bool
	if cut {
		onPath = map[*node]bool{}
	}
	var vals []plan.Value
	stack := []exItem{{n: root}}
	cycles := false
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := it.n
		for n.k == kInd {
			n = n.fun
		}
		if it.post {
			switch n.k {
			case kPin:
				item := vals[len(vals)-1]
				vals = vals[:len(vals)-1]
				p := plan.P(item)
				pi, _ := n.ext.(*pinInfo)
				if pi == nil {
					pi = &pinInfo{}
					n.ext = pi
				}
				pi.out = p
				vals = append(vals, p)
			case kLaw:
				body := vals[len(vals)-1]
				vals = vals[:len(vals)-1]
				li := n.ext.(*lawInfo)
				l := plan.L(li.name, li.arityN, body)
				li.out = l
				vals = append(vals, l)
			case kApp:
				k := len(n.args) + 1
				parts := vals[len(vals)-k:]
				args := make([]plan.Value, len(n.args))
				copy(args, parts[1:])
				v := plan.Value(plan.NewAppShared(parts[0], args))
				vals = vals[:len(vals)-k]
				if n.flags&fNF != 0 {
					// An NF node keeps its exported value (it never
					// changes again), which also shares it.
					n.ext = v
				} else {
					memo[n] = v
				}
				if cut {
					delete(onPath, n)
				}
				vals = append(vals, v)
			}
			continue
		}
		switch n.k {
		case kNat:
			vals = append(vals, natOf(n))
		case kVal:
			vals = append(vals, n.ext.(plan.Value))
		case kHole:
			vals = append(vals, plan.N(0))
		case kPin:
			pi, _ := n.ext.(*pinInfo)
			if pi != nil && pi.src != nil {
				vals = append(vals, pi.src)
				continue
			}
			if pi != nil && pi.out != nil {
				vals = append(vals, pi.out)
				continue
			}
			stack = append(stack, exItem{n: n, post: true}, exItem{n: n.fun})
		case kLaw:
			li := n.ext.(*lawInfo)
			if li.src != nil {
				vals = append(vals, li.src)
				continue
			}
			if li.out != nil {
				vals = append(vals, li.out)
				continue
			}
			stack = append(stack, exItem{n: n, post: true}, exItem{n: li.body})
		case kApp:
			if n.flags&fNF != 0 {
				if v, ok := n.ext.(plan.Value); ok {
					vals = append(vals, v)
					continue
				}
			}
			if v, ok := memo[n]; ok {
				vals = append(vals, v)
				continue
			}
			if cut {
				if onPath[n] {
					cycles = true
					vals = append(vals, plan.N(0))
					continue
				}
				onPath[n] = true
			}
			stack = append(stack, exItem{n: n, post: true})
			for i := len(n.args) - 1; i >= 0; i-- {
				stack = append(stack, exItem{n: n.args[i]})
			}
			stack = append(stack, exItem{n: n.fun})
		}
	}
	return vals[0], cycles
}
