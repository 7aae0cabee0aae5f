package pagestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"pstore/merkle"
	"pstore/plan"
)

// Batch collects bodies, pages and ref updates that Commit makes durable
// together.
// A Batch is used by one goroutine; several batches may be open at once
// (their commits are serialized). Bodies given to PutBody are not copied:
// the caller must not modify them until Commit returns.
type Batch struct {
	s       *Store
	items   []pending
	seen    map[plan.Digest]struct{}
	refs    map[string]*plan.Digest // nil value: delete
	offered uint64
	done    bool
}

type pending struct {
	d    plan.Digest
	body []byte
	crc  uint32 // whole bodies and pages
	page bool   // from PutPage: stored as a page (kind 3), not a pin
}

func (p *pending) large() bool { return len(p.body) > LargeThreshold }

type pageInfo struct {
	d     plan.Digest
	start int // offset in the body
	n     int
	crc   uint32
}

// NewBatch starts a batch. Nothing is visible or durable before Commit.
func (s *Store) NewBatch() *Batch {
	return &Batch{s: s, seen: map[plan.Digest]struct{}{}, refs: map[string]*plan.Digest{}}
}

// Has reports whether d is stored or already in the batch.
func (b *Batch) Has(d plan.Digest) bool {
	if _, ok := b.seen[d]; ok {
		return true
	}
	return b.s.Has(d)
}

// usable returns why nothing can be added to b, or nil.
func (b *Batch) usable() error {
	switch {
	case b.done:
		return ErrBatchDone
	case b.s.opts.ReadOnly:
		return ErrReadOnly
	case b.s.closed.Load():
		return ErrClosed
	}
	return nil
}

// PutBody adds the canonical body with digest d (the caller computed d,
// normally through merkle; Verify would catch a wrong one). It is a no-op
// if d is stored or already in the batch. Bodies over LargeThreshold are
// split into pages by Commit (chunking, hashing on every CPU and writing in
// one pipeline). body is not copied: do not modify it before Commit.
func (b *Batch) PutBody(d plan.Digest, body []byte) error {
	if err := b.usable(); err != nil {
		return err
	}
	b.offered += uint64(len(body))
	if b.Has(d) {
		return nil
	}
	b.seen[d] = struct{}{}
	p := pending{d: d, body: body}
	if len(body) <= LargeThreshold {
		p.crc = crc(body)
	}
	// A large body is chunked and hashed by Commit, in a pipeline with the
	// writes (streamPages).
	b.items = append(b.items, p)
	return nil
}

// PutPage adds one page (a byte string of 1 to PageMax bytes) with digest
// d, BLAKE3-256 of page, which the caller computed (Verify would catch a
// wrong one). It is stored as a page (index kind 3), deduplicated by digest
// like everything else: a no-op if d is stored or already in the batch.
// It is durable at Commit, with the rest of the batch.
//
// This is for pages that arrive before the body they belong to, such as a
// large body fetched over the network page by page: once stored, a page is
// not written again when PutBody later stores a large body that contains
// it (its page list points to the stored page), and a fetch that was
// interrupted finds it and does not download it again. A page is not a
// pin: it is counted in Stats.Pages and Stats.BytesStored but not in
// Stats.Pins or Stats.BytesOffered, and GC reclaims it unless a large body
// reachable from the refs lists it. page is not copied: do not modify it
// before Commit.
func (b *Batch) PutPage(d plan.Digest, page []byte) error {
	if err := b.usable(); err != nil {
		return err
	}
	if len(page) == 0 || len(page) > PageMax {
		return fmt.Errorf("%w: page %s is %d bytes (1 to %d)", ErrPageSize, merkle.PageCIDOf(d), len(page), PageMax)
	}
	if b.Has(d) {
		return nil
	}
	b.seen[d] = struct{}{}
	b.items = append(b.items, pending{d: d, body: page, crc: crc(page), page: true})
	return nil
}

// streamPages chunks body and hashes its pages, calling out for each page
// in order. The chunker (sequential by nature) hands each page to a pool of
// hashing goroutines as soon as its boundary is found, and out runs as soon
// as the next page is hashed, so chunking, hashing and the caller's writes
// overlap. After an error from out the remaining pages are drained without
// calling it, and the error is returned.
func streamPages(body []byte, out func(p *pageInfo) error) error {
	pages := make([]pageInfo, len(body)/PageMin+1) // upper bound on the count
	work := make(chan int, 256)
	done := make(chan int, len(pages))
	total := make(chan int, 1)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				p := &pages[i]
				pb := body[p.start : p.start+p.n]
				p.d = merkle.HashBytes(pb)
				p.crc = crc(pb)
				done <- i
			}
		}()
	}
	go func() {
		n, off := 0, 0
		for off < len(body) {
			c := cut(body[off:])
			pages[n] = pageInfo{start: off, n: c}
			work <- n
			n++
			off += c
		}
		close(work)
		total <- n
	}()
	var err error
	ready := make([]bool, len(pages))
	n := -1
	for next := 0; n < 0 || next < n; {
		if next < len(ready) && ready[next] {
			if err == nil {
				err = out(&pages[next])
			}
			next++
			continue
		}
		select {
		case i := <-done:
			ready[i] = true
		case n = <-total:
			total = nil
		}
	}
	wg.Wait()
	return err
}

// SetRef names the pin d in the batch's commit. The pin must be stored by
// the time of Commit (or be in the batch).
func (b *Batch) SetRef(name string, d plan.Digest) { b.refs[name] = &d }

// DeleteRef removes the ref name in the batch's commit (no error if absent).
func (b *Batch) DeleteRef(name string) { b.refs[name] = nil }

func checkRefName(name string) error {
	if name == "" || len(name) > 1024 {
		return fmt.Errorf("%w: %q (1 to 1024 bytes)", ErrBadRef, name)
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 0x20 || name[i] == 0x7f {
			return fmt.Errorf("%w: %q has a control byte", ErrBadRef, name)
		}
	}
	return nil
}

// rec is one record to write in a commit.
type rec struct {
	e    entry  // seg/off assigned by layout; indexed unless refs
	data []byte // record bytes
}

// group is records that are written contiguously: a large body's new pages
// then its manifest, or a batch's pages from PutPage, or one whole body, or
// the refs record.
type group struct {
	recs   []rec
	index  bool     // false for the refs record
	stream *pending // a large body, chunked and written by commitLocked
}

// Commit writes the batch and returns once it is durable: segment data is
// fdatasync'd, then the index, then the commit record (see doc.go). On
// error nothing of the batch is visible, and the store stays usable.
func (b *Batch) Commit() error {
	if b.done {
		return ErrBatchDone
	}
	s := b.s
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	if s.writeErr != nil {
		return fmt.Errorf("pagestore: an earlier commit failed half-way; reopen the store: %w", s.writeErr)
	}
	b.done = true
	v := s.view.Load()
	m := v.m
	m.offered += b.offered

	// Decide what to write, dropping what is now stored (another batch may
	// have committed it since PutBody or PutPage). Large bodies come first,
	// each written back to back with its new pages, so a body given whole
	// is contiguous even when some of its pages were also given to PutPage
	// in this batch; then the pages from PutPage, packed back to back in one
	// group (pages given in body order stay contiguous); then whole bodies.
	// commitLocked drops a page or whole body that a large body of this
	// commit already wrote as one of its pages, and counts what it writes.
	var groups, wholes []group
	pages := group{index: true}
	for i := range b.items {
		it := &b.items[i]
		if _, ok, err := s.lookup(v, it.d); err != nil {
			return err
		} else if ok {
			continue
		}
		switch {
		case it.page:
			pages.recs = append(pages.recs, rec{e: entry{d: it.d, n: uint32(len(it.body)), kind: kindPage, crc: it.crc}, data: it.body})
		case it.large():
			groups = append(groups, group{index: true, stream: it})
		default:
			wholes = append(wholes, group{index: true, recs: []rec{{e: entry{d: it.d, n: uint32(len(it.body)), kind: kindWhole, crc: it.crc}, data: it.body}}})
		}
	}
	if len(pages.recs) > 0 {
		groups = append(groups, pages)
	}
	groups = append(groups, wholes...)
	refsChanged := false
	var newRefs map[string]plan.Digest
	if len(b.refs) > 0 {
		old, err := s.writerRefs(v)
		if err != nil {
			return err
		}
		newRefs = make(map[string]plan.Digest, len(old)+len(b.refs))
		for k, d := range old {
			newRefs[k] = d
		}
		for name, d := range b.refs {
			if d == nil {
				if _, ok := newRefs[name]; ok {
					delete(newRefs, name)
					refsChanged = true
				}
				continue
			}
			if err := checkRefName(name); err != nil {
				return err
			}
			if _, ok := b.seen[*d]; !ok && !s.Has(*d) {
				return fmt.Errorf("%w: ref %q names pin %s, which is not stored", ErrNotFound, name, merkle.CIDOf(*d))
			}
			if old, ok := newRefs[name]; !ok || old != *d {
				newRefs[name] = *d
				refsChanged = true
			}
		}
		if refsChanged {
			rb := encodeRefs(newRefs)
			groups = append(groups, group{recs: []rec{{e: entry{n: uint32(len(rb)), crc: crc(rb)}, data: rb}}})
		}
	}
	if len(groups) == 0 {
		if m.offered != v.m.offered {
			// Only deduplicated bodies: record the statistics lazily with
			// the next real commit rather than pay three fsyncs now.
			s.pendingOffered += b.offered
		}
		return nil
	}
	m.offered += s.pendingOffered
	if err := s.commitLocked(v, m, groups); err != nil {
		// The index may hold entries of this batch that later commits
		// would mistake for theirs: stop writing until a reopen runs
		// recovery (which undoes them through the intent record).
		s.writeErr = err
		return err
	}
	s.pendingOffered = 0
	if refsChanged {
		s.refs = newRefs
	}
	return nil
}

// writerRefs returns the writer's refs (cached).
func (s *Store) writerRefs(v *view) (map[string]plan.Digest, error) {
	if s.refs != nil {
		return s.refs, nil
	}
	r, err := s.readRefs(v)
	if err != nil {
		return nil, err
	}
	s.refs = r
	return r, nil
}

// commitLocked lays out groups after the committed end of the active
// segment, writes them, the index and the commit record m (the caller
// updated its offered bytes; commitLocked counts the records it writes).
// Each byte string is written once (one namespace): a large body lists a
// page equal to a record written before it, and a record equal to a page
// of a large body before it is dropped. Holds wmu.
func (s *Store) commitLocked(v *view, m meta, groups []group) error {
	// An upper bound on the entries, to reserve room for the intent record
	// before the number of new pages is known.
	maxEntries := uint64(0)
	streams := 0
	for _, g := range groups {
		if g.stream != nil {
			maxEntries += uint64(len(g.stream.body))/PageMin + 2
			streams++
		} else if g.index {
			maxEntries += uint64(len(g.recs))
		}
	}
	m.gen++

	// 1. Data. The intent record's room comes first, at the committed end;
	// groups follow in order, laid out as they are written.
	seg, pos := m.activeSeg, m.activeLen
	intentPos := pos
	pos = align8(pos + intentHdr + 8*maxEntries)
	segMax := uint64(s.opts.SegmentSize)
	w := &segWriter{s: s}
	var entries []*entry
	var refsRec *rec
	// Digests written so far in this commit, kept only when it has a large
	// body: its pages, and records of other groups while a large body is
	// still to come (it lists such a record instead of writing an equal
	// page again).
	var pageSeen map[plan.Digest]bool
	if streams > 0 {
		pageSeen = map[plan.Digest]bool{}
	}
	for gi := range groups {
		g := &groups[gi]
		if g.stream == nil {
			if g.index && len(pageSeen) > 0 {
				g.recs = slices.DeleteFunc(g.recs, func(r rec) bool { return pageSeen[r.e.d] })
				if len(g.recs) == 0 {
					continue
				}
			}
			seg, pos = layoutGroup(g, seg, pos, segMax)
			for ri := range g.recs {
				r := &g.recs[ri]
				w.write(r.e.seg, r.e.off, r.data)
				if !g.index {
					continue
				}
				entries = append(entries, &r.e)
				if r.e.kind == kindPage {
					m.pages++
				} else {
					m.pins++
				}
				m.stored += uint64(r.e.n)
				if streams > 0 {
					pageSeen[r.e.d] = true
				}
			}
			if !g.index {
				refsRec = &g.recs[0]
			}
			continue
		}
		streams--
		it := g.stream
		if bound := uint64(len(it.body)) + manifestHdr + manifestEntry*(uint64(len(it.body))/PageMin+1); pos > 0 && pos+bound > segMax {
			seg, pos = seg+1, 0
		}
		pos = align8(pos)
		var refs []PageRef
		err := streamPages(it.body, func(p *pageInfo) error {
			refs = append(refs, PageRef{Digest: p.d, Size: p.n})
			if pageSeen[p.d] {
				return nil
			}
			pageSeen[p.d] = true
			if _, ok, err := s.lookup(v, p.d); err != nil || ok {
				return err
			}
			e := &entry{d: p.d, seg: seg, off: pos, n: uint32(p.n), kind: kindPage, crc: p.crc}
			w.write(seg, pos, it.body[p.start:p.start+p.n])
			pos += uint64(p.n)
			entries = append(entries, e)
			m.pages++
			m.stored += uint64(p.n)
			return nil
		})
		if err != nil {
			return err
		}
		man := encodeManifest(uint64(len(it.body)), refs)
		pos = align8(pos)
		e := &entry{d: it.d, seg: seg, off: pos, n: uint32(len(man)), kind: kindManifest, crc: crc(man)}
		w.write(seg, pos, man)
		pos = align8(pos + uint64(len(man)))
		entries = append(entries, e)
		m.pins++
		m.large++
	}
	m.activeSeg, m.activeLen = seg, pos
	if refsRec != nil {
		m.refsSeg, m.refsOff, m.refsLen, m.refsCRC = refsRec.e.seg, refsRec.e.off, refsRec.e.n, refsRec.e.crc
	}
	m.indexCount += uint64(len(entries))
	grow := m.indexCount*2 > m.indexCap

	// Index slots (or a whole new index file when growing), then the
	// intent record listing the slots about to change.
	var slots []uint64
	var newIndex []byte
	if grow {
		m.indexCap = nextPow2(m.indexCount * 4)
		m.indexID = v.m.indexID + 1
		newIndex = s.rebuildIndex(v, m.indexCap, entries)
	} else {
		slots = s.placeEntries(v, entries)
		w.write(v.m.activeSeg, intentPos, encodeIntent(m.gen, v.m.indexID, slots))
	}
	// Zero padding up to the new committed end keeps file size == length.
	if err := w.finish(m.activeSeg, m.activeLen); err != nil {
		return err
	}
	if !s.opts.NoSync {
		if err := w.sync(); err != nil {
			return err
		}
	}

	// 2. Index.
	if grow {
		if err := writeIndexFile(s.dir, m.indexID, newIndex, m.indexCap, s.opts.NoSync); err != nil {
			return err
		}
		if !s.opts.NoSync {
			if err := syncDir(s.dir); err != nil {
				return err
			}
		}
	} else if err := s.writeSlots(v, entries, slots); err != nil {
		return err
	}

	// 3. Commit record.
	if err := s.writeMeta(m); err != nil {
		return err
	}
	nv, err := s.loadView(m)
	if err != nil {
		return err
	}
	s.view.Store(nv)
	if grow {
		os.Remove(filepath.Join(s.dir, indexName(v.m.indexID)))
	}
	return nil
}

func nextPow2(n uint64) uint64 {
	c := uint64(1024)
	for c < n {
		c <<= 1
	}
	return c
}

func (s *Store) writeMeta(m meta) error {
	if _, err := s.metaF.WriteAt(m.encode(), int64(metaSlot(m.gen))); err != nil {
		return fmt.Errorf("pagestore: writing commit record: %w", err)
	}
	if !s.opts.NoSync {
		return fdatasync(s.metaF)
	}
	return nil
}

// placeEntries chooses a free slot for each entry by linear probing in v's
// index, skipping slots taken earlier in the same commit.
func (s *Store) placeEntries(v *view, entries []*entry) []uint64 {
	capacity := v.m.indexCap
	mask := capacity - 1
	taken := make(map[uint64]bool, len(entries))
	slots := make([]uint64, len(entries))
	for k, e := range entries {
		i := slotOf(&e.d, capacity)
		for {
			o := indexHdr + entrySize*i
			if v.idx.data[o+48] == 0 && !taken[i] {
				break
			}
			i = (i + 1) & mask
		}
		taken[i] = true
		slots[k] = i
	}
	return slots
}

// writeSlots writes entries into their slots, a 4 KiB page at a time
// (read-modify-write from the mapping), then syncs the index file.
func (s *Store) writeSlots(v *view, entries []*entry, slots []uint64) error {
	byPage := map[uint64][]int{}
	for k, sl := range slots {
		p := (indexHdr + entrySize*sl) / pageSize
		byPage[p] = append(byPage[p], k)
	}
	pages := make([]uint64, 0, len(byPage))
	for p := range byPage {
		pages = append(pages, p)
	}
	sort.Slice(pages, func(i, j int) bool { return pages[i] < pages[j] })
	f := v.idx.f
	// Direct I/O where possible: see openIndexWriter for the measured
	// write amplification of buffered in-place page writes.
	wf, direct, err := openIndexWriter(f.Name())
	if err != nil {
		return fmt.Errorf("pagestore: %w", err)
	}
	defer wf.Close()
	// Coalesce runs of consecutive pages into one write (at most 1 MiB).
	// The buffer is sized for this commit's pages: a small commit, the
	// common case for databases, must not allocate a megabyte.
	n := min(1<<20, len(pages)*pageSize)
	var buf []byte
	if direct {
		buf = alignedBuf(n)
	} else {
		buf = make([]byte, 0, n)
	}
	var runStart uint64
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		_, err := wf.WriteAt(buf, int64(runStart*pageSize))
		buf = buf[:0]
		return err
	}
	for i, p := range pages {
		if i > 0 && (p != pages[i-1]+1 || len(buf) >= 1<<20) {
			if err := flush(); err != nil {
				return fmt.Errorf("pagestore: writing index: %w", err)
			}
		}
		if len(buf) == 0 {
			runStart = p
		}
		at := len(buf)
		buf = append(buf, v.idx.data[p*pageSize:(p+1)*pageSize]...)
		for _, k := range byPage[p] {
			o := indexHdr + entrySize*slots[k] - p*pageSize
			entries[k].put(buf[at+int(o) : at+int(o)+entrySize])
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("pagestore: writing index: %w", err)
	}
	if !s.opts.NoSync {
		return fdatasync(wf)
	}
	return nil
}

// directAlign is the alignment of buffers for O_DIRECT writes: 4096
// satisfies the logical block size of every common device and file system.
const directAlign = 4096

// alignedBuf returns an empty buffer of capacity n whose first byte is
// directAlign-aligned, as O_DIRECT requires (the write fails with EINVAL
// otherwise). It is cut from a larger heap slice: the Go heap does not move
// objects, and a buffer this size never lives on a goroutine stack, so the
// alignment holds until the garbage collector frees it. There is nothing to
// release and no failure path. reflect gives the address without unsafe.
func alignedBuf(n int) []byte {
	b := make([]byte, n+directAlign)
	off := 0
	if r := int(reflect.ValueOf(b).Pointer() % directAlign); r != 0 {
		off = directAlign - r
	}
	return b[off : off : off+n]
}

// rebuildIndex returns a new index file image of the given capacity with
// every entry valid in v plus entries.
func (s *Store) rebuildIndex(v *view, capacity uint64, entries []*entry) []byte {
	b := make([]byte, indexHdr+entrySize*capacity)
	mask := capacity - 1
	insert := func(e *entry) {
		i := slotOf(&e.d, capacity)
		for b[indexHdr+entrySize*i+48] != 0 {
			i = (i + 1) & mask
		}
		e.put(b[indexHdr+entrySize*i:])
	}
	old := v.idx.data
	for i := uint64(0); i < v.m.indexCap; i++ {
		o := indexHdr + entrySize*i
		if old[o+48] == 0 {
			continue
		}
		e, ok := getEntry(old[o : o+entrySize])
		if !ok || !v.m.valid(&e) {
			continue // a corrupt slot is dropped here; Verify reports it
		}
		insert(&e)
	}
	for _, e := range entries {
		insert(e)
	}
	return b
}

// segWriter writes records to segment files, coalescing adjacent small
// records and starting write-back of large runs early.
type segWriter struct {
	s       *Store
	files   map[uint32]*os.File
	created bool
	buf     []byte
	bufSeg  uint32
	bufOff  uint64
	run     []byte // records written in place from the caller's memory
	runSeg  uint32
	runOff  uint64
	err     error
	dirty   map[uint32]bool
	kicked  map[uint32]uint64 // write-back started up to here
}

func (w *segWriter) file(id uint32) *os.File {
	if f := w.files[id]; f != nil {
		return f
	}
	if w.files == nil {
		w.files, w.dirty, w.kicked = map[uint32]*os.File{}, map[uint32]bool{}, map[uint32]uint64{}
	}
	w.s.mapMu.Lock()
	sg, err := w.s.segmentLocked(id)
	w.s.mapMu.Unlock()
	if errors.Is(err, fs.ErrNotExist) {
		var f *os.File
		f, err = os.OpenFile(filepath.Join(w.s.dir, segName(id)), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err == nil {
			f.Close()
			w.created = true
			w.s.mapMu.Lock()
			sg, err = w.s.segmentLocked(id)
			w.s.mapMu.Unlock()
		}
	}
	if err != nil {
		w.err = err
		return nil
	}
	w.files[id] = sg.f
	return sg.f
}

func (w *segWriter) flush() {
	if len(w.buf) == 0 || w.err != nil {
		w.buf = w.buf[:0]
		return
	}
	w.writeAt(w.bufSeg, w.bufOff, w.buf)
	w.buf = w.buf[:0]
}

func (w *segWriter) writeAt(id uint32, off uint64, b []byte) {
	f := w.file(id)
	if f == nil {
		return
	}
	if _, err := f.WriteAt(b, int64(off)); err != nil {
		w.err = fmt.Errorf("pagestore: writing %s: %w", f.Name(), err)
		return
	}
	w.dirty[id] = true
	end := off + uint64(len(b))
	if k := w.kicked[id]; end-k >= 32<<20 && !w.s.opts.NoSync {
		startWriteback(f, int64(k), int64(end-k))
		w.kicked[id] = end
	}
}

func (w *segWriter) write(id uint32, off uint64, b []byte) {
	if w.err != nil || len(b) == 0 {
		return
	}
	// Consecutive pages of one body are consecutive in memory too: write
	// them straight from the caller's slice, as one run, without copying.
	if n := len(w.run); n > 0 && id == w.runSeg && off == w.runOff+uint64(n) &&
		cap(w.run)-n >= len(b) && &w.run[:n+1][n] == &b[0] {
		w.run = w.run[:n+len(b)]
		if len(w.run) >= 64<<20 {
			w.flushRun()
		}
		return
	}
	w.flushRun()
	if len(b) >= 16<<10 {
		w.flush()
		w.run, w.runSeg, w.runOff = b, id, off
		return
	}
	if len(w.buf) > 0 && (id != w.bufSeg || off < w.bufOff+uint64(len(w.buf))) {
		w.flush()
	}
	if len(w.buf) > 0 && off > w.bufOff+uint64(len(w.buf)) {
		if gap := off - w.bufOff - uint64(len(w.buf)); gap < 8 {
			w.buf = append(w.buf, make([]byte, gap)...)
		} else {
			w.flush()
		}
	}
	if len(w.buf) == 0 {
		w.bufSeg, w.bufOff = id, off
	}
	w.buf = append(w.buf, b...)
	if len(w.buf) >= 4<<20 {
		w.flush()
	}
}

func (w *segWriter) flushRun() {
	if len(w.run) > 0 && w.err == nil {
		w.writeAt(w.runSeg, w.runOff, w.run)
	}
	w.run = nil
}

// finish flushes and pads the last segment to its committed length, and
// records the new sizes for readers in this process.
func (w *segWriter) finish(lastSeg uint32, end uint64) error {
	w.flushRun()
	w.flush()
	if w.err != nil {
		return w.err
	}
	f := w.file(lastSeg)
	if w.err != nil {
		return w.err
	}
	if err := f.Truncate(int64(end)); err != nil {
		return fmt.Errorf("pagestore: %w", err)
	}
	w.dirty[lastSeg] = true
	w.s.mapMu.Lock()
	for id := range w.dirty {
		if sg := w.s.segs[id]; sg != nil {
			if st, err := sg.f.Stat(); err == nil {
				sg.size = st.Size()
			}
		}
	}
	w.s.mapMu.Unlock()
	return nil
}

func (w *segWriter) sync() error {
	ids := make([]uint32, 0, len(w.dirty))
	for id := range w.dirty {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if err := fdatasync(w.files[id]); err != nil {
			return err
		}
	}
	if w.created {
		return syncDir(w.s.dir)
	}
	return nil
}

// recover runs when a writer opens: it undoes the index slots of a batch
// that wrote its data but never committed (its intent record lies at the
// committed end of the active segment), cuts the active segment back to its
// committed length, and deletes files no commit names (segments outside
// firstSeg..activeSeg, other index files: leftovers of a crashed commit or
// GC, or of a GC whose old files were still in use).
func (s *Store) recover(m meta) error {
	active := filepath.Join(s.dir, segName(m.activeSeg))
	sf, err := os.OpenFile(active, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("pagestore: active segment: %w", err)
	}
	defer sf.Close()
	st, err := sf.Stat()
	if err != nil {
		return fmt.Errorf("pagestore: %w", err)
	}
	if uint64(st.Size()) > m.activeLen {
		if slots, ok := readIntent(sf, m); ok {
			if err := s.undoSlots(m, slots); err != nil {
				return err
			}
		}
		truncations.Add(1)
		if err := sf.Truncate(int64(m.activeLen)); err != nil {
			return fmt.Errorf("pagestore: truncating %s: %w", active, err)
		}
		if !s.opts.NoSync {
			if err := fdatasync(sf); err != nil {
				return err
			}
		}
	}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("pagestore: %w", err)
	}
	removed := false
	for _, de := range ents {
		name := de.Name()
		if id, ok := parseID(name, "seg-"); ok && (id < m.firstSeg || id > m.activeSeg) {
			os.Remove(filepath.Join(s.dir, name))
			removed = true
		} else if id, ok := parseID(name, "index-"); ok && id != m.indexID {
			os.Remove(filepath.Join(s.dir, name))
			removed = true
		} else if name == "meta.tmp" {
			os.Remove(filepath.Join(s.dir, name))
		}
	}
	if removed && !s.opts.NoSync {
		return syncDir(s.dir)
	}
	return nil
}

// undoSlots clears the listed slots of the current index when they hold an
// entry that the commit m does not cover.
func (s *Store) undoSlots(m meta, slots []uint64) error {
	f, err := os.OpenFile(filepath.Join(s.dir, indexName(m.indexID)), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("pagestore: index: %w", err)
	}
	defer f.Close()
	var zero, buf [entrySize]byte
	for _, sl := range slots {
		if sl >= m.indexCap {
			continue
		}
		o := int64(indexHdr + entrySize*sl)
		if _, err := f.ReadAt(buf[:], o); err != nil {
			return fmt.Errorf("pagestore: reading %s: %w", f.Name(), err)
		}
		if buf[48] == 0 {
			continue
		}
		if e, ok := getEntry(buf[:]); ok && m.valid(&e) {
			continue
		}
		if _, err := f.WriteAt(zero[:], o); err != nil {
			return fmt.Errorf("pagestore: writing %s: %w", f.Name(), err)
		}
		undoneSlots.Add(1)
	}
	if !s.opts.NoSync {
		return fdatasync(f)
	}
	return nil
}

// readIntent reads the intent record at the committed end of the active
// segment, if the batch after commit m left one.
func readIntent(sf *os.File, m meta) ([]uint64, bool) {
	hdr := make([]byte, intentHdr)
	if _, err := sf.ReadAt(hdr, int64(m.activeLen)); err != nil {
		return nil, false
	}
	if _, _, _, ok := decodeIntent(hdr); !ok && (string(hdr[:8]) != intentMagic || crc(hdr[:24]) != binary.LittleEndian.Uint32(hdr[24:])) {
		return nil, false
	}
	n := uint64(binary.LittleEndian.Uint32(hdr[20:]))
	full := make([]byte, intentHdr+8*n)
	if _, err := sf.ReadAt(full, int64(m.activeLen)); err != nil {
		return nil, false
	}
	gen, idxID, slots, ok := decodeIntent(full)
	if !ok || gen != m.gen+1 || idxID != m.indexID {
		return nil, false
	}
	return slots, true
}

// layout assigns segment positions to the records of groups, starting at
// (seg, pos), and returns the end position and the refs record, if any.
func layout(groups []group, seg uint32, pos, segMax uint64) (uint32, uint64, *rec) {
	var refsRec *rec
	for gi := range groups {
		seg, pos = layoutGroup(&groups[gi], seg, pos, segMax)
		if !groups[gi].index {
			refsRec = &groups[gi].recs[0]
		}
	}
	return seg, pos, refsRec
}

// layoutGroup places one group at (seg, pos). A group that does not fit in
// the rest of a non-empty segment starts a new one; pages of a group are
// packed without padding so a large body is contiguous; every group and
// every non-page record starts 8-aligned.
func layoutGroup(g *group, seg uint32, pos, segMax uint64) (uint32, uint64) {
	size := uint64(0)
	for _, r := range g.recs {
		size = align8(size + uint64(len(r.data)))
	}
	if pos > 0 && pos+size > segMax {
		seg, pos = seg+1, 0
	}
	pos = align8(pos)
	for ri := range g.recs {
		r := &g.recs[ri]
		if r.e.kind != kindPage {
			pos = align8(pos)
		}
		r.e.seg, r.e.off = seg, pos
		pos += uint64(len(r.data))
	}
	return seg, align8(pos)
}

// Recovery counters, for tests (they show which crash paths were taken).
var undoneSlots, truncations atomic.Int64
