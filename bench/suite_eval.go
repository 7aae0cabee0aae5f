package bench

import (
	"fmt"
	"time"

	"pstore/eval"
	_ "pstore/eval/pallas" // registers "pallas"
	_ "pstore/eval/plan4"  // registers "plan4"
	"pstore/plan"
	"pstore/seed"
)

// countLaw counts n up onto acc by law recursion through the nat case
// opcode: (cnt acc n) = (2 acc (cnt (3 acc)) n), so (cnt 0 n) = n after
// about 3n steps. No jet applies to it.
const countLaw = `{"cnt" 2 (0 (0 (0 (2 2) 1) (0 0 (0 (2 3) 1))) 2)}`

type evalWork struct {
	label     string
	evaluator string
	expr      plan.Value
	want      plan.Value
}

// runEval: steps per second and wall time per evaluator on named
// workloads, with jets on and off.
func runEval(r *runner) error {
	a := pick(r, uint64(6), uint64(20), uint64(100))
	n := pick(r, uint64(2000), uint64(20_000), uint64(200_000))

	mulP, err := seedFiles.ReadFile("seeds/pallas/mul.seed")
	if err != nil {
		return err
	}
	mulPallas, err := seed.Decode(mulP, seed.Pallas, nil) // the tree, unevaluated, as the Pallas vectors use it
	if err != nil {
		return err
	}
	mul4, err := seedFiles.ReadFile("seeds/plan4/Mul.seed")
	if err != nil {
		return err
	}
	t4, err := seed.Decode(mul4, seed.Plan4, nil)
	if err != nil {
		return err
	}
	mulPlan4, err := seed.FromPlan4(t4)
	if err != nil {
		return err
	}
	cnt, err := plan.Parse(countLaw)
	if err != nil {
		return err
	}
	mulLabel := fmt.Sprintf("mul %dx%d (Mul seed law)", a, a)
	cntLabel := fmt.Sprintf("count to %d (law recursion)", n)
	works := []evalWork{
		{mulLabel, "pallas", plan.A(mulPallas, plan.N(a), plan.N(a)), plan.N(a * a)},
		{mulLabel, "plan4", plan.A(mulPlan4, plan.N(a), plan.N(a)), plan.N(a * a)},
		{cntLabel, "pallas", plan.A(cnt, plan.N(0), plan.N(n)), plan.N(n)},
	}
	sps := r.figure(&Figure{ID: "eval-steps-per-second", Title: "Evaluator speed: reduction steps per second",
		YLabel: "steps per second", YUnit: "steps/s", XLabel: "workload", Categorical: true, Better: "higher",
		Cache: "in memory; every run evaluates the expression afresh (no result is reused)",
		Notes: []string{"series: evaluator, with jets (default) or with every law's own body (-nojets)",
			"a step is one reduction of a saturated call (opcode, law or jet call); with jets, mul is one jet call, so its steps/s says little: see the wall-time figure",
			"count is written for the pallas opcodes only; plan4 has no point there"}})
	wall := r.figure(&Figure{ID: "eval-wall-time", Title: "Evaluator wall time per workload",
		YLabel: "wall time", YUnit: "ms", XLabel: "workload", Categorical: true, Better: "lower",
		Cache: "in memory; every run evaluates the expression afresh"})
	labels := []string{mulLabel, cntLabel}
	for _, w := range works {
		ev, err := eval.Get(w.evaluator)
		if err != nil {
			return err
		}
		xi := 0.0
		for i, l := range labels {
			if l == w.label {
				xi = float64(i)
			}
		}
		for _, nojets := range []bool{false, true} {
			name := w.evaluator
			if nojets {
				name += "-nojets"
			}
			var sv, tv []float64
			// One untimed evaluation first: jet tables and code paths are
			// set up once per process, not per run.
			if _, err := ev.Eval(r.ctx, w.expr, eval.Options{NoJets: nojets}); err != nil {
				return fmt.Errorf("%s %s: %w", name, w.label, err)
			}
			for run := 0; run < r.runs; run++ {
				if err := r.canceled(); err != nil {
					return err
				}
				t0 := time.Now()
				res, err := ev.Eval(r.ctx, w.expr, eval.Options{NoJets: nojets})
				el := time.Since(t0)
				if err != nil {
					return fmt.Errorf("%s %s: %w", name, w.label, err)
				}
				if !plan.Equal(res.Value, w.want) {
					return fmt.Errorf("%s %s: got %v, want %v", name, w.label, res.Value, w.want)
				}
				tv = append(tv, ms(el))
				sv = append(sv, float64(res.Stats.Steps)/el.Seconds())
			}
			sps.AddLabel(name, w.label, xi, sv)
			wall.AddLabel(name, w.label, xi, tv)
			r.logf("%s %s: %.3g steps/s, %.2f ms", name, w.label, Summarize(sv).Median, Summarize(tv).Median)
		}
	}
	return nil
}
