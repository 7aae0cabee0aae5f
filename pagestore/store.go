package pagestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"pstore/merkle"
	"pstore/mmap"
	"pstore/plan"
)

// Options configure Open.
type Options struct {
	// Create makes the directory and an empty store if there is none.
	Create bool
	// ReadOnly opens without the writer lock; the store sees each new
	// commit of the writer at its next operation.
	ReadOnly bool
	// Wait is how long a writer waits for the lock before failing with
	// ErrLocked. Zero means the default, 10 s; negative means do not wait.
	Wait time.Duration
	// NoSync skips fdatasync: nothing is durable. For tests only.
	NoSync bool
	// VerifyOnLoad re-hashes every body (BLAKE3) and page read, instead of
	// only checking its CRC-32C.
	VerifyOnLoad bool
	// SegmentSize is the size at which the writer starts a new segment file
	// (default 1 GiB). A writer policy, not part of the format.
	SegmentSize int64
}

// DefaultWait is the default Options.Wait.
const DefaultWait = 10 * time.Second

const defaultSegmentSize = 1 << 30

// Store is an open page store. All methods are safe for concurrent use by
// goroutines. Byte slices it returns alias read-only mappings: do not modify
// them; they stay valid until Close.
type Store struct {
	dir  string
	opts Options

	lockF *os.File // writer: holds the flock; nil for readers
	metaF *os.File
	// metaMap maps the meta file read-only (readers poll it for commits).
	metaMap []byte

	// view is the commit this store currently reads: replaced atomically
	// by Commit and GC (writer) or refresh (readers).
	view   atomic.Pointer[view]
	closed atomic.Bool

	// wmu serializes writers (Commit, GC, Close) and guards refs, the
	// writer's cached refs map.
	wmu  sync.Mutex
	refs map[string]plan.Digest
	// pendingOffered counts bytes offered by batches that wrote nothing;
	// they reach the commit record with the next commit. Guarded by wmu.
	pendingOffered uint64
	// writeErr poisons the writer after a commit failed part-way (set
	// under wmu).
	writeErr error

	// refreshMu serializes loading a newer commit in a read-only store.
	refreshMu sync.Mutex

	// mapMu guards segs, idxs and oldMaps: the open files and their
	// mappings. Mappings are only added while the store is open; all are
	// unmapped by Close, never earlier, so slices handed out stay valid.
	mapMu   sync.Mutex
	segs    map[uint32]*segment
	idxs    map[uint32]*indexFile
	oldMaps [][]byte

	pinsLoaded atomic.Int64
	pageReads  atomic.Int64
}

// view is one commit: its record and its index. Immutable.
type view struct {
	m   meta
	idx *indexFile
}

type indexFile struct {
	id   uint32
	f    *os.File
	data []byte // read-only mapping of the whole file
}

type segment struct {
	id   uint32
	f    *os.File // read-write for the writer
	data []byte   // latest mapping (read-only); earlier ones are in oldMaps
	size int64    // bytes known to exist in the file
}

func segName(id uint32) string   { return fmt.Sprintf("seg-%08d", id) }
func indexName(id uint32) string { return fmt.Sprintf("index-%08d", id) }

// Open opens (or with opts.Create creates) the store in dir. It reads the
// format header and the commit record and maps the index: it does not scan
// data, so its cost does not depend on the store's size.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Wait == 0 {
		opts.Wait = DefaultWait
	}
	if opts.Wait < 0 {
		opts.Wait = 0
	}
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = defaultSegmentSize
	}
	s := &Store{dir: dir, opts: opts, segs: map[uint32]*segment{}, idxs: map[uint32]*indexFile{}}
	metaPath := filepath.Join(dir, "meta")
	if !opts.ReadOnly {
		if opts.Create {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("pagestore: creating %s: %w", dir, err)
			}
		}
		lf, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%w: %s", ErrNoStore, dir)
			}
			return nil, fmt.Errorf("pagestore: %w", err)
		}
		if err := lockFile(lf, dir, opts.Wait); err != nil {
			lf.Close()
			return nil, err
		}
		s.lockF = lf
		if _, err := os.Stat(metaPath); errors.Is(err, fs.ErrNotExist) {
			if !opts.Create {
				lf.Close()
				return nil, fmt.Errorf("%w: %s", ErrNoStore, dir)
			}
			if err := s.create(); err != nil {
				lf.Close()
				return nil, err
			}
		}
	}
	if err := s.open(metaPath); err != nil {
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

// create writes an empty store: index 1, segment 1 and the meta file, which
// appears last, by rename, so a crash leaves no half-made store.
func (s *Store) create() error {
	m := meta{gen: 1, indexID: 1, indexCap: 1024, firstSeg: 1, activeSeg: 1}
	if err := writeIndexFile(s.dir, m.indexID, make([]byte, indexHdr+entrySize*m.indexCap), m.indexCap, s.opts.NoSync); err != nil {
		return err
	}
	sf, err := os.OpenFile(filepath.Join(s.dir, segName(1)), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("pagestore: %w", err)
	}
	sf.Close()
	b := make([]byte, metaFile)
	copy(b, encodeHeader())
	copy(b[metaSlot(m.gen):], m.encode())
	tmp := filepath.Join(s.dir, "meta.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("pagestore: %w", err)
	}
	if !s.opts.NoSync {
		f, err := os.Open(tmp)
		if err == nil {
			err = f.Sync()
			f.Close()
		}
		if err != nil {
			return fmt.Errorf("pagestore: %w", err)
		}
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, "meta")); err != nil {
		return fmt.Errorf("pagestore: %w", err)
	}
	if !s.opts.NoSync {
		return syncDir(s.dir)
	}
	return nil
}

func metaSlot(gen uint64) int { return pageSize * int(1+gen&1) }

// writeIndexFile writes a complete index file (header filled in here) and
// makes it durable.
func writeIndexFile(dir string, id uint32, b []byte, capacity uint64, noSync bool) error {
	copy(b, indexMagic)
	binary.LittleEndian.PutUint64(b[8:], capacity)
	binary.LittleEndian.PutUint32(b[16:], crc(b[:16]))
	f, err := os.OpenFile(filepath.Join(dir, indexName(id)), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("pagestore: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("pagestore: writing %s: %w", f.Name(), err)
	}
	if !noSync {
		return fdatasync(f)
	}
	return nil
}

func (s *Store) open(metaPath string) error {
	flag := os.O_RDWR
	if s.opts.ReadOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(metaPath, flag, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s", ErrNoStore, s.dir)
		}
		return fmt.Errorf("pagestore: %w", err)
	}
	s.metaF = f
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("pagestore: %w", err)
	}
	if st.Size() < headerSize {
		return fmt.Errorf("%w: %s is %d bytes", ErrBadFormat, metaPath, st.Size())
	}
	hdr := make([]byte, headerSize)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return fmt.Errorf("pagestore: reading %s: %w", metaPath, err)
	}
	if err := checkHeader(hdr, metaPath); err != nil {
		return err
	}
	if st.Size() < metaFile {
		return fmt.Errorf("%w: %s is %d bytes, want %d", ErrCorrupt, metaPath, st.Size(), metaFile)
	}
	if s.metaMap, err = mmap.Map(f, metaFile); err != nil {
		return fmt.Errorf("pagestore: %w", err)
	}
	m, err := s.readMeta()
	if err != nil {
		return err
	}
	if !s.opts.ReadOnly {
		if err := s.recover(m); err != nil {
			return err
		}
	}
	v, err := s.loadView(m)
	if err != nil {
		return err
	}
	s.view.Store(v)
	return nil
}

// readMeta copies both commit records out of the mapping (a concurrent
// writer may be rewriting one: its checksum then fails and the other wins).
func (s *Store) readMeta() (meta, error) {
	b := make([]byte, metaFile)
	copy(b, s.metaMap)
	return pickMeta(b, s.metaF.Name())
}

func (s *Store) loadView(m meta) (*view, error) {
	idx, err := s.indexFile(m.indexID, m.indexCap)
	if err != nil {
		return nil, err
	}
	return &view{m: m, idx: idx}, nil
}

// indexFile opens and maps index id (once per store).
func (s *Store) indexFile(id uint32, capacity uint64) (*indexFile, error) {
	s.mapMu.Lock()
	defer s.mapMu.Unlock()
	if x := s.idxs[id]; x != nil {
		return x, nil
	}
	name := filepath.Join(s.dir, indexName(id))
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("pagestore: index: %w", err)
	}
	size := int64(indexHdr + entrySize*capacity)
	st, err := f.Stat()
	if err == nil && st.Size() < size {
		err = fmt.Errorf("%w: %s is %d bytes, want %d", ErrCorrupt, name, st.Size(), size)
	}
	var data []byte
	if err == nil {
		data, err = mmap.Map(f, int(size))
	}
	if err == nil {
		le := binary.LittleEndian
		switch {
		case string(data[:8]) != indexMagic:
			err = fmt.Errorf("%w: %s offset 0: bad index magic", ErrCorrupt, name)
		case crc(data[:16]) != le.Uint32(data[16:]):
			err = fmt.Errorf("%w: %s offset 0: index header checksum", ErrCorrupt, name)
		case le.Uint64(data[8:]) != capacity:
			err = fmt.Errorf("%w: %s has %d slots, commit record says %d", ErrCorrupt, name, le.Uint64(data[8:]), capacity)
		}
		if err != nil {
			mmap.Unmap(data)
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	x := &indexFile{id: id, f: f, data: data}
	s.idxs[id] = x
	return x, nil
}

// current returns the view to read. A read-only store first looks for a
// newer commit: two 8-byte loads from the mapped meta file when there is
// none.
func (s *Store) current() (*view, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	v := s.view.Load()
	if !s.opts.ReadOnly {
		return v, nil
	}
	g1 := binary.LittleEndian.Uint64(s.metaMap[pageSize+8:])
	g2 := binary.LittleEndian.Uint64(s.metaMap[2*pageSize+8:])
	if g1 <= v.m.gen && g2 <= v.m.gen {
		return v, nil
	}
	return s.refresh()
}

// refresh loads the newest valid commit record (read-only stores).
func (s *Store) refresh() (*view, error) {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	v := s.view.Load()
	for try := 0; ; try++ {
		m, err := s.readMeta()
		if err != nil || m.gen <= v.m.gen {
			return v, nil // keep reading the commit we have
		}
		nv, err := s.loadView(m)
		if errors.Is(err, fs.ErrNotExist) && try < 3 {
			continue // a GC replaced that index meanwhile: read again
		}
		if err != nil {
			return nil, err
		}
		s.view.Store(nv)
		return nv, nil
	}
}

// Refresh makes a read-only store see the writer's latest commit now (every
// operation also does this cheaply). A no-op for the writer.
func (s *Store) Refresh() error {
	if s.closed.Load() {
		return ErrClosed
	}
	if s.opts.ReadOnly {
		_, err := s.refresh()
		return err
	}
	return nil
}

// Close releases the lock, closes the files and unmaps everything: slices
// returned by the store (and nats decoded from them) are invalid
// afterwards. Close must not run concurrently with other calls on s.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return ErrClosed
	}
	s.wmu.Lock() // wait for a running Commit or GC
	defer s.wmu.Unlock()
	return s.closeFiles()
}

func (s *Store) closeFiles() error {
	s.mapMu.Lock()
	defer s.mapMu.Unlock()
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, sg := range s.segs {
		keep(mmap.Unmap(sg.data))
		keep(sg.f.Close())
	}
	for _, x := range s.idxs {
		keep(mmap.Unmap(x.data))
		keep(x.f.Close())
	}
	for _, b := range s.oldMaps {
		keep(mmap.Unmap(b))
	}
	s.segs, s.idxs, s.oldMaps = nil, nil, nil
	if s.metaMap != nil {
		keep(mmap.Unmap(s.metaMap))
		s.metaMap = nil
	}
	if s.metaF != nil {
		keep(s.metaF.Close())
	}
	if s.lockF != nil {
		keep(s.lockF.Close()) // releases the flock
	}
	return first
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// ReadOnly reports whether the store was opened without the writer lock
// (Options.ReadOnly): every write then fails with ErrReadOnly.
func (s *Store) ReadOnly() bool { return s.opts.ReadOnly }

// ---- segments ----

// segmentLocked returns segment id, opening and mapping it on first use.
func (s *Store) segmentLocked(id uint32) (*segment, error) {
	if s.segs == nil {
		return nil, ErrClosed
	}
	if sg := s.segs[id]; sg != nil {
		return sg, nil
	}
	flag := os.O_RDWR
	if s.opts.ReadOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(filepath.Join(s.dir, segName(id)), flag, 0)
	if err != nil {
		return nil, fmt.Errorf("pagestore: segment: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("pagestore: %w", err)
	}
	sg := &segment{id: id, f: f, size: st.Size()}
	s.segs[id] = sg
	return sg, nil
}

// segBytes returns n bytes at off in segment id, from the mapping. The
// bytes must be committed (the caller checked the entry against its view).
func (s *Store) segBytes(id uint32, off uint64, n uint64) ([]byte, error) {
	s.mapMu.Lock()
	defer s.mapMu.Unlock()
	sg, err := s.segmentLocked(id)
	if err != nil {
		return nil, err
	}
	end := off + n
	if end > uint64(sg.size) {
		// A reader may not have seen the writer's appends yet.
		if st, err := sg.f.Stat(); err == nil {
			sg.size = st.Size()
		}
		if end > uint64(sg.size) {
			return nil, fmt.Errorf("%w: %s is %d bytes, record at offset %d needs %d (truncated)",
				ErrCorrupt, segName(id), sg.size, off, end)
		}
	}
	if end > uint64(len(sg.data)) {
		// Map a fresh, larger window; the old one stays mapped until Close
		// because slices of it may be in use.
		want := max(uint64(s.opts.SegmentSize), (uint64(sg.size)+(64<<20)-1)&^((64<<20)-1))
		data, err := mmap.Map(sg.f, int(want))
		if err != nil {
			return nil, fmt.Errorf("pagestore: %w", err)
		}
		if sg.data != nil {
			s.oldMaps = append(s.oldMaps, sg.data)
		}
		sg.data = data
	}
	return sg.data[off:end:end], nil
}

// ---- index lookups ----

// valid reports whether e belongs to commit m: entries of a batch that has
// not committed (or never will) point past the committed end of the active
// segment or into a later segment.
func (m *meta) valid(e *entry) bool {
	if e.seg < m.firstSeg || e.seg > m.activeSeg {
		return false
	}
	return e.seg < m.activeSeg || e.off+uint64(e.n) <= m.activeLen
}

func slotOf(d *plan.Digest, capacity uint64) uint64 {
	return binary.LittleEndian.Uint64(d[:8]) & (capacity - 1)
}

// lookup finds d in v's index. Slots are read from the shared mapping,
// which the writer updates with pwrite; a slot caught half-written fails
// its checksum and is re-read a few times before it is called corrupt.
func (s *Store) lookup(v *view, d plan.Digest) (entry, bool, error) {
	capacity := v.idx.capacity(v)
	mask := capacity - 1
	i := slotOf(&d, capacity)
	for probes := uint64(0); probes < capacity; probes++ {
		o := indexHdr + entrySize*i
		slot := v.idx.data[o : o+entrySize]
		if slot[48] == 0 {
			return entry{}, false, nil
		}
		if string(slot[:32]) == string(d[:]) {
			var e entry
			ok := false
			for try := 0; try < 5; try++ {
				var buf [entrySize]byte
				copy(buf[:], slot)
				if e, ok = getEntry(buf[:]); ok || buf[48] == 0 {
					break
				}
				time.Sleep(time.Duration(try+1) * 200 * time.Microsecond)
			}
			if !ok {
				if slot[48] == 0 {
					return entry{}, false, nil
				}
				return entry{}, false, fmt.Errorf("%w: %s: %s slot %d (offset %d): entry checksum mismatch",
					ErrCorrupt, merkle.CIDOf(d), indexName(v.idx.id), i, o)
			}
			if !v.m.valid(&e) {
				return entry{}, false, nil
			}
			return e, true, nil
		}
		i = (i + 1) & mask
	}
	return entry{}, false, nil
}

func (x *indexFile) capacity(v *view) uint64 { return v.m.indexCap }

// record returns the bytes of e's record, checked against its CRC-32C.
func (s *Store) record(e *entry, what string) ([]byte, error) {
	b, err := s.segBytes(e.seg, e.off, uint64(e.n))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if c := crc(b); c != e.crc {
		return nil, fmt.Errorf("%w: %s: %s offset %d (%d bytes): checksum %08x, want %08x",
			ErrCorrupt, what, segName(e.seg), e.off, e.n, c, e.crc)
	}
	return b, nil
}

func describe(e *entry) string {
	if e.kind == kindPage {
		return "page " + merkle.PageCIDOf(e.d).String()
	}
	return "pin " + merkle.CIDOf(e.d).String()
}

// retry runs op once more against a fresh commit when a read-only store
// finds that a file named by its commit is gone (a GC in the writer).
func (s *Store) retry(op func(v *view) error) error {
	v, err := s.current()
	if err != nil {
		return err
	}
	err = op(v)
	if err != nil && s.opts.ReadOnly && errors.Is(err, fs.ErrNotExist) {
		if v, err2 := s.refresh(); err2 == nil {
			return op(v)
		}
	}
	return err
}

// Has reports whether the body or page with digest d is stored (committed).
func (s *Store) Has(d plan.Digest) bool {
	found := false
	s.retry(func(v *view) error {
		_, ok, err := s.lookup(v, d)
		found = ok && err == nil
		return err
	})
	return found
}

// Body returns the canonical body with digest d. A body stored whole, and a
// large body whose pages lie contiguously in one segment (as on first
// write), is a slice of the read-only mapping (zero copy, valid until
// Close, must not be modified); other large bodies are assembled into a new
// buffer. Each record's CRC-32C is checked (and its BLAKE3 digest with
// Options.VerifyOnLoad). Missing: ErrNotFound; damaged: ErrCorrupt.
func (s *Store) Body(d plan.Digest) ([]byte, error) {
	var out []byte
	err := s.retry(func(v *view) error {
		var err error
		out, err = s.body(v, d)
		return err
	})
	return out, err
}

func (s *Store) body(v *view, d plan.Digest) ([]byte, error) {
	e, ok, err := s.lookup(v, d)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: pin %s", ErrNotFound, merkle.CIDOf(d))
	}
	var b []byte
	if e.kind != kindManifest {
		if b, err = s.record(&e, describe(&e)); err != nil {
			return nil, err
		}
	} else if b, err = s.largeBody(v, &e); err != nil {
		return nil, err
	}
	if s.opts.VerifyOnLoad {
		if got := merkle.HashBytes(b); got != d {
			return nil, fmt.Errorf("%w: pin %s: %s offset %d: body hashes to %x", ErrCorrupt, merkle.CIDOf(d), segName(e.seg), e.off, got[:8])
		}
	}
	return b, nil
}

type located struct {
	PageRef
	e entry
}

// pages resolves a manifest entry to its pages' entries.
func (s *Store) pagesOf(v *view, e *entry) (uint64, []located, error) {
	mb, err := s.record(e, describe(e))
	if err != nil {
		return 0, nil, err
	}
	total, refs, err := decodeManifest(mb)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s: %s offset %d: %v", ErrCorrupt, describe(e), segName(e.seg), e.off, err)
	}
	out := make([]located, len(refs))
	for i, r := range refs {
		pe, ok, err := s.lookup(v, r.Digest)
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			return 0, nil, fmt.Errorf("%w: %s: page %d (%s) is missing", ErrCorrupt, describe(e), i, merkle.PageCIDOf(r.Digest))
		}
		if pe.n != uint32(r.Size) {
			return 0, nil, fmt.Errorf("%w: %s: page %d (%s) is %d bytes, manifest says %d", ErrCorrupt, describe(e), i, merkle.PageCIDOf(r.Digest), pe.n, r.Size)
		}
		out[i] = located{r, pe}
	}
	return total, out, nil
}

func (s *Store) largeBody(v *view, e *entry) ([]byte, error) {
	total, pages, err := s.pagesOf(v, e)
	if err != nil {
		return nil, err
	}
	s.pageReads.Add(int64(len(pages)))
	contiguous := len(pages) > 0 && pages[0].e.off%8 == 0
	for i := 1; contiguous && i < len(pages); i++ {
		p, q := &pages[i-1].e, &pages[i].e
		contiguous = q.seg == p.seg && q.off == p.off+uint64(p.n)
	}
	what := describe(e)
	if contiguous {
		first := &pages[0].e
		b, err := s.segBytes(first.seg, first.off, total)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		off := 0
		for i := range pages {
			pe := &pages[i].e
			if c := crc(b[off : off+int(pe.n)]); c != pe.crc {
				return nil, fmt.Errorf("%w: %s: page %d %s: %s offset %d: checksum %08x, want %08x",
					ErrCorrupt, what, i, merkle.PageCIDOf(pe.d), segName(pe.seg), pe.off, c, pe.crc)
			}
			off += int(pe.n)
		}
		return b, nil
	}
	out := make([]byte, 0, total)
	for i := range pages {
		pe := &pages[i].e
		pb, err := s.record(pe, fmt.Sprintf("%s: page %d %s", what, i, merkle.PageCIDOf(pe.d)))
		if err != nil {
			return nil, err
		}
		out = append(out, pb...)
	}
	return out, nil
}

// Pages returns the pages of the large body d in order; large is false
// (and pages nil) when d is stored whole.
func (s *Store) Pages(d plan.Digest) (pages []PageRef, large bool, err error) {
	err = s.retry(func(v *view) error {
		e, ok, err := s.lookup(v, d)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: pin %s", ErrNotFound, merkle.CIDOf(d))
		}
		if e.kind != kindManifest {
			pages, large = nil, false
			return nil
		}
		_, loc, err := s.pagesOf(v, &e)
		if err != nil {
			return err
		}
		pages = make([]PageRef, len(loc))
		for i := range loc {
			pages[i] = loc[i].PageRef
		}
		large = true
		return nil
	})
	return pages, large, err
}

// Page returns the page (or any stored byte string) with digest p, a slice
// of the mapping (valid until Close; do not modify).
func (s *Store) Page(p plan.Digest) ([]byte, error) {
	var out []byte
	err := s.retry(func(v *view) error {
		e, ok, err := s.lookup(v, p)
		if err != nil {
			return err
		}
		if !ok || e.kind == kindManifest {
			return fmt.Errorf("%w: page %s", ErrNotFound, merkle.PageCIDOf(p))
		}
		s.pageReads.Add(1)
		out, err = s.record(&e, describe(&e))
		if err == nil && s.opts.VerifyOnLoad && merkle.HashBytes(out) != p {
			err = fmt.Errorf("%w: page %s: %s offset %d: bytes do not hash to the digest", ErrCorrupt, merkle.PageCIDOf(p), segName(e.seg), e.off)
		}
		return err
	})
	return out, err
}

// PinsLoaded returns how many pins LoadPin has loaded since Open.
func (s *Store) PinsLoaded() int64 { return s.pinsLoaded.Load() }

// PageReads returns how many pages have been read since Open.
func (s *Store) PageReads() int64 { return s.pageReads.Load() }

// ---- refs ----

// readRefs reads v's refs record.
func (s *Store) readRefs(v *view) (map[string]plan.Digest, error) {
	m := &v.m
	if m.refsLen == 0 {
		return map[string]plan.Digest{}, nil
	}
	b, err := s.record(&entry{seg: m.refsSeg, off: m.refsOff, n: m.refsLen, crc: m.refsCRC}, "refs record")
	if err != nil {
		return nil, err
	}
	refs, err := decodeRefs(b)
	if err != nil {
		return nil, fmt.Errorf("%w: refs record: %s offset %d: %v", ErrCorrupt, segName(m.refsSeg), m.refsOff, err)
	}
	return refs, nil
}

// Refs returns the named roots, as pin digests.
func (s *Store) Refs() (map[string]plan.Digest, error) {
	var out map[string]plan.Digest
	err := s.retry(func(v *view) error {
		var err error
		out, err = s.readRefs(v)
		return err
	})
	return out, err
}

// Ref returns the pin digest named name (ErrNotFound if none).
func (s *Store) Ref(name string) (plan.Digest, error) {
	refs, err := s.Refs()
	if err != nil {
		return plan.Digest{}, err
	}
	d, ok := refs[name]
	if !ok {
		return d, fmt.Errorf("%w: ref %q", ErrNotFound, name)
	}
	return d, nil
}

// ---- stats ----

// Stats describes a store's contents.
type Stats struct {
	Generation   uint64 // commit number
	Pins         uint64 // pin bodies (whole and large)
	LargePins    uint64 // pin bodies stored as pages
	Pages        uint64 // distinct pages
	BytesStored  uint64 // payload bytes: whole bodies and pages
	BytesOffered uint64 // bytes given to PutBody, including duplicates
	BytesDeduped uint64 // BytesOffered - BytesStored (0 if negative, e.g. after GC)
	FileBytes    int64  // size of the store's files on disk
	Segments     int
	IndexSlots   uint64
	GCs          uint64
}

// Stat returns the statistics of the current commit.
func (s *Store) Stat() (Stats, error) {
	v, err := s.current()
	if err != nil {
		return Stats{}, err
	}
	m := v.m
	st := Stats{Generation: m.gen, Pins: m.pins, LargePins: m.large, Pages: m.pages,
		BytesStored: m.stored, BytesOffered: m.offered, IndexSlots: m.indexCap, GCs: m.gcs,
		Segments: int(m.activeSeg-m.firstSeg) + 1}
	if m.offered > m.stored {
		st.BytesDeduped = m.offered - m.stored
	}
	st.FileBytes, _ = DirSize(s.dir)
	return st, nil
}

// DirSize returns the total size of the store files in dir.
func DirSize(dir string) (int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, de := range ents {
		if info, err := de.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
	}
	return n, nil
}

// parseID parses "prefix%08d".
func parseID(name, prefix string) (uint32, bool) {
	if !strings.HasPrefix(name, prefix) {
		return 0, false
	}
	n, err := strconv.ParseUint(name[len(prefix):], 10, 32)
	return uint32(n), err == nil
}
