package plan4

import (
	"os"
	"testing"

	"pstore/plan"
	"pstore/seed"
)

func TestZZDump(t *testing.T) {
	for _, n := range []string{"Add", "Sub", "Mul", "Cmp", "Eql", "Ix", "BitSz", "PinItem"} {
		data, _ := os.ReadFile("/work/shared/vectors/plan4/" + n + ".seed")
		tr, err := seed.Decode(data, seed.Plan4, nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err := seed.FromPlan4(tr)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", n, plan.String(v))
	}
}
