package evaltest_test

import (
	"context"
	"testing"

	"pstore/eval"
	"pstore/eval/evaltest"
	"pstore/eval/pallas"
	"pstore/plan"
)

// pallasStoreKit is the part of the pallas Kit that the lazy-faulting test
// needs, with the real page store as the pin store.
func pallasStoreKit() evaltest.Kit {
	n := plan.N
	ap := func(f, x plan.Value) plan.Value { return plan.A(n(0), f, x) }
	return evaltest.Kit{
		Nat:  func(k uint64) plan.Value { return n(k) },
		Cons: func(a, b plan.Value) plan.Value { return plan.A(n(0), a, b) },
		Forward: func(next, extra plan.Value) plan.Value {
			// {fwd 1 (let $2 = extra in (next $1))}
			return plan.L(plan.NatFromBytes([]byte("fwd")), n(1), plan.A(n(1), extra, ap(next, n(1))))
		},
		Id:       plan.L(plan.NatFromBytes([]byte("id")), n(1), n(1)),
		NewStore: evaltest.NewPageStore,
	}
}

func TestLazyPinsFromPageStorePallas(t *testing.T) {
	evaltest.RunLazyPins(t, pallas.Evaluator{}, pallasStoreKit())
}

// BenchmarkLazyPinsPageStore: from an open page store holding a DAG of
// 100,000 pins, load the pinned head law by reference and evaluate a call
// that goes through 11 of them (issue 4 target: under 1 ms).
func BenchmarkLazyPinsPageStore(b *testing.B) {
	k := pallasStoreKit()
	ps := evaltest.NewPageStore(b).(*evaltest.PageStore)
	head, total := evaltest.BuildPinDAG(b, k, ps, 100_000, 10)
	if err := ps.Flush(); err != nil {
		b.Fatal(err)
	}
	d, _ := head.CachedDigest()
	b.ReportMetric(float64(total), "pins-in-store")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ref := plan.NewPinRef(d, ps.St) // fresh: nothing below it loaded
		r, err := pallas.Evaluator{}.Eval(context.Background(), plan.A(ref, plan.N(5)), eval.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if r.Stats.PinsLoaded > 13 {
			b.Fatalf("loaded %d pins", r.Stats.PinsLoaded)
		}
	}
}
