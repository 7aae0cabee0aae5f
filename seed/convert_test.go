package seed

import (
	"errors"
	"testing"

	"pstore/plan"
)

func TestFromPallas(t *testing.T) {
	ok := map[string]string{
		`(0 1 2)`:                       `(0 1 2)`,
		`(1 1 2 3 4)`:                   `(1 1 2 3 4)`,
		`(2 7 8)`:                       `(2 7 8)`,
		`(4 5)`:                         `<5>`,
		`(4 (0 2 1))`:                   `<(0 2 1)>`,
		`(0 "f" 2 1)`:                   `{"f" 2 1}`,
		`(0 "f" 3 1 9 9)`:               `({"f" 3 1} 9 9)`,
		`(4 (0 "f" 2 1) 7)`:             `(<{"f" 2 1}> 7)`,
		`(4 0 1 2)`:                     `(<0> 1 2)`,
		`(4 (0 "k" 2 (0 0 1 (2 0))) 3)`: `(<{"k" 2 {0 1 (2 0)}}> 3)`,
		`(0 0 1 (1 2 3 4 5))`:           `{0 1 (1 2 3 4 5)}`,
		`5`:                             `5`,
	}
	for in, want := range ok {
		got, err := FromPallas(mustParse(t, in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !plan.Equal(got, mustParse(t, want)) {
			t.Errorf("%s: wrong value", in)
		}
	}
	bad := []string{
		`(3 5)`,             // increment would run
		`(5 1)`,             // nat >= 5 applied: would crash
		`(1 1 2 3 4 5)`,     // reflect saturated
		`(0 1 0 5)`,         // arity 0
		`(0 (1 2) 1 5)`,     // name not a nat: would evaluate
		`(0 "f" 1 2 3)`,     // law saturated
		`(4 5 6)`,           // <5> has arity 1
		`(2 0 (3 1))`,       // inner (3 1) would reduce
		`(0 "f" 2 (4 4 4))`, // body not normal
	}
	for _, in := range bad {
		if _, err := FromPallas(mustParse(t, in)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", in, err)
		}
	}
	// A shared law spine split across apps: F = (0 "f" 2), used twice.
	f := plan.NewAppShared(plan.N(0), []plan.Value{plan.N(102), plan.N(2)})
	tree := plan.NewAppShared(plan.N(9), []plan.Value{
		plan.NewAppShared(f, []plan.Value{plan.N(1)}),
		plan.NewAppShared(f, []plan.Value{plan.N(2)}),
	})
	_, err := FromPallas(tree) // (9 x y): 9 has arity 1, not normal
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v", err)
	}
	tree = plan.NewAppShared(plan.N(1), []plan.Value{
		plan.NewAppShared(f, []plan.Value{plan.N(1)}),
		plan.NewAppShared(f, []plan.Value{plan.N(2)}),
	})
	got, err := FromPallas(tree)
	if err != nil || !plan.Equal(got, mustParse(t, `(1 {102 2 1} {102 2 2})`)) {
		t.Fatalf("shared spine: %v", err)
	}
}

func TestFromPlan4(t *testing.T) {
	h0 := plan.P(plan.N(0))
	p4 := func(s string) plan.Value {
		v, err := plan.ParseWith(s, plan.ParseOptions{SeedRef: func(string) (plan.Value, error) { return h0, nil }})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := map[string]string{
		`(<h.seed> 5)`:                                 `<5>`,
		`(<h.seed> 1)`:                                 `<1>`,
		`(<h.seed> 1 "f" 2 1)`:                         `{"f" 2 1}`,
		`(<h.seed> 1 "f" 0 1)`:                         `{"f" 0 1}`,
		`(<h.seed> 1 "f" 2 1 9)`:                       `({"f" 2 1} 9)`,
		`(<h.seed> 1 "f" 2)`:                           `(<1> "f" 2)`,
		`(<h.seed> (<h.seed> 3) 4)`:                    `(<<3>> 4)`,
		`(3 (<h.seed> 1 0 1 (0 1)))`:                   `(3 {0 1 (0 1)})`,
		`(<h.seed> (<h.seed> 1 "Add" 2 (<h.seed> 7)))`: `<{"Add" 2 <7>}>`,
		`<h.seed>`:                                     `<0>`,
	}
	for in, want := range cases {
		got, err := FromPlan4(p4(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !plan.Equal(got, mustParse(t, want)) {
			t.Errorf("%s: wrong value", in)
		}
	}
	if _, err := FromPlan4(p4(`(<h.seed> 1 (1 1) 2 3)`)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("non-nat name: %v", err)
	}
}
