package bench

import (
	"encoding/binary"
	"fmt"
	"time"

	"pstore/merkle"
	"pstore/plan"
)

// runPutGet: raw put/get throughput of one large value, batches of small
// pins, and how much the store grows when the same large value is stored
// again and when it is stored with one byte inserted in the middle.
func runPutGet(r *runner) error {
	larges := pick(r, []int{1 << 20}, []int{4 << 20, 32 << 20}, []int{16 << 20, 64 << 20, 256 << 20})
	smalls := pick(r, []int{1000}, []int{1000, 5000}, []int{1000, 10_000, 100_000})
	put := r.figure(&Figure{ID: "putget-put-large", Title: "Put one large value, durable (random bytes as a bar)",
		YLabel: "put throughput", YUnit: "MB/s", XLabel: "value size", XUnit: "MiB", Better: "higher",
		Cache: "not applicable (each run writes into a fresh store and commits durably)",
		Notes: []string{"includes hashing the body (BLAKE3) and, for pstore, content-defined chunking into pages; fullsnap SEED-encodes the value into one file"}})
	getCold := r.figure(&Figure{ID: "putget-get-large-cold", Title: "Get one large value and read every byte, cold cache",
		YLabel: "get throughput", YUnit: "MB/s", XLabel: "value size", XUnit: "MiB", Better: "higher",
		Cache: "cold: files dropped from the page cache and the store reopened before each run",
		Notes: []string{"pstore, LMDB and bbolt hand out a slice of their mapping (zero copy); flatfs and fullsnap read the file; every system's bytes are then summed word by word"}})
	getWarm := r.figure(&Figure{ID: "putget-get-large-warm", Title: "Get one large value and read every byte, warm cache",
		YLabel: "get throughput", YUnit: "MB/s", XLabel: "value size", XUnit: "MiB", Better: "higher",
		Cache: "warm: page cache kept from the previous run, store reopened for every run"})
	dedupSame := r.figure(&Figure{ID: "putget-dedup-identical", Title: "Store growth when the same large value is stored again",
		YLabel: "growth on disk", YUnit: "KiB", XLabel: "value size", XUnit: "MiB", Better: "lower", Runs: 1,
		Cache: "not applicable", Notes: []string{"allocated size after minus before (du); 0 is drawn at the chart's floor"}})
	dedupEdit := r.figure(&Figure{ID: "putget-dedup-edit", Title: "Store growth when the value is stored again with one byte inserted in the middle",
		YLabel: "growth on disk", YUnit: "KiB", XLabel: "value size", XUnit: "MiB", Better: "lower", Runs: 1,
		Cache: "not applicable", Notes: []string{"pstore splits large bodies into content-defined pages, so an insertion adds about one page; the by-digest baselines store the new body whole; fullsnap rewrites its file"}})
	editWritten := r.figure(&Figure{ID: "putget-dedup-edit-written", Title: "Bytes written to store the value again with one byte inserted",
		YLabel: "bytes written", YUnit: "KiB", XLabel: "value size", XUnit: "MiB", Better: "lower", Runs: 1,
		Cache: "not applicable", Notes: []string{"/proc/self/io write_bytes minus cancelled_write_bytes around the durable put"}})
	smallPut := r.figure(&Figure{ID: "putget-small-put", Title: "Small pins (~100 B) put in one batch, durable",
		YLabel: "put rate", YUnit: "pins/s", XLabel: "pins per batch", XUnit: "pins", Better: "higher",
		Cache: "not applicable (fresh store per run)", Notes: []string{"bodies put by digest then one commit; fullsnap has no by-digest put and is left out"}})
	smallGet := r.figure(&Figure{ID: "putget-small-get", Title: "Small pins read back by digest in random order, warm cache",
		YLabel: "get rate", YUnit: "pins/s", XLabel: "pins per batch", XUnit: "pins", Better: "higher",
		Cache: "warm: store reopened, page cache kept"})

	for _, size := range larges {
		x := float64(size) / mib
		data := randomBytes(newRand(uint64(size)), size)
		edited := insertByte(data, 0x5a)
		for _, sys := range r.systems {
			if err := r.canceled(); err != nil {
				return err
			}
			var pv []float64
			var dir string
			var d plan.Digest
			for run := 0; run < r.runs; run++ {
				var err error
				dir, err = r.dir(fmt.Sprintf("%s-%d", sys.Name, run))
				if err != nil {
					return err
				}
				st, err := sys.Open(dir)
				if err != nil {
					return err
				}
				// A fresh pin each run: its digest is computed inside the
				// timed section, as a first put would.
				p := plan.P(barNat(data))
				t0 := time.Now()
				if _, err := SaveState(st, p); err != nil {
					st.Close()
					return fmt.Errorf("%s: put: %w", sys.Name, err)
				}
				el := time.Since(t0)
				if err := st.Close(); err != nil {
					return err
				}
				pv = append(pv, float64(size)/el.Seconds()/mb)
				d, _ = merkle.Digest(p)
				if run < r.runs-1 {
					removeAll(dir)
				}
			}
			put.Add(sys.Name, x, pv)
			read := func() error {
				st, err := sys.Open(dir)
				if err != nil {
					return err
				}
				defer st.Close()
				var b []byte
				if sl, ok := st.(StateLoader); ok {
					v, err := sl.LoadState()
					if err != nil {
						return err
					}
					sink += sumNatWords(v)
				} else if b, err = st.Get(d); err != nil {
					return err
				}
				sink += sumWords(b)
				return nil
			}
			cv, err := timeRuns(r.runs, func() error { return DropCache(dir) }, read)
			if err != nil {
				return fmt.Errorf("%s: get: %w", sys.Name, err)
			}
			read()
			wv, err := timeRuns(r.runs, nil, read)
			if err != nil {
				return fmt.Errorf("%s: get: %w", sys.Name, err)
			}
			getCold.Add(sys.Name, x, toRate(size, cv))
			getWarm.Add(sys.Name, x, toRate(size, wv))

			// Dedup on the last run's store, which holds data once.
			st, err := sys.Open(dir)
			if err != nil {
				return err
			}
			a0, _, _ := DiskUsage(dir)
			if _, err := SaveState(st, plan.P(barNat(data))); err != nil {
				st.Close()
				return err
			}
			a1, _, _ := DiskUsage(dir)
			w0, _ := procWritten()
			if _, err := SaveState(st, plan.P(barNat(edited))); err != nil {
				st.Close()
				return err
			}
			w1, _ := procWritten()
			if err := st.Close(); err != nil {
				return err
			}
			a2, _, _ := DiskUsage(dir)
			dedupSame.Add(sys.Name, x, []float64{float64(a1-a0) / kib})
			dedupEdit.Add(sys.Name, x, []float64{float64(a2-a1) / kib})
			editWritten.Add(sys.Name, x, []float64{float64(w1-w0) / kib})
			r.logf("%s %s: put %.0f MB/s, get cold %.0f / warm %.0f MB/s, again +%s, edited +%s", sys.Name, humanBytes(int64(size)),
				Summarize(pv).Median, Summarize(toRate(size, cv)).Median, Summarize(toRate(size, wv)).Median, humanBytes(a1-a0), humanBytes(a2-a1))
			removeAll(dir)
		}
	}

	for _, count := range smalls {
		rnd := newRand(uint64(count))
		bodies := make([][]byte, count)
		digests := make([]plan.Digest, count)
		for i := range bodies {
			p := plan.P(barNat(randomBytes(rnd, 92)))
			b, _, err := merkle.Body(p)
			if err != nil {
				return err
			}
			bodies[i] = b
			digests[i], _ = merkle.Digest(p)
		}
		order := rnd.Perm(count)
		for _, sys := range r.systems {
			if sys.Name == "fullsnap" {
				continue
			}
			var pv, gv []float64
			runs := r.runs
			if sys.Name == "flatfs" && count >= 5000 && runs > 1 {
				// One fsync per file, about 1.5 ms each here: one run is
				// enough to see it.
				runs = 1
				smallPut.Notes = append(smallPut.Notes, fmt.Sprintf("flatfs at %d pins: 1 run (one fsync per file)", count))
			}
			for run := 0; run < runs; run++ {
				if err := r.canceled(); err != nil {
					return err
				}
				dir, err := r.dir(fmt.Sprintf("%s-small", sys.Name))
				if err != nil {
					return err
				}
				st, err := sys.Open(dir)
				if err != nil {
					return err
				}
				t0 := time.Now()
				for i, b := range bodies {
					if err := st.Put(digests[i], b); err != nil {
						st.Close()
						return err
					}
				}
				if err := st.Commit(); err != nil {
					st.Close()
					return err
				}
				pv = append(pv, float64(count)/time.Since(t0).Seconds())
				if err := st.Close(); err != nil {
					return err
				}
				if st, err = sys.Open(dir); err != nil {
					return err
				}
				t0 = time.Now()
				for _, i := range order {
					b, err := st.Get(digests[i])
					if err != nil {
						st.Close()
						return fmt.Errorf("%s: get small: %w", sys.Name, err)
					}
					sink += uint64(len(b))
				}
				gv = append(gv, float64(count)/time.Since(t0).Seconds())
				st.Close()
				removeAll(dir)
			}
			smallPut.Add(sys.Name, float64(count), pv)
			smallGet.Add(sys.Name, float64(count), gv)
			r.logf("%s: %d small pins: put %.0f/s, get %.0f/s", sys.Name, count, Summarize(pv).Median, Summarize(gv).Median)
		}
	}
	return nil
}

// sink keeps reads from being optimized away.
var sink uint64

func sumWords(b []byte) uint64 {
	var s uint64
	i := 0
	for ; i+8 <= len(b); i += 8 {
		s += binary.LittleEndian.Uint64(b[i:])
	}
	for ; i < len(b); i++ {
		s += uint64(b[i])
	}
	return s
}

// sumNatWords sums the words of every nat in v (the decoded full
// snapshot (4 bar) holds one).
func sumNatWords(v plan.Value) uint64 {
	var s uint64
	switch x := v.(type) {
	case plan.Nat:
		for _, w := range x.Bits() {
			s += uint64(w)
		}
	case *plan.App:
		s += sumNatWords(x.Fun)
		for _, a := range x.Args {
			s += sumNatWords(a)
		}
	}
	return s
}

func toRate(size int, msv []float64) []float64 {
	out := make([]float64, len(msv))
	for i, v := range msv {
		out[i] = float64(size) / (v / 1000) / mb
	}
	return out
}
