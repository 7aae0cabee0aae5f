package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"pstore/db"
	_ "pstore/eval/pallas" // registers "pallas" for the database figure
	"pstore/merkle"
	"pstore/pagestore"
	"pstore/plan"
)

// keepLaw is the database used by the load suite: its state is a big pinned
// value it never looks at, and each input is echoed as the output:
// (keep s x) = (0 x (keep s)). Opening it and answering one input must not
// read the big value.
const keepLaw = `{"keep" 2 (0 (0 (2 0) 2) (0 0 1))}`

const loadPinSize = 10_000 // bytes per data pin: 1 GB is 100,000 pins

// fullSnapMax is the largest load store built for the full-snapshot
// baseline, which needs the whole state in memory, and for flatfs, whose
// one fsync per file makes 10 GB (a million files) take about an hour.
const fullSnapMax = 1e9

// runLoad: stores holding 10 MB .. 1 GB (10 GB with --big) of 10 kB pins;
// measured: open the store and read one small pin (cold and warm), and for
// pstore, open a database whose snapshot holds the whole store and answer
// its first input.
func runLoad(r *runner) error {
	sizes := pick(r, []int64{1e6, 4e6}, []int64{10e6, 50e6}, []int64{10e6, 100e6, 1e9})
	if r.cfg.Big {
		sizes = append(sizes, 10e9)
	}
	runs := r.runs
	cold := r.figure(&Figure{ID: "load-cold", Title: "Open the store and read one small pin, cold cache",
		YLabel: "open + read latency", YUnit: "ms", XLabel: "store size", XUnit: "MB", Better: "lower",
		Cache: "cold: the store's files dropped from the page cache (posix_fadvise DONTNEED; their pages are clean after the synced commit) and the store reopened before each run",
		Notes: []string{
			fmt.Sprintf("the store holds %d-byte pins of random bytes under index pins (fan-out %d) and one small pin; the run opens the store, reads that pin's body by digest and decodes it", loadPinSize, loadFanout),
			"fullsnap has no index: it reads and decodes the whole state file (seed.Decode only; rebuilding the values would cost more)",
			"cold means not in this kernel's page cache: inodes and directory entries stay cached (flatfs's one-file lookup profits), and the virtual disk may be cached by the host",
		}})
	warm := r.figure(&Figure{ID: "load-warm", Title: "Open the store and read one small pin, warm cache",
		YLabel: "open + read latency", YUnit: "ms", XLabel: "store size", XUnit: "MB", Better: "lower",
		Cache: "warm: the OS page cache keeps the store's files from the previous run; the store is closed and reopened for every run, so no in-process cache survives"})
	dbCold := r.figure(&Figure{ID: "load-db-first-answer", Title: "Open a database whose snapshot holds the whole store and answer one input",
		YLabel: "open + first answer latency", YUnit: "ms", XLabel: "store size", XUnit: "MB", Better: "lower",
		Cache: "cold and warm as in the load figures (series pstore-cold, pstore-warm)",
		Notes: []string{
			"pstore only (the database layer is pstore's); the state is (keep <root>) with <root> the store's whole DAG, the input is echoed, one durable log commit per answer",
			"for comparison the fullsnap series of load-cold is what a design without lazy loading pays just to read the state back",
		}})
	sizeFig := r.figure(&Figure{ID: "load-store-size", Title: "Size on disk of the load data set",
		YLabel: "size on disk", YUnit: "MB", XLabel: "payload", XUnit: "MB", Better: "lower",
		Cache: "not applicable", Runs: 1, Notes: []string{"allocated blocks (du)"}})
	ctx := r.ctx
	for _, total := range sizes {
		ls := newLoadSet(uint64(total), total, loadPinSize)
		smallD, err := merkle.Digest(ls.small)
		if err != nil {
			return err
		}
		x := float64(total) / mb
		r.logf("data set %s: %d pins in %d chunk(s)", humanBytes(total), ls.pins(), ls.chunks())
		for _, sys := range r.systems {
			if err := r.canceled(); err != nil {
				return err
			}
			if (sys.Name == "fullsnap" || sys.Name == "flatfs") && total > fullSnapMax {
				note := fmt.Sprintf("fullsnap is not run at %s: the naive design encodes the whole state from memory", humanBytes(total))
				if sys.Name == "flatfs" {
					note = fmt.Sprintf("flatfs is not run at %s: %d fsync'd files would take about an hour on this disk", humanBytes(total), ls.count())
				}
				cold.Notes = append(cold.Notes, note)
				warm.Notes = append(warm.Notes, note)
				continue
			}
			dir, st, err := r.open(sys)
			if err != nil {
				return err
			}
			t0 := time.Now()
			root, err := ls.build(st, sys.Name == "fullsnap")
			if err != nil {
				st.Close()
				return fmt.Errorf("%s: build: %w", sys.Name, err)
			}
			if err := st.Close(); err != nil {
				return err
			}
			alloc, _, err := DiskUsage(dir)
			if err != nil {
				return err
			}
			sizeFig.Add(sys.Name, x, []float64{float64(alloc) / mb})
			r.logf("%s: built %s store in %.1f s", sys.Name, humanBytes(alloc), time.Since(t0).Seconds())
			read := func() error {
				st, err := sys.Open(dir)
				if err != nil {
					return err
				}
				defer st.Close()
				if sl, ok := st.(StateLoader); ok {
					_, err := sl.LoadState()
					return err
				}
				body, err := st.Get(smallD)
				if err != nil {
					return err
				}
				v, _, err := merkle.DecodeBody(body, nil)
				if err != nil {
					return err
				}
				if item, err := ls.small.Item(); err != nil || !plan.Equal(v, item) {
					return errors.New("read back a different value")
				}
				return nil
			}
			cv, err := timeRuns(runs, func() error { return DropCache(dir) }, read)
			if err != nil {
				return fmt.Errorf("%s: cold read: %w", sys.Name, err)
			}
			if err := read(); err != nil { // warm-up, not timed
				return err
			}
			wv, err := timeRuns(runs, nil, read)
			if err != nil {
				return fmt.Errorf("%s: warm read: %w", sys.Name, err)
			}
			cold.Add(sys.Name, x, cv)
			warm.Add(sys.Name, x, wv)
			r.logf("%s: cold %.2f ms, warm %.2f ms", sys.Name, Summarize(cv).Median, Summarize(wv).Median)
			if sys.Name == "pstore" {
				dc, dw, err := dbFirstAnswer(ctx, dir, root, runs)
				if err != nil {
					r.rep.Errors = append(r.rep.Errors, fmt.Sprintf("load: database figure at %s: %v", humanBytes(total), err))
					r.logf("database figure failed: %v", err)
				} else {
					dbCold.Add("pstore-cold", x, dc)
					dbCold.Add("pstore-warm", x, dw)
					r.logf("pstore db: cold %.2f ms, warm %.2f ms", Summarize(dc).Median, Summarize(dw).Median)
				}
			}
			if err := removeAll(dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// timeRuns times fn n times, calling prep (untimed) before each.
func timeRuns(n int, prep, fn func() error) ([]float64, error) {
	var out []float64
	for i := 0; i < n; i++ {
		if prep != nil {
			if err := prep(); err != nil {
				return nil, err
			}
		}
		t0 := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		out = append(out, ms(time.Since(t0)))
	}
	return out, nil
}

// dbFirstAnswer creates a database whose state holds root on the pstore
// store in dir, snapshots it, then times open + first answer.
func dbFirstAnswer(ctx context.Context, dir string, root *plan.Pin, runs int) (cold, warm []float64, err error) {
	st, err := pagestore.Open(dir, pagestore.Options{Create: true, Wait: -1})
	if err != nil {
		return nil, nil, err
	}
	law, err := plan.Parse(keepLaw)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	rootD, err := merkle.Digest(root)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	rootRef, err := st.Pin(rootD)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	d, err := db.Create(ctx, st, "bench", plan.A(law, rootRef), db.CreateOptions{})
	if err == nil {
		_, _, err = d.Snapshot(ctx)
		if cerr := d.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, err
	}
	answer := func() error {
		st, err := pagestore.Open(dir, pagestore.Options{Wait: -1})
		if err != nil {
			return err
		}
		defer st.Close()
		d, err := db.Open(ctx, st, "bench")
		if err != nil {
			return err
		}
		defer d.Close()
		out, _, err := d.Send(ctx, plan.N(7))
		if err != nil {
			return err
		}
		if !plan.Equal(out, plan.N(7)) {
			return fmt.Errorf("database answered %v, want 7", out)
		}
		return nil
	}
	cold, err = timeRuns(runs, func() error { return DropCache(dir) }, answer)
	if err != nil {
		return nil, nil, err
	}
	if err := answer(); err != nil {
		return nil, nil, err
	}
	warm, err = timeRuns(runs, nil, answer)
	return cold, warm, err
}

func removeAll(dir string) error { return os.RemoveAll(dir) }
