package pagestore

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"pstore/merkle"
	"pstore/plan"
)

// GCStats reports what a GC did.
type GCStats struct {
	LivePins, LivePages     uint64
	DeadEntries             uint64
	BytesBefore, BytesAfter int64 // size of the store's files
}

// GC keeps every pin reachable from the refs (through child digests, and
// the pages of large bodies) and reclaims the rest, including pages stored
// by Batch.PutPage that no reachable large body lists: it copies the live
// records into new segments (keeping each large body contiguous), writes a
// new index, commits both with one commit record, and only then unlinks the
// old segment and index files. A crash at any point leaves either the old
// or the new commit; recovery deletes the other's files. Slices handed out
// earlier stay valid until Close (the old mappings are kept; the disk space
// of unlinked files returns when every process has closed them).
func (s *Store) GC() (GCStats, error) {
	var st GCStats
	if s.opts.ReadOnly {
		return st, ErrReadOnly
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return st, ErrClosed
	}
	if s.writeErr != nil {
		return st, fmt.Errorf("pagestore: an earlier commit failed half-way; reopen the store: %w", s.writeErr)
	}
	st.BytesBefore, _ = DirSize(s.dir)
	v := s.view.Load()
	refs, err := s.writerRefs(v)
	if err != nil {
		return st, err
	}

	// Mark.
	live := map[plan.Digest]bool{}
	var stack []plan.Digest
	for _, d := range refs {
		stack = append(stack, d)
	}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if live[d] {
			continue
		}
		live[d] = true
		e, ok, err := s.lookup(v, d)
		if err != nil {
			return st, err
		}
		if !ok {
			return st, fmt.Errorf("%w: pin %s is reachable from the refs but missing", ErrCorrupt, merkle.CIDOf(d))
		}
		var body []byte
		if e.kind == kindManifest {
			_, pages, err := s.pagesOf(v, &e)
			if err != nil {
				return st, err
			}
			for _, p := range pages {
				live[p.Digest] = true
			}
			body, err = s.largeBody(v, &e)
			if err != nil {
				return st, err
			}
		} else if body, err = s.record(&e, describe(&e)); err != nil {
			return st, err
		}
		kids, err := merkle.ChildDigests(body)
		if err != nil {
			return st, fmt.Errorf("%w: pin %s: %w", ErrCorrupt, merkle.CIDOf(d), err)
		}
		stack = append(stack, kids...)
	}

	// Collect live entries in file order (which keeps pages in body order).
	var all []entry
	for i := uint64(0); i < v.m.indexCap; i++ {
		o := indexHdr + entrySize*i
		if v.idx.data[o+48] == 0 {
			continue
		}
		e, ok := getEntry(v.idx.data[o : o+entrySize])
		if !ok || !v.m.valid(&e) {
			continue
		}
		if !live[e.d] {
			st.DeadEntries++
			continue
		}
		all = append(all, e)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].seg != all[j].seg {
			return all[i].seg < all[j].seg
		}
		return all[i].off < all[j].off
	})

	m := v.m
	m.gen++
	m.pins, m.pages, m.large, m.stored, m.gcs = 0, 0, 0, 0, m.gcs+1
	copied := map[plan.Digest]bool{}
	var groups []group
	for i := range all {
		e := &all[i]
		switch e.kind {
		case kindWhole:
			b, err := s.record(e, describe(e))
			if err != nil {
				return st, err
			}
			groups = append(groups, group{index: true, recs: []rec{{e: *e, data: b}}})
			m.pins++
			m.stored += uint64(e.n)
		case kindManifest:
			_, pages, err := s.pagesOf(v, e)
			if err != nil {
				return st, err
			}
			g := group{index: true}
			for _, p := range pages {
				if copied[p.Digest] {
					continue
				}
				copied[p.Digest] = true
				b, err := s.record(&p.e, describe(&p.e))
				if err != nil {
					return st, err
				}
				g.recs = append(g.recs, rec{e: p.e, data: b})
				m.pages++
				m.stored += uint64(p.e.n)
			}
			mb, err := s.record(e, describe(e))
			if err != nil {
				return st, err
			}
			g.recs = append(g.recs, rec{e: *e, data: mb})
			groups = append(groups, g)
			m.pins++
			m.large++
		}
	}
	for i := range all {
		// A live page-kind entry that no live manifest listed: a pin body
		// whose bytes equal some page (one namespace for bytes by digest).
		if e := &all[i]; e.kind == kindPage && !copied[e.d] {
			b, err := s.record(e, describe(e))
			if err != nil {
				return st, err
			}
			copied[e.d] = true
			groups = append(groups, group{index: true, recs: []rec{{e: *e, data: b}}})
			m.pages++
			m.stored += uint64(e.n)
		}
	}
	if len(refs) > 0 {
		rb := encodeRefs(refs)
		groups = append(groups, group{recs: []rec{{e: entry{n: uint32(len(rb)), crc: crc(rb)}, data: rb}}})
	}
	first := v.m.activeSeg + 1
	var refsRec *rec
	m.firstSeg = first
	m.activeSeg, m.activeLen, refsRec = layout(groups, first, 0, uint64(s.opts.SegmentSize))
	m.refsLen = 0
	if refsRec != nil {
		m.refsSeg, m.refsOff, m.refsLen, m.refsCRC = refsRec.e.seg, refsRec.e.off, refsRec.e.n, refsRec.e.crc
	}
	var entries []*entry
	for gi := range groups {
		if groups[gi].index {
			for ri := range groups[gi].recs {
				entries = append(entries, &groups[gi].recs[ri].e)
			}
		}
	}
	m.indexCount = uint64(len(entries))
	m.indexCap = nextPow2(m.indexCount * 4)
	m.indexID = v.m.indexID + 1

	w := &segWriter{s: s}
	w.file(first) // the first new segment exists even if nothing is live
	for gi := range groups {
		for ri := range groups[gi].recs {
			r := &groups[gi].recs[ri]
			w.write(r.e.seg, r.e.off, r.data)
		}
	}
	if err := w.finish(m.activeSeg, m.activeLen); err != nil {
		return st, err
	}
	if !s.opts.NoSync {
		if err := w.sync(); err != nil {
			return st, err
		}
	}
	empty := &view{m: meta{indexCap: 1}, idx: &indexFile{data: make([]byte, indexHdr+entrySize)}}
	if err := writeIndexFile(s.dir, m.indexID, s.rebuildIndex(empty, m.indexCap, entries), m.indexCap, s.opts.NoSync); err != nil {
		return st, err
	}
	if !s.opts.NoSync {
		if err := syncDir(s.dir); err != nil {
			return st, err
		}
	}
	if err := s.writeMeta(m); err != nil {
		return st, err
	}
	nv, err := s.loadView(m)
	if err != nil {
		return st, err
	}
	s.view.Store(nv)

	// The old files are no longer named by the commit: unlink them. This
	// process keeps its mappings until Close; other processes keep theirs
	// (unlinked files stay readable through an existing mapping), and a
	// reader that has not opened a file yet finds it gone, reloads the
	// commit record and retries.
	for id := v.m.firstSeg; id <= v.m.activeSeg; id++ {
		os.Remove(filepath.Join(s.dir, segName(id)))
	}
	os.Remove(filepath.Join(s.dir, indexName(v.m.indexID)))
	if !s.opts.NoSync {
		syncDir(s.dir)
	}
	st.LivePins, st.LivePages = m.pins, m.pages
	st.BytesAfter, _ = DirSize(s.dir)
	return st, nil
}
