package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"

	"pstore/pagestore"
	"pstore/plan"
	"pstore/torrent"
)

// runTorrent: fetch over BitTorrent between two page stores on loopback
// (one seeder, one fetcher, in this process, connected directly; no DHT,
// no trackers): throughput for one large value, pins per second and
// set-up time for a DAG of small pins, and the bytes an incremental fetch
// of an edited version transfers.
func runTorrent(r *runner) error {
	size := pick(r, 1<<20, 16<<20, 256<<20)
	npins := pick(r, 100, 1000, 10_000)
	ctx := r.ctx
	// A fetch that stalls must not hold the whole run hostage.
	timeout := pick(r, 30*time.Second, 60*time.Second, 5*time.Minute)
	thr := r.figure(&Figure{ID: "torrent-fetch-throughput", Title: "BitTorrent fetch on loopback: one large value",
		YLabel: "fetch throughput", YUnit: "MB/s", XLabel: "value size", XUnit: "MiB", Better: "higher",
		Cache: "the seeder's store is warm (just written); each run fetches into a fresh empty store",
		Notes: []string{"pstore only: the bridge is pstore's; wall time from Fetch call to durable root, including the metadata exchange",
			"the value is random bytes under a root pin"}})
	setup := r.figure(&Figure{ID: "torrent-setup", Title: "BitTorrent fetch set-up (metadata exchange) on loopback",
		YLabel: "set-up time", YUnit: "ms", XLabel: "DAG", Categorical: true, Better: "lower",
		Cache: "each run fetches into a fresh empty store"})
	pins := r.figure(&Figure{ID: "torrent-dag-pins-per-second", Title: "BitTorrent fetch on loopback: DAG of small pins",
		YLabel: "fetch rate", YUnit: "pins/s", XLabel: "pins in the DAG", XUnit: "pins", Better: "higher",
		Cache: "each run fetches into a fresh empty store"})
	incr := r.figure(&Figure{ID: "torrent-incremental", Title: "Incremental fetch: version 2 (one byte inserted) after version 1",
		YLabel: "data fetched", YUnit: "KiB", XLabel: "value size", XUnit: "MiB", Better: "lower",
		Cache: "the fetcher holds version 1", Notes: []string{"useful data bytes received (Stats.Fetched); the value is stored as content-defined pages, so most of version 2 is already held"}})

	seedDir, err := r.dir("seeder")
	if err != nil {
		return err
	}
	src, err := pagestore.Open(seedDir, pagestore.Options{Create: true, Wait: -1})
	if err != nil {
		return err
	}
	defer src.Close()
	data := randomBytes(newRand(99), size)
	// A version is a root pin naming the value's pin and a small one, the
	// shape of a database snapshot.
	version := func(b []byte) *plan.Pin {
		return plan.P(plan.A(plan.N(1), plan.P(barNat(b)), plan.P(plan.N(42))))
	}
	v1 := version(data)
	v2 := version(insertByte(data, 0x5a))
	dag := plan.P(plan.N(0))
	{
		rnd := newRand(5)
		kids := make([]plan.Value, npins)
		for i := range kids {
			kids[i] = plan.P(barNat(randomBytes(rnd, 100)))
		}
		// Two levels so no body is huge: groups of 100 under the root.
		var groups []plan.Value
		for i := 0; i < len(kids); i += 100 {
			groups = append(groups, plan.P(plan.A(plan.N(uint64(i)), kids[i:min(i+100, len(kids))]...)))
		}
		dag = plan.P(plan.A(plan.N(1), groups...))
	}
	var rootCIDs []cid.Cid
	for _, p := range []*plan.Pin{v1, v2, dag} {
		c, err := src.PutPin(p)
		if err != nil {
			return err
		}
		rootCIDs = append(rootCIDs, c)
	}
	dagPins := npins + (npins+99)/100 + 1
	t0 := time.Now()
	seeder, err := torrent.Seed(ctx, torrent.StoreAdapter{S: src}, rootCIDs, torrent.Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer seeder.Close()
	r.logf("seeding 3 torrents on %s (built in %.0f ms)", seeder.Addr(), ms(time.Since(t0)))
	mags := seeder.Magnets()

	fetch := func(dst *pagestore.Store, i int) (torrent.Stats, error) {
		fctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		_, stats, err := torrent.Fetch(fctx, torrent.StoreAdapter{S: dst}, mags[i], torrent.FetchOptions{Config: torrent.Config{ListenAddr: "127.0.0.1:0"}, Peers: []string{seeder.Addr()}})
		return stats, err
	}
	fresh := func(name string) (*pagestore.Store, string, error) {
		d, err := r.dir(name)
		if err != nil {
			return nil, "", err
		}
		st, err := pagestore.Open(d, pagestore.Options{Create: true, Wait: -1})
		return st, d, err
	}

	var tv, sv, pv, dsv []float64
	for run := 0; run < r.runs; run++ {
		if err := r.canceled(); err != nil {
			return err
		}
		dst, d, err := fresh("fetch")
		if err != nil {
			return err
		}
		t0 := time.Now()
		st, err := fetch(dst, 0)
		el := time.Since(t0)
		if err != nil {
			dst.Close()
			return fmt.Errorf("fetch v1: %w", err)
		}
		tv = append(tv, float64(st.Size)/el.Seconds()/mb)
		sv = append(sv, ms(st.MetadataTime))
		if run == 0 {
			// Incremental: version 2 into the store holding version 1.
			st2, err := fetch(dst, 1)
			if err != nil {
				dst.Close()
				return fmt.Errorf("fetch v2: %w", err)
			}
			incr.Add("pstore", float64(size)/mib, []float64{float64(st2.Fetched) / kib})
			r.logf("incremental: v2 fetched %s of %s", humanBytes(st2.Fetched), humanBytes(st2.Size))
		}
		dst.Close()
		removeAll(d)

		dst, d, err = fresh("fetch-dag")
		if err != nil {
			return err
		}
		t0 = time.Now()
		st, err = fetch(dst, 2)
		el = time.Since(t0)
		dst.Close()
		removeAll(d)
		if err != nil {
			return fmt.Errorf("fetch dag: %w", err)
		}
		pv = append(pv, float64(dagPins)/el.Seconds())
		dsv = append(dsv, ms(st.MetadataTime))
	}
	thr.Add("pstore", float64(size)/mib, tv)
	pins.Add("pstore", float64(dagPins), pv)
	setup.AddLabel("pstore", fmt.Sprintf("value %s", humanBytes(int64(size))), 0, sv)
	setup.AddLabel("pstore", fmt.Sprintf("DAG of %d pins", dagPins), 1, dsv)
	r.logf("fetch %s: %.0f MB/s (set-up %.0f ms); DAG %d pins: %.0f pins/s (set-up %.0f ms)", humanBytes(int64(size)),
		Summarize(tv).Median, Summarize(sv).Median, dagPins, Summarize(pv).Median, Summarize(dsv).Median)
	return nil
}
