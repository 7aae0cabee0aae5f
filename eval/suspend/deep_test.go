package suspend_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"pstore/eval"
	"pstore/eval/evaltest"
	"pstore/eval/suspend"
	"pstore/merkle"
	"pstore/plan"
)

// accLaw is {"acc" 2 body}: acc a n = if n == 0 then a else acc (3 a) (n-1),
// lazy in a, so after k calls the graph holds a chain of k nested
// increment thunks.
const accSrc = `({"acc" 2 (0 (0 (0 (2 2) 1) (0 0 (0 (2 3) 1))) 2)} 0 N)`

// TestDeepResidual: a residual 200,000 thunks deep is encoded, stored and
// resumed without Go recursion trouble.
func TestDeepResidual(t *testing.T) {
	const n = 200_000
	e, _ := eval.Get("pallas")
	expr := parse(t, "pallas", replaceN(accSrc, n))
	out, err := suspend.Run(context.Background(), e, expr, eval.Options{Steps: 3 * n / 2})
	if err != nil || out.Done() {
		t.Fatalf("not suspended: %v", err)
	}
	body, _, err := merkle.Body(out.Suspended)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("record body %d bytes", len(body))
	checkNormal(t, e, out.Suspended)
	st := evaltest.NewMemStore(t)
	ref, err := putDAG(st, out.Suspended)
	if err != nil {
		t.Fatal(err)
	}
	res, err := suspend.Resume(context.Background(), ref, eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Done() || !plan.Equal(res.Value, plan.N(n)) {
		t.Fatalf("got %v", res.Value)
	}
}

// BenchmarkSuspendMul measures Suspend (residual rewrite and record) of a
// pallas multiplication stopped after 2M steps; bytes are the record's
// canonical body.
func BenchmarkSuspendMul(b *testing.B) {
	e, _ := eval.Get("pallas")
	expr := parse(b, "pallas", "(<mul.seed> 300 400)")
	_, err := e.Eval(context.Background(), expr, eval.Options{NoJets: true, Steps: 2_000_000})
	se, ok := err.(*eval.StoppedError)
	if !ok {
		b.Fatal(err)
	}
	p, _ := suspend.Suspend("pallas", se, 0)
	body, _, _ := merkle.Body(p)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := suspend.Suspend("pallas", se, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func replaceN(src string, n int) string { return strings.Replace(src, "N", strconv.Itoa(n), 1) }
