package torrent

import "pstore/plan"

// postOrder walks the pin DAG under root once, depth first, each pin after
// its children (in child order) and every pin once however often it is
// referenced. load reads a pin: its children's digests and whatever visit
// needs of it (x); visit is called in post-order. The stack is explicit,
// so a deep DAG cannot overflow the Go stack; it holds one x per pin on
// the current path.
func postOrder[T any](root plan.Digest, load func(plan.Digest) ([]plan.Digest, T, error), visit func(plan.Digest, T) error) error {
	type frame struct {
		d        plan.Digest
		children []plan.Digest
		next     int
		x        T
	}
	visited := map[plan.Digest]bool{root: true}
	var stack []frame
	push := func(d plan.Digest) error {
		children, x, err := load(d)
		if err != nil {
			return err
		}
		stack = append(stack, frame{d: d, children: children, x: x})
		return nil
	}
	if err := push(root); err != nil {
		return err
	}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next < len(f.children) {
			c := f.children[f.next]
			f.next++
			if !visited[c] {
				visited[c] = true
				if err := push(c); err != nil {
					return err
				}
			}
			continue
		}
		d, x := f.d, f.x
		stack = stack[:len(stack)-1]
		if err := visit(d, x); err != nil {
			return err
		}
	}
	return nil
}
