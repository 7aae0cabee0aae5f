package bench

import (
	"fmt"
	"time"

	"pstore/db"
	"pstore/pagestore"
	"pstore/plan"
	"pstore/seed"
)

// runSnapshot: a state that is a pinned balanced map of n entries gets one
// change per input and a snapshot after each; every system stores the same
// sequence of states. Measured: bytes written per snapshot (from the
// kernel's I/O accounting), time per snapshot, and the store's size on disk
// after all snapshots, against n.
func runSnapshot(r *runner) error {
	sizes := pick(r, []int{100, 1000}, []int{1000, 10_000}, []int{1000, 10_000, 100_000, 1_000_000})
	snaps := pick(r, 3, 5, 10)
	written := r.figure(&Figure{ID: "snapshot-bytes-written", Title: "Bytes written per snapshot (one change to a pinned map)",
		YLabel: "bytes written per snapshot", YUnit: "KiB", XLabel: "state size", XUnit: "entries", Better: "lower",
		Cache: "not applicable (writes, each durable)", Runs: snaps,
		Notes: []string{
			fmt.Sprintf("the state is a balanced map with a pin per node (leaf buckets of %d entries); each input changes one random entry, copying the path from the root (about log2(n/%d) new pins); a snapshot is taken after every input", mapLeafSize, mapLeafSize),
			"bytes written: /proc/self/io write_bytes minus cancelled_write_bytes around the snapshot call (data, index, commit record, metadata pages); the runs are the successive snapshots",
			"pstore-payload is not a system: it is the pin bodies and pages pstore appended (Stats.BytesStored), to show how much of pstore's writes are its index and commit record",
			"the state transitions are computed in Go, the same for every system; the db package's log is not part of this figure",
		}})
	stime := r.figure(&Figure{ID: "snapshot-time", Title: "Time per durable snapshot (one change to a pinned map)",
		YLabel: "snapshot time", YUnit: "ms", XLabel: "state size", XUnit: "entries", Better: "lower",
		Cache: "not applicable (writes, each durable)", Runs: snaps,
		Notes: []string{"includes hashing the new pins and walking to find them (pstore: Batch.PutPin; LMDB, bbolt, flatfs: Has/Put by digest from the root, stopping at stored pins; fullsnap: SEED-encode the whole state)"}})
	size := r.figure(&Figure{ID: "snapshot-store-size", Title: fmt.Sprintf("Store size on disk after the initial state and %d snapshots", snaps),
		YLabel: "size on disk", YUnit: "MiB", XLabel: "state size", XUnit: "entries", Better: "lower",
		Cache: "not applicable", Runs: 1,
		Notes: []string{"allocated blocks (du), so one small file costs a whole file-system block; one run: the size is deterministic up to file-system allocation"}})
	ioOK := true
	written.Notes = append(written.Notes, "pstore-db: the same states through a real database (db package): each input is the new map's root pin, the database law (swap s x) = (0 0 (swap x)) makes it the state, then db.Snapshot; includes the log batch and the head")
	for _, n := range sizes {
		base := newPmap(newRand(uint64(n)), n)
		enc, err := seed.Encode(base.root.pin, seed.Pallas)
		if err != nil {
			return err
		}
		r.logf("state of %d entries: %s as one seed", n, humanBytes(int64(len(enc))))
		enc = nil
		// Diagnostic series (pstore-payload) are added after every system,
		// so that each system keeps its series index, hence its chart
		// colour, in all three figures.
		type extra struct {
			name string
			vs   []float64
		}
		var extras []extra
		for _, sys := range r.systems {
			if err := r.canceled(); err != nil {
				return err
			}
			if sys.Name == "flatfs" && n > 100_000 {
				// The initial state alone is one fsync'd file per pin
				// (about n/8 files): many minutes here.
				note := fmt.Sprintf("flatfs is not run at %d entries: writing the initial state is %d fsync'd files, many minutes on this disk", n, n/8)
				written.Notes = append(written.Notes, note)
				size.Notes = append(size.Notes, note)
				continue
			}
			dir, st, err := r.open(sys)
			if err != nil {
				return err
			}
			t0 := time.Now()
			if _, err := SaveState(st, base.root.pin); err != nil {
				st.Close()
				return fmt.Errorf("%s: initial state: %w", sys.Name, err)
			}
			r.logf("%s: %d entries: initial state saved in %.0f ms", sys.Name, n, ms(time.Since(t0)))
			m := base
			ch := newRand(uint64(n) + 1)
			var wb, tm, pay []float64
			pl, hasPayload := st.(interface{ PayloadBytes() uint64 })
			for i := 0; i < snaps; i++ {
				m = m.set(ch.IntN(n), ch.Uint64())
				var p0 uint64
				if hasPayload {
					p0 = pl.PayloadBytes()
				}
				w0, ok := procWritten()
				t0 := time.Now()
				if _, err := SaveState(st, m.root.pin); err != nil {
					st.Close()
					return fmt.Errorf("%s: snapshot %d: %w", sys.Name, i, err)
				}
				tm = append(tm, ms(time.Since(t0)))
				w1, _ := procWritten()
				ioOK = ioOK && ok
				wb = append(wb, float64(w1-w0)/kib)
				if hasPayload {
					pay = append(pay, float64(pl.PayloadBytes()-p0)/kib)
				}
			}
			if hasPayload {
				extras = append(extras, extra{sys.Name + "-payload", pay})
			}
			if err := st.Close(); err != nil {
				return err
			}
			alloc, _, err := DiskUsage(dir)
			if err != nil {
				return err
			}
			written.Add(sys.Name, float64(n), wb)
			stime.Add(sys.Name, float64(n), tm)
			size.Add(sys.Name, float64(n), []float64{float64(alloc) / mib})
			r.logf("%s: %d entries: %s per snapshot, store %s", sys.Name, n, humanBytes(int64(Summarize(wb).Median*kib)), humanBytes(alloc))
			if err := removeAll(dir); err != nil {
				return err
			}
		}
		if err := snapshotDB(r, n, snaps, base, written, stime, size); err != nil {
			r.rep.Errors = append(r.rep.Errors, fmt.Sprintf("snapshot: pstore-db at %d entries: %v", n, err))
			r.logf("pstore-db failed: %v", err)
		}
		for _, e := range extras {
			written.Add(e.name, float64(n), e.vs)
		}
	}
	if !ioOK {
		written.Notes = append(written.Notes, "WARNING: the kernel did not report I/O accounting (/proc/self/io); the values are not meaningful")
	}
	return nil
}

// swapLaw is a database whose next state is its input: (swap s x) =
// (0 0 (swap x)). The benchmark computes each new map in Go and sends its
// root pin, so the database layer's own costs (log batch, head, snapshot)
// are measured on exactly the states the other systems store.
const swapLaw = `{"swap" 2 (0 (0 (2 0) (2 0)) (0 0 2))}`

func snapshotDB(r *runner, n, snaps int, base *pmap, written, stime, size *Figure) error {
	dir, err := r.dir("pstore-db")
	if err != nil {
		return err
	}
	defer removeAll(dir)
	st, err := pagestore.Open(dir, pagestore.Options{Create: true, Wait: -1})
	if err != nil {
		return err
	}
	defer st.Close()
	law, err := plan.Parse(swapLaw)
	if err != nil {
		return err
	}
	ctx := r.ctx
	d, err := db.Create(ctx, st, "map", plan.A(law, base.root.pin), db.CreateOptions{SnapshotEvery: -1, SnapshotBytes: -1})
	if err != nil {
		return err
	}
	defer d.Close()
	if _, _, err := d.Snapshot(ctx); err != nil {
		return err
	}
	m := base
	ch := newRand(uint64(n) + 1) // the same changes as the other systems
	var wb, tm []float64
	for i := 0; i < snaps; i++ {
		m = m.set(ch.IntN(n), ch.Uint64())
		w0, _ := procWritten()
		t0 := time.Now()
		if _, _, err := d.Send(ctx, m.root.pin); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
		if _, _, err := d.Snapshot(ctx); err != nil {
			return fmt.Errorf("snapshot %d: %w", i, err)
		}
		tm = append(tm, ms(time.Since(t0)))
		w1, _ := procWritten()
		wb = append(wb, float64(w1-w0)/kib)
	}
	if err := d.Close(); err != nil {
		return err
	}
	alloc, _, err := DiskUsage(dir)
	if err != nil {
		return err
	}
	written.Add("pstore-db", float64(n), wb)
	stime.Add("pstore-db", float64(n), tm)
	size.Add("pstore-db", float64(n), []float64{float64(alloc) / mib})
	r.logf("pstore-db: %d entries: %s per input+snapshot, store %s", n, humanBytes(int64(Summarize(wb).Median*kib)), humanBytes(alloc))
	return nil
}
