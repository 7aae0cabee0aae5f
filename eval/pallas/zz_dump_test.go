package pallas_test

import (
	"context"
	"fmt"
	"testing"

	"pstore/eval"
	"pstore/eval/pallas"
	"pstore/plan"
)

func TestDumpPins(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range []string{"cmp.seed", "mul.seed", "isNat.seed", "toNat.seed"} {
		v, _ := seedRef(f)
		r, err := pallas.Evaluator{}.Eval(context.Background(), v, eval.Options{})
		if err != nil {
			t.Fatal(err)
		}
		st := []plan.Value{r.Value}
		for len(st) > 0 {
			x := st[len(st)-1]
			st = st[:len(st)-1]
			switch x := x.(type) {
			case *plan.Pin:
				s := plan.String(x)
				if !seen[s] {
					seen[s] = true
					fmt.Println(s)
				}
				st = append(st, x.MustItem())
			case *plan.Law:
				st = append(st, x.Body)
			case *plan.App:
				st = append(st, x.Fun)
				st = append(st, x.Args...)
			}
		}
	}
}
