package plan

import "errors"

// ErrNoContents is returned (wrapped) when a comparison needs the contents
// of a pin that cannot be loaded.
var ErrNoContents = errors.New("plan: pin contents unavailable")

// pair view helpers: every app is (Head() Arg()).

// Equal reports whether a and b are structurally equal: nats by number, apps
// as binary pairs (however their argument slices are split), laws by name,
// arity and body, pins by contents. Two pins whose digests are both known are
// compared by digest alone, in constant time (a digest commits to the whole
// contents, SEED.md section 15). Shared nodes are compared once by identity.
// It never recurses on the Go stack, so arbitrarily deep values are fine.
//
// Equal loads pin contents where it must; if a load fails the pins are
// treated as different. Use EqualErr to see the error.
func Equal(a, b Value) bool {
	eq, _ := EqualErr(a, b)
	return eq
}

// EqualErr is Equal that reports a failure to load a pin.
func EqualErr(a, b Value) (bool, error) {
	c, err := compare(a, b, false)
	return c == 0, err
}

// Compare is the total order of PLAN4.md section 8, as -1, 0, +1: first the
// type rank (nat < pin < law < app), then nats numerically, pins by
// contents, laws by name, arity, then body, apps by function part then
// argument (the pair view). A load failure is reported as an error.
func Compare(a, b Value) (int, error) { return compare(a, b, true) }

type cmpPair struct{ a, b Value }

// memoAfter is the number of compound pairs compared before compare starts
// remembering them: small comparisons stay allocation-free, large ones on
// shared DAGs stay linear in the number of distinct node pairs.
const memoAfter = 256

func compare(a, b Value, ordered bool) (int, error) {
	stack := []cmpPair{{a, b}}
	// seen holds compound pairs already compared. Pairs are popped in
	// depth-first pre-order and values are acyclic, so when a pair comes up
	// again its first occurrence's whole subtree has been compared and
	// found equal (otherwise compare would have returned): skipping it is
	// right for Equal and for the order alike. Without it, comparing two
	// separately built copies of a DAG with 2^n paths costs 2^n.
	var seen map[cmpPair]struct{}
	compound := 0
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := p.a, p.b
		if same(x, y) {
			continue
		}
		kx, ky := x.Kind(), y.Kind()
		if kx == KindApp || kx == KindLaw {
			compound++
			if compound > memoAfter {
				if seen == nil {
					seen = make(map[cmpPair]struct{})
				}
				if _, dup := seen[p]; dup {
					continue
				}
				seen[p] = struct{}{}
			}
		}
		if kx != ky {
			if kx < ky {
				return -1, nil
			}
			return 1, nil
		}
		switch kx {
		case KindNat:
			if c := x.(Nat).Cmp(y.(Nat)); c != 0 {
				return c, nil
			}
		case KindLaw:
			lx, ly := x.(*Law), y.(*Law)
			if c := lx.Name.Cmp(ly.Name); c != 0 {
				return c, nil
			}
			if c := lx.Arity.Cmp(ly.Arity); c != 0 {
				return c, nil
			}
			stack = append(stack, cmpPair{lx.Body, ly.Body})
		case KindPin:
			px, py := x.(*Pin), y.(*Pin)
			dx, okx := px.CachedDigest()
			dy, oky := py.CachedDigest()
			if okx && oky && dx == dy {
				continue
			}
			if okx && oky && !ordered {
				// Different digests mean different contents.
				return 1, nil
			}
			ix, err := px.Item()
			if err != nil {
				return 1, errors.Join(ErrNoContents, err)
			}
			iy, err := py.Item()
			if err != nil {
				return 1, errors.Join(ErrNoContents, err)
			}
			stack = append(stack, cmpPair{ix, iy})
		case KindApp:
			// In the pair view (((F a1) a2) ... an) against
			// (((G b1) ...) bm), with F and G not apps, the first
			// difference found is at the innermost level: when n > m
			// the app (F a1 ... a(n-m)) meets the non-app G, and app
			// ranks above every other kind, so the longer spine is
			// greater. With n == m: F against G, then a1 against b1, ...
			fx, xs := x.(*App).Spine()
			fy, ys := y.(*App).Spine()
			if len(xs) != len(ys) {
				if len(xs) < len(ys) {
					return -1, nil
				}
				return 1, nil
			}
			for i := len(xs) - 1; i >= 0; i-- {
				stack = append(stack, cmpPair{xs[i], ys[i]})
			}
			stack = append(stack, cmpPair{fx, fy})
		}
	}
	return 0, nil
}

// same reports identity for pointer kinds (a cheap shortcut for shared
// structure); nats are compared by value by the caller.
func same(x, y Value) bool {
	switch xv := x.(type) {
	case *App:
		yv, ok := y.(*App)
		return ok && (xv == yv || (len(xv.Args) == len(yv.Args) && xv.Fun == yv.Fun && sameSlice(xv.Args, yv.Args)))
	case *Law:
		yv, ok := y.(*Law)
		return ok && xv == yv
	case *Pin:
		yv, ok := y.(*Pin)
		return ok && xv == yv
	}
	return false
}

func sameSlice(a, b []Value) bool {
	return len(a) > 0 && &a[0] == &b[0]
}
