package seed

import "pstore/plan"

// splitMin is the depth from which splitTree walks a value's last
// argument on a second goroutine.
var splitMin = 12

// splitTree is tree, except that in the Raw convention a large app's last
// argument (for a balanced tree built with plan.A, half of it) is walked
// by a second encoder on another goroutine, and its raw tree is then
// appended to this one's. Raw is the only convention where this is
// simple: Body numbers child pins by order of appearance, and Pallas and
// Plan4 load pins. Splitting changes only the raw tree's cell numbering
// and which pointer-shared apps are walked twice; dedup makes the same
// deduplicated tree from it, so the bytes are the same.
func (e *encoder) splitTree(v plan.Value) (int32, error) {
	x, ok := v.(*plan.App)
	if e.conv != Raw || !ok || len(x.Args) == 0 || shallow(x.Args[len(x.Args)-1], splitMin) {
		return e.tree(v)
	}
	last := x.Args[len(x.Args)-1]
	var rest plan.Value = x.Fun
	if len(x.Args) > 1 {
		rest = &plan.App{Fun: x.Fun, Args: x.Args[:len(x.Args)-1]}
	}
	e2 := newEncoder(Raw)
	defer e2.release()
	e2.declared, e2.nHoles = e.declared, e.nHoles
	type result struct {
		id  int32
		err error
	}
	done := make(chan result, 1)
	go func() {
		id, err := e2.tree(last)
		done <- result{id, err}
	}()
	r1, err1 := e.tree(rest)
	r2 := <-done
	if err1 != nil {
		return 0, err1
	}
	if r2.err != nil {
		return 0, r2.err
	}
	// Append e2's raw tree, renumbering its cells and leaves.
	if len(e.raw)+len(e2.raw) >= 1<<31-1 {
		return 0, unrepf("more than 2^31 cells")
	}
	if len(e.pendVals)+len(e2.pendVals) > maxLeaves {
		return 0, unrepf("more than %d word nat leaves", maxLeaves)
	}
	cellOff := int32(len(e.raw))
	pendOff := len(e.pendVals)
	e.pendVals = append(e.pendVals, e2.pendVals...)
	small := make([]int32, len(e2.smallVals))
	for i, v := range e2.smallVals {
		small[i] = e.smallLeaf(v)
	}
	bigs := make([]int32, len(e2.bigVals))
	for i, w := range e2.bigVals {
		id, err := e.bigLeaf(w)
		if err != nil {
			return 0, err
		}
		bigs[i] = id
	}
	remap := func(id int32) int32 {
		if id >= 0 {
			return id + cellOff
		}
		x := ^id
		switch x & 3 {
		case leafSmall:
			return small[x>>2]
		case leafBig:
			return bigs[x>>2]
		case leafPend:
			return leafID(int(x>>2)+pendOff, leafPend)
		}
		return id // a hole
	}
	e.raw = append(e.raw, e2.raw...)
	for i := int(cellOff); i < len(e.raw); i++ {
		c := &e.raw[i]
		c.h, c.t = remap(c.h), remap(c.t)
	}
	return e.rawCell(r1, remap(r2.id))
}

// shallow reports whether v is an app less than depth levels deep along
// the path that follows each app's last argument.
func shallow(v plan.Value, depth int) bool {
	for range depth {
		a, ok := v.(*plan.App)
		if !ok || len(a.Args) == 0 {
			return true
		}
		v = a.Args[len(a.Args)-1]
	}
	return false
}
