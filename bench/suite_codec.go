package bench

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"time"

	"pstore/plan"
	"pstore/seed"
)

// seedFiles are real seeds: the Pallas plank seeds and the plan-di-c seeds
// of the shared test vectors (copied here so the binary carries them).
//
//go:embed seeds
var seedFiles embed.FS

type codecInput struct {
	label string
	data  []byte // the seed
	conv  seed.Convention
	value plan.Value // what Encode is given
}

// runCodec: SEED encode and decode throughput in MB/s of seed bytes, on the
// standard benchmark tree, on a pinned-map state, and on real seeds.
func runCodec(r *runner) error {
	depth := pick(r, 12, 18, 22)
	minDur := pick(r, 10*time.Millisecond, 100*time.Millisecond, 300*time.Millisecond)
	var inputs []codecInput

	t0 := time.Now()
	tree := seed.BenchTree(depth)
	data, err := seed.Encode(tree, seed.Raw)
	if err != nil {
		return err
	}
	inputs = append(inputs, codecInput{fmt.Sprintf("bench tree d%d (%s)", depth, humanBytes(int64(len(data)))), data, seed.Raw, tree})
	r.logf("bench tree depth %d: %s, built in %.1f s", depth, humanBytes(int64(len(data))), time.Since(t0).Seconds())

	n := pick(r, 1000, 100_000, 1_000_000)
	m := newPmap(newRand(7), n)
	data, err = seed.Encode(m.root.pin, seed.Pallas)
	if err != nil {
		return err
	}
	mv, err := seed.Decode(data, seed.Pallas, nil)
	if err != nil {
		return err
	}
	inputs = append(inputs, codecInput{fmt.Sprintf("pinned map %d entries (%s)", n, humanBytes(int64(len(data)))), data, seed.Pallas, mv})

	for _, d := range []struct {
		dir  string
		conv seed.Convention
	}{{"seeds/pallas", seed.Pallas}, {"seeds/plan4", seed.Plan4}} {
		ents, err := seedFiles.ReadDir(d.dir)
		if err != nil {
			return err
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		total := 0
		for _, nm := range names {
			b, err := seedFiles.ReadFile(path.Join(d.dir, nm))
			if err != nil {
				return err
			}
			v, err := seed.Decode(b, d.conv, nil)
			if err != nil {
				return fmt.Errorf("%s/%s: %w", d.dir, nm, err)
			}
			if d.conv == seed.Plan4 {
				// Encoding in the Plan4 convention takes the value, not the
				// raw tree.
				if v, err = seed.FromPlan4(v); err != nil {
					return fmt.Errorf("%s/%s: %w", d.dir, nm, err)
				}
			}
			inputs = append(inputs, codecInput{"", b, d.conv, v})
			total += len(b)
		}
		label := fmt.Sprintf("%s seeds (%d files, %d B)", path.Base(d.dir), len(names), total)
		for i := len(inputs) - len(names); i < len(inputs); i++ {
			inputs[i].label = label
		}
	}

	enc := r.figure(&Figure{ID: "codec-encode", Title: "SEED encode throughput", YLabel: "encode throughput", YUnit: "MB/s",
		XLabel: "input", Categorical: true, Better: "higher",
		Cache: "in memory (no storage involved)",
		Notes: []string{"MB/s of seed bytes produced; each run repeats the encoding until it has run for at least " + minDur.String(),
			"the seed package is pstore's codec; there is no baseline in this figure",
			"real seeds: the Pallas plank seeds and plan-di-c seeds of the shared test vectors, all files of a dialect counted together"}})
	dec := r.figure(&Figure{ID: "codec-decode", Title: "SEED decode throughput", YLabel: "decode throughput", YUnit: "MB/s",
		XLabel: "input", Categorical: true, Better: "higher",
		Cache: "in memory (no storage involved)",
		Notes: []string{"MB/s of seed bytes consumed; data 8-byte aligned, so big nats alias the input (zero copy)"}})

	// Group inputs by label (the vector files form one point each).
	type group struct {
		label string
		ins   []codecInput
	}
	var groups []group
	for _, in := range inputs {
		if len(groups) > 0 && groups[len(groups)-1].label == in.label {
			groups[len(groups)-1].ins = append(groups[len(groups)-1].ins, in)
			continue
		}
		groups = append(groups, group{in.label, []codecInput{in}})
	}
	for gi, g := range groups {
		bytes := 0
		for _, in := range g.ins {
			bytes += len(in.data)
		}
		var ev, dv []float64
		for run := 0; run < r.runs; run++ {
			if err := r.canceled(); err != nil {
				return err
			}
			rate, err := rateOf(bytes, minDur, func() error {
				for _, in := range g.ins {
					if _, err := seed.Encode(in.value, in.conv); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("encode %s: %w", g.label, err)
			}
			ev = append(ev, rate)
			rate, err = rateOf(bytes, minDur, func() error {
				for _, in := range g.ins {
					var holes []plan.Value
					if _, err := seed.Decode(in.data, in.conv, holes); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("decode %s: %w", g.label, err)
			}
			dv = append(dv, rate)
		}
		enc.AddLabel("pstore", g.label, float64(gi), ev)
		dec.AddLabel("pstore", g.label, float64(gi), dv)
		r.logf("%s: encode %.0f MB/s, decode %.0f MB/s", g.label, Summarize(ev).Median, Summarize(dv).Median)
	}
	return nil
}

// rateOf runs fn until minDur has passed and returns MB/s for bytes per call.
func rateOf(bytes int, minDur time.Duration, fn func() error) (float64, error) {
	t0 := time.Now()
	iters := 0
	for {
		if err := fn(); err != nil {
			return 0, err
		}
		iters++
		if el := time.Since(t0); el >= minDur {
			return float64(bytes) * float64(iters) / el.Seconds() / mb, nil
		}
	}
}
