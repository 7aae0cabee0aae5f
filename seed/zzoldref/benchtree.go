package zzoldref

import "pstore/plan"

// BenchTree returns pstore's standard benchmark value: a balanced binary
// tree of the given depth (2^depth leaves; depth 22 gives 4,194,304 leaves
// and a seed of about 19 MB), built depth-first, left subtree first, from
// the xorshift64 generator x ^= x<<13; x ^= x>>7; x ^= x<<17 starting at
// 88172645463325252. Each leaf draws r = next(); the leaf is next() (a full
// 64-bit word) if r%4 == 0, otherwise r%1000. Apps are built with plan.A,
// so each left spine is one app node. The seed and CLI benchmarks share it.
func BenchTree(depth int) plan.Value {
	x := uint64(88172645463325252)
	next := func() uint64 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return x
	}
	var build func(d int) plan.Value
	build = func(d int) plan.Value {
		if d == 0 {
			r := next()
			if r%4 == 0 {
				return plan.N(next())
			}
			return plan.N(r % 1000)
		}
		l := build(d - 1)
		r := build(d - 1)
		return plan.A(l, r)
	}
	return build(depth)
}
