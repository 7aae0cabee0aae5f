package torrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	g "github.com/anacrolix/generics"
	atorrent "github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
	infohash_v2 "github.com/anacrolix/torrent/types/infohash-v2"
	"github.com/ipfs/go-cid"

	"pstore/merkle"
	"pstore/pagestore"
	"pstore/plan"
)

// FetchOptions configure a fetch.
type FetchOptions struct {
	Config
	// Peers are host:port addresses to connect to (besides any "x.pe" in
	// the magnet link and whatever DHT/trackers find if enabled).
	Peers []string
	// Root, if defined, is the CID the caller asked for: the torrent's
	// root must be this CID (else ErrRootMismatch). When undefined, the
	// magnet link's display name, if any, is the expected root.
	Root cid.Cid
	// Progress, if set, is called about every ProgressInterval (default
	// 250 ms) and once at the end, from one goroutine.
	Progress         func(Progress)
	ProgressInterval time.Duration
}

// Progress is a snapshot of a running fetch.
type Progress struct {
	Phase    string        // "metadata", "data" or "done"
	Root     cid.Cid       // undefined until the metadata is known
	Size     int64         // stream length: all the DAG's bodies
	Have     int64         // bytes of pieces held locally before the fetch
	Fetched  int64         // useful data bytes received from peers
	WireRead int64         // all bytes read from peers (protocol included)
	Rate     float64       // bytes/s of data over the last interval
	Peers    int           // connected peers
	Pins     int           // pins in the DAG
	PinsDone int           // pins stored (held before or committed by the fetch)
	Elapsed  time.Duration // since the fetch started
}

// Stats is the summary of a finished fetch.
type Stats struct {
	Root         cid.Cid
	InfoHash     [32]byte
	Pins         int   // pins in the DAG
	PinsFetched  int   // pins committed by this fetch
	Size         int64 // stream length
	Have         int64 // bytes of pieces already held locally
	Fetched      int64 // useful data bytes received
	WireRead     int64 // all bytes read from peers
	MetadataTime time.Duration
	Duration     time.Duration
}

// Fetch downloads the pin DAG named by a magnet link or a .torrent file
// path into dst, verifying every page and body against its CID before it
// is stored, and returns the root CID. What dst already holds is not
// downloaded again; an interrupted fetch resumes from what was committed:
// whole pins and the verified pages of a large body that was not complete
// (see doc.go, "Resuming").
// It stops at ctx's deadline with ErrTimeout.
func Fetch(ctx context.Context, dst Sink, magnetOrFile string, opts FetchOptions) (cid.Cid, Stats, error) {
	if strings.HasPrefix(magnetOrFile, "magnet:") {
		m, err := metainfo.ParseMagnetV2Uri(magnetOrFile)
		if err != nil {
			return cid.Undef, Stats{}, fmt.Errorf("torrent: magnet link: %w", err)
		}
		if !m.V2InfoHash.Ok {
			return cid.Undef, Stats{}, fmt.Errorf("%w: magnet link has no v2 infohash (urn:btmh)", ErrNotPstore)
		}
		if !opts.Root.Defined() && m.DisplayName != "" {
			r, err := merkle.ParseCID(m.DisplayName)
			if err != nil {
				return cid.Undef, Stats{}, fmt.Errorf("%w: magnet display name %q is not a pin CID", ErrNotPstore, m.DisplayName)
			}
			opts.Root = r
		}
		opts.Peers = append(opts.Peers, m.Params["x.pe"]...)
		return fetch(ctx, dst, m.V2InfoHash.Value, nil, opts)
	}
	f, err := os.Open(magnetOrFile)
	if err != nil {
		return cid.Undef, Stats{}, fmt.Errorf("torrent: %w", err)
	}
	defer f.Close()
	mi, err := metainfo.Load(f)
	if err != nil {
		return cid.Undef, Stats{}, fmt.Errorf("%w: %s: %v", ErrNotPstore, magnetOrFile, err)
	}
	return FetchMetaInfo(ctx, dst, mi, opts)
}

// FetchMetaInfo is Fetch from a parsed .torrent file.
func FetchMetaInfo(ctx context.Context, dst Sink, mi *metainfo.MetaInfo, opts FetchOptions) (cid.Cid, Stats, error) {
	l, err := ParseInfo(mi.InfoBytes, opts.Limits)
	if err != nil {
		return cid.Undef, Stats{}, err
	}
	return fetch(ctx, dst, l.infoHash, l.infoBytes, opts)
}

func fetch(ctx context.Context, dst Sink, ih infohash_v2.T, infoBytes []byte, opts FetchOptions) (cid.Cid, Stats, error) {
	start := time.Now()
	st := Stats{InfoHash: ih}
	interval := opts.ProgressInterval
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	report := func(p Progress) {
		if opts.Progress != nil {
			p.Elapsed = time.Since(start)
			opts.Progress(p)
		}
	}
	timeout := func(t *atorrent.Torrent, phase string) error {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w: %s after %v with %d peers connected", ErrTimeout, phase, time.Since(start).Round(time.Millisecond), t.Stats().ActivePeers)
		}
		return ctx.Err()
	}
	if infoBytes == nil {
		// The metadata comes first, through a client of its own that is
		// then closed: anacrolix v1.59.1 marks a connection as v2 (able to
		// exchange BEP 52 piece hashes) only if the torrent knew its v2
		// infohash when the connection was made, which a torrent added by
		// magnet does not; and re-adding a dropped infohash to the same
		// client leaves it never requesting pieces.
		b, err := fetchInfo(ctx, ih, opts, tick.C, report, timeout)
		if err != nil {
			return cid.Undef, st, err
		}
		infoBytes = b
		st.MetadataTime = time.Since(start)
	}
	cl, err := newClient(opts.Config, false)
	if err != nil {
		return cid.Undef, st, err
	}
	defer cl.Close()
	l, err := ParseInfo(infoBytes, opts.Limits)
	if err != nil {
		return cid.Undef, st, err
	}
	if l.infoHash != ih {
		return cid.Undef, st, fmt.Errorf("%w: info dictionary hashes to %x, expected %x", ErrCorrupt, l.infoHash, ih)
	}
	st.Root, st.Pins, st.Size = l.Root, len(l.pins), l.total
	if opts.Root.Defined() && !opts.Root.Equals(l.Root) {
		return cid.Undef, st, fmt.Errorf("%w: asked for %s, the torrent's root is %s", ErrRootMismatch, opts.Root, l.Root)
	}
	f, err := newFetchState(l, dst)
	if err != nil {
		return cid.Undef, st, err
	}
	st.Have = f.have
	t := addTorrent(cl, ih, infoBytes, &fetchStorage{f: f})
	if mi := l.MetaInfo(); mi.PieceLayers != nil {
		if errs := t.AddPieceLayers(mi.PieceLayers); len(errs) > 0 {
			return cid.Undef, st, fmt.Errorf("%w: piece layers: %w", ErrCorrupt, errors.Join(errs...))
		}
	}
	f.start()
	defer f.stop()
	t.DownloadAll()
	// In stream order: among pieces equally available, anacrolix requests
	// readahead-priority pieces by index, and others in a random order
	// fixed per torrent. In order, the pages of a large body complete one
	// after another and are committed as they come (what an interrupted
	// fetch resumes from), instead of most of them waiting for a last
	// piece until near the end; the store's writes are sequential too.
	for _, file := range t.Files() {
		file.SetPriority(atorrent.PiecePriorityReadahead)
	}
	// Peers last: a connection works out what to request when it starts,
	// and is not told when piece hashes are added later.
	connect(t, opts)
	var lastBytes int64
	lastTime := time.Now()
	progress := func(phase string) Progress {
		s := t.Stats()
		fetched := s.BytesReadUsefulData.Int64()
		now := time.Now()
		rate := float64(fetched-lastBytes) / now.Sub(lastTime).Seconds()
		lastBytes, lastTime = fetched, now
		return Progress{Phase: phase, Root: l.Root, Size: l.total, Have: f.have, Fetched: fetched,
			WireRead: s.BytesRead.Int64(), Rate: rate, Peers: s.ActivePeers, Pins: len(l.pins),
			PinsDone: f.pinsHad + int(f.committed.Load())}
	}
	for {
		select {
		case <-f.done:
		case <-ctx.Done():
			return cid.Undef, st, timeout(t, fmt.Sprintf("no peer sent the rest of the data: %d of %d bytes fetched", usefulRead(t), l.total-f.have))
		case <-tick.C:
			report(progress("data"))
			continue
		}
		break
	}
	if err := f.failure(); err != nil {
		return cid.Undef, st, err
	}
	p := progress("done")
	report(p)
	st.Fetched, st.WireRead, st.PinsFetched = p.Fetched, p.WireRead, int(f.committed.Load())
	st.Duration = time.Since(start)
	return l.Root, st, nil
}

func connect(t *atorrent.Torrent, opts FetchOptions) {
	if len(opts.Trackers) > 0 {
		t.AddTrackers([][]string{opts.Trackers})
	}
	t.AddPeers(peerInfos(opts.Peers))
}

// fetchInfo gets the info dictionary of a magnet link from peers.
func fetchInfo(ctx context.Context, ih infohash_v2.T, opts FetchOptions,
	tick <-chan time.Time, report func(Progress), timeout func(*atorrent.Torrent, string) error) ([]byte, error) {
	cl, err := newClient(opts.Config, false)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	t := addTorrent(cl, ih, nil, metadataOnly{})
	connect(t, opts)
	for {
		select {
		case <-t.GotInfo():
			mi := t.Metainfo()
			return mi.InfoBytes, nil
		case <-ctx.Done():
			return nil, timeout(t, "no peer sent the metadata")
		case <-tick:
			s := t.Stats()
			report(Progress{Phase: "metadata", WireRead: s.BytesRead.Int64(), Peers: s.ActivePeers})
		}
	}
}

// fetchStorage is the storage of the fetching torrent.
type fetchStorage struct{ f *fetchState }

func (s *fetchStorage) OpenTorrent(ctx context.Context, info *metainfo.Info, ih metainfo.Hash) (storage.TorrentImpl, error) {
	return storage.TorrentImpl{
		PieceWithHash: func(p metainfo.Piece, _ g.Option[[]byte]) storage.PieceImpl {
			return fetchPiece{f: s.f, i: p.Index()}
		},
		Close: func() error { return nil },
	}, nil
}

// metadataOnly is the storage of the torrent that only gets the info:
// nothing is complete and nothing is ever requested.
type metadataOnly struct{}

func (metadataOnly) OpenTorrent(ctx context.Context, info *metainfo.Info, ih metainfo.Hash) (storage.TorrentImpl, error) {
	return storage.TorrentImpl{
		PieceWithHash: func(p metainfo.Piece, _ g.Option[[]byte]) storage.PieceImpl { return noPiece{} },
		Close:         func() error { return nil },
	}, nil
}

type noPiece struct{}

func (noPiece) ReadAt([]byte, int64) (int, error)  { return 0, errNoData }
func (noPiece) WriteAt([]byte, int64) (int, error) { return 0, errNoData }
func (noPiece) MarkComplete() error                { return errNoData }
func (noPiece) MarkNotComplete() error             { return nil }
func (noPiece) Completion() storage.Completion     { return storage.Completion{Ok: true} }

var errNoData = errors.New("torrent: metadata-only torrent has no data")

// fetchState is the storage of one fetch: pieces being downloaded are
// buffered in memory; a verified piece is copied into the bodies it
// covers; a complete body is verified against its CID (pages too) and
// handed to the committer, which stores bodies children first.
type fetchState struct {
	l   *Layout
	dst Sink
	// have is the number of stream bytes in pieces held locally.
	have    int64
	pinsHad int

	// mu guards pieces and bodies.
	mu     sync.Mutex
	pieces []fpiece
	bodies []fbody

	verifyq chan int // body indexes, complete and ready to verify

	// commit state (guarded by cmu).
	cmu        sync.Mutex
	queued     map[plan.Digest]bool          // in a batch or stored
	waiting    map[plan.Digest][]plan.Digest // child -> parents waiting for it
	pend       map[plan.Digest]*pendBody
	batch      []BodyPut
	batchIdx   []int
	pages      []PagePut     // verified pages of bodies not yet queued
	pagePins   []plan.Digest // pagePins[k]: the pin pages[k] belongs to
	batchBytes int64
	kick       chan struct{}

	committed atomic.Int64
	errOnce   sync.Once
	err       error
	done      chan struct{} // closed on success (root stored) or failure
	doneOnce  sync.Once
	stopc     chan struct{}
	wg        sync.WaitGroup
}

type fpiece struct {
	local bool   // all its bytes are held locally
	done  bool   // verified and copied into its bodies
	buf   []byte // data being downloaded
}

type fbody struct {
	skip    bool   // the pin is stored already
	pending int    // pieces covering it still to come
	buf     []byte // the body being assembled; nil before the first piece and after commit
	stored  bool
	// For a paged body: per page, the pieces covering it still to come
	// (0 for a page held locally), and whether it has been checked
	// against its page CID during the fetch (verify skips those).
	pagePending []int32
	pageOK      []bool
}

// arrivedPage is a page whose last piece has just been copied into its
// body's buffer. b aliases that buffer, which is never written there again.
type arrivedPage struct {
	i, j int
	b    []byte
}

type pendBody struct {
	idx     int
	body    []byte
	missing int
}

func newFetchState(l *Layout, dst Sink) (*fetchState, error) {
	f := &fetchState{
		l: l, dst: dst,
		pieces:  make([]fpiece, l.NumPieces()),
		bodies:  make([]fbody, len(l.pins)),
		verifyq: make(chan int, len(l.pins)),
		queued:  map[plan.Digest]bool{},
		waiting: map[plan.Digest][]plan.Digest{},
		pend:    map[plan.Digest]*pendBody{},
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		stopc:   make(chan struct{}),
	}
	// Which pins and pages are here already.
	pageLocal := make([][]bool, len(l.pins))
	for i, e := range l.pins {
		if dst.Has(e.d) {
			f.bodies[i].skip = true
			f.pinsHad++
			continue
		}
		if e.pages != nil {
			pl := make([]bool, len(e.pages))
			for j, p := range e.pages {
				pl[j] = dst.HasPage(p.Digest)
			}
			pageLocal[i] = pl
			f.bodies[i].pagePending = make([]int32, len(e.pages))
			f.bodies[i].pageOK = make([]bool, len(e.pages))
		}
	}
	// A piece is local when every byte of it is: in a stored pin or in a
	// stored page.
	for p := range f.pieces {
		start, n := pieceBounds(l, p)
		local := true
		l.eachPin(start, n, func(i int, lo, hi int64) {
			if !local || f.bodies[i].skip {
				return
			}
			e := &l.pins[i]
			if e.pages == nil {
				local = false
				return
			}
			for j := e.pageIndex(lo); j < len(e.pages) && e.pageOff[j] < hi; j++ {
				if !pageLocal[i][j] {
					local = false
					return
				}
			}
		})
		f.pieces[p].local = local
		if local {
			f.have += n
		} else {
			l.eachPin(start, n, func(i int, lo, hi int64) {
				b := &f.bodies[i]
				if b.skip {
					return
				}
				b.pending++
				e := &l.pins[i]
				for j := e.pageIndex(lo); b.pagePending != nil && j < len(e.pages) && e.pageOff[j] < hi; j++ {
					if !pageLocal[i][j] {
						b.pagePending[j]++
					}
				}
			})
		}
	}
	return f, nil
}

// eachPin calls f for each pin overlapping stream bytes [off, off+n), with
// the overlap in body coordinates.
func (l *Layout) eachPin(off, n int64, f func(i int, lo, hi int64)) {
	end := off + n
	for i := l.pinAt(off); i < len(l.pins) && l.pins[i].off < end; i++ {
		e := &l.pins[i]
		f(i, max(off, e.off)-e.off, min(end, e.off+e.size)-e.off)
	}
}

// pageIndex returns the index of the page holding body offset off.
func (e *pinEntry) pageIndex(off int64) int {
	lo, hi := 0, len(e.pages)
	for lo < hi {
		m := (lo + hi) / 2
		if e.pageOff[m+1] > off {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

func (f *fetchState) start() {
	if f.bodies[len(f.bodies)-1].skip {
		f.finish(nil) // the root is here already: nothing to do
		return
	}
	f.wg.Add(3)
	go f.verifier()
	go f.verifier()
	go f.committer()
	// Bodies made only of local pages need no piece.
	var ready []int
	f.mu.Lock()
	for i := range f.bodies {
		b := &f.bodies[i]
		if !b.skip && b.pending == 0 {
			f.activateLocked(i)
			ready = append(ready, i)
		}
	}
	f.mu.Unlock()
	for _, i := range ready {
		f.verifyq <- i
	}
}

func (f *fetchState) stop() {
	close(f.stopc)
	f.wg.Wait()
}

func (f *fetchState) finish(err error) {
	f.errOnce.Do(func() { f.err = err })
	f.doneOnce.Do(func() { close(f.done) })
}

func (f *fetchState) failure() error {
	<-f.done
	return f.err
}

// activateLocked allocates body i and fills in the parts that come from
// local pages (those in local pieces).
func (f *fetchState) activateLocked(i int) {
	b := &f.bodies[i]
	if b.buf != nil {
		return
	}
	e := &f.l.pins[i]
	b.buf = make([]byte, e.size)
	first := int(e.off / PieceLength)
	last := int((e.off + e.size - 1) / PieceLength)
	for p := first; p <= last; p++ {
		if !f.pieces[p].local {
			continue
		}
		start, n := pieceBounds(f.l, p)
		lo, hi := max(start, e.off)-e.off, min(start+n, e.off+e.size)-e.off
		for j := e.pageIndex(lo); j < len(e.pages) && e.pageOff[j] < hi; j++ {
			page, err := f.dst.Page(e.pages[j].Digest)
			if err != nil || len(page) != e.pages[j].Size {
				// Reported at verification: the body will not match.
				continue
			}
			plo, phi := max(lo, e.pageOff[j]), min(hi, e.pageOff[j+1])
			copy(b.buf[plo:phi], page[plo-e.pageOff[j]:phi-e.pageOff[j]])
		}
	}
}

type fetchPiece struct {
	f *fetchState
	i int
}

func (p fetchPiece) WriteAt(b []byte, off int64) (int, error) {
	f := p.f
	f.mu.Lock()
	defer f.mu.Unlock()
	fp := &f.pieces[p.i]
	if fp.done || fp.local {
		return len(b), nil
	}
	_, n := pieceBounds(f.l, p.i)
	if off < 0 || off+int64(len(b)) > n {
		return 0, fmt.Errorf("torrent: write [%d, %d) outside piece %d of %d bytes", off, off+int64(len(b)), p.i, n)
	}
	if fp.buf == nil {
		fp.buf = make([]byte, n)
	}
	return copy(fp.buf[off:], b), nil
}

func (p fetchPiece) ReadAt(b []byte, off int64) (int, error) {
	f := p.f
	f.mu.Lock()
	defer f.mu.Unlock()
	start, n := pieceBounds(f.l, p.i)
	if off >= n {
		return 0, io.EOF
	}
	fp := &f.pieces[p.i]
	want := min(int64(len(b)), n-off)
	if fp.buf != nil {
		k := copy(b[:want], fp.buf[off:])
		if int64(k) < int64(len(b)) {
			return k, io.EOF
		}
		return k, nil
	}
	if !fp.done && !fp.local {
		return 0, io.ErrUnexpectedEOF
	}
	// A piece already spread into bodies: read back from the bodies in
	// memory or from the store. (The fetch client does not upload, so this
	// is rare.)
	got := 0
	var err error
	f.l.eachPin(start+off, want, func(i int, lo, hi int64) {
		if err != nil {
			return
		}
		if buf := f.bodies[i].buf; buf != nil {
			got += copy(b[got:], buf[lo:hi])
			return
		}
		e := &f.l.pins[i]
		err = f.l.forEachSlice(f.dst, e.off+lo, hi-lo, func(s []byte) error {
			got += copy(b[got:], s)
			return nil
		})
	})
	// The stream's padding after the last pin (see Layout.fileLen) is zeros.
	for err == nil && int64(got) < want && start+off+int64(got) >= f.l.total {
		b[got] = 0
		got++
	}
	if err == nil && int64(got) < int64(len(b)) {
		err = io.EOF
	}
	return got, err
}

func (p fetchPiece) MarkComplete() error {
	f := p.f
	var ready []int
	var arrived []arrivedPage
	f.mu.Lock()
	fp := &f.pieces[p.i]
	if fp.done || fp.local || fp.buf == nil {
		f.mu.Unlock()
		return nil
	}
	start, n := pieceBounds(f.l, p.i)
	f.l.eachPin(start, n, func(i int, lo, hi int64) {
		b := &f.bodies[i]
		if b.skip {
			return
		}
		f.activateLocked(i)
		e := &f.l.pins[i]
		copy(b.buf[lo:hi], fp.buf[e.off+lo-start:e.off+hi-start])
		for j := e.pageIndex(lo); b.pagePending != nil && j < len(e.pages) && e.pageOff[j] < hi; j++ {
			if b.pagePending[j] > 0 {
				b.pagePending[j]--
				if b.pagePending[j] == 0 {
					arrived = append(arrived, arrivedPage{i, j, b.buf[e.pageOff[j]:e.pageOff[j+1]]})
				}
			}
		}
		b.pending--
		if b.pending == 0 {
			ready = append(ready, i)
		}
	})
	fp.done, fp.buf = true, nil
	f.mu.Unlock()
	// Pages first: a body whose last page this piece completed then
	// usually finds that page checked already.
	for _, a := range arrived {
		f.pageArrived(a)
	}
	for _, i := range ready {
		f.verifyq <- i // never blocks: capacity is the number of pins
	}
	return nil
}

// pageArrived checks a page that has just been completed against its page
// CID and queues it for the next commit: that is what lets an interrupted
// fetch resume inside a large body. Every byte of it passed a piece hash
// already, so a mismatch means the torrent itself is wrong (ErrCorrupt, as
// in verify). It runs on the client's goroutine that marked the piece
// complete, outside f.mu.
func (f *fetchState) pageArrived(a arrivedPage) {
	e := &f.l.pins[a.i]
	pr := e.pages[a.j]
	if merkle.HashBytes(a.b) != pr.Digest {
		f.finish(fmt.Errorf("%w: page %d (%s) of pin %s does not match its CID", ErrCorrupt, a.j, merkle.PageCIDOf(pr.Digest), merkle.CIDOf(e.d)))
		return
	}
	f.mu.Lock()
	f.bodies[a.i].pageOK[a.j] = true
	f.mu.Unlock()
	if len(a.b) > pagestore.PageMax {
		// A page larger than any format-1 page cannot be one the store
		// will list: the body, once complete, is stored as usual.
		return
	}
	f.cmu.Lock()
	defer f.cmu.Unlock()
	if f.queued[e.d] {
		return // the whole body is on its way to the store
	}
	f.pages = append(f.pages, PagePut{Digest: pr.Digest, Page: a.b})
	f.pagePins = append(f.pagePins, e.d)
	f.batchBytes += int64(len(a.b))
	if f.batchBytes >= 64<<20 {
		f.kickLocked()
	}
}

func (f *fetchState) kickLocked() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

func (p fetchPiece) MarkNotComplete() error {
	// A piece that failed its hash check is downloaded again; its buffer
	// is overwritten. A piece already spread into bodies stays there.
	return nil
}

func (p fetchPiece) Completion() storage.Completion {
	f := p.f
	f.mu.Lock()
	defer f.mu.Unlock()
	fp := &f.pieces[p.i]
	return storage.Completion{Ok: true, Complete: fp.local || fp.done}
}

// verifier checks complete bodies against their CIDs.
func (f *fetchState) verifier() {
	defer f.wg.Done()
	for {
		select {
		case <-f.stopc:
			return
		case i := <-f.verifyq:
			if err := f.verify(i); err != nil {
				f.finish(err)
				return
			}
		}
	}
}

func (f *fetchState) verify(i int) error {
	e := &f.l.pins[i]
	f.mu.Lock()
	body := f.bodies[i].buf
	checked := append([]bool(nil), f.bodies[i].pageOK...)
	f.mu.Unlock()
	c := merkle.CIDOf(e.d)
	// The hashes and the canonical-form check are independent; on a large
	// body each takes a while, so they run side by side.
	hashErr := make(chan error, 1)
	go func() {
		for j, p := range e.pages {
			if checked[j] {
				continue // by pageArrived, on these very bytes
			}
			if merkle.HashBytes(body[e.pageOff[j]:e.pageOff[j+1]]) != p.Digest {
				hashErr <- fmt.Errorf("%w: page %d (%s) of pin %s does not match its CID", ErrCorrupt, j, merkle.PageCIDOf(p.Digest), c)
				return
			}
		}
		if err := merkle.Verify(c, body); err != nil {
			hashErr <- fmt.Errorf("%w: %w", ErrCorrupt, err)
			return
		}
		hashErr <- nil
	}()
	canonErr := merkle.CheckCanonical(body)
	if err := <-hashErr; err != nil {
		return err
	}
	if canonErr != nil {
		return fmt.Errorf("%w: pin %s: %w", ErrCorrupt, c, canonErr)
	}
	children, err := merkle.ChildDigests(body)
	if err != nil {
		return fmt.Errorf("%w: pin %s: %w", ErrCorrupt, c, err)
	}
	f.cmu.Lock()
	defer f.cmu.Unlock()
	missing := 0
	for _, ch := range children {
		if f.queued[ch] || f.dst.Has(ch) {
			continue
		}
		if _, ok := f.l.index[ch]; !ok {
			return fmt.Errorf("%w: pin %s has child %s, which the torrent does not carry", ErrCorrupt, c, merkle.CIDOf(ch))
		}
		f.waiting[ch] = append(f.waiting[ch], e.d)
		missing++
	}
	if missing > 0 {
		f.pend[e.d] = &pendBody{idx: i, body: body, missing: missing}
		return nil
	}
	f.readyLocked(i, body)
	return nil
}

// readyLocked queues body i, whose children are all stored or queued, and
// then any parent that was waiting only for it.
func (f *fetchState) readyLocked(i int, body []byte) {
	work := []*pendBody{{idx: i, body: body}}
	for len(work) > 0 {
		w := work[len(work)-1]
		work = work[:len(work)-1]
		d := f.l.pins[w.idx].d
		f.queued[d] = true
		f.batch = append(f.batch, BodyPut{Digest: d, Body: w.body})
		f.batchIdx = append(f.batchIdx, w.idx)
		f.batchBytes += int64(len(w.body))
		for _, parent := range f.waiting[d] {
			pb := f.pend[parent]
			pb.missing--
			if pb.missing == 0 {
				delete(f.pend, parent)
				work = append(work, pb)
			}
		}
		delete(f.waiting, d)
	}
	if f.batchBytes >= 64<<20 || f.queued[f.l.root] {
		f.kickLocked()
	}
}

// committer stores queued bodies and pages in batches: every 50 ms, or
// sooner when 64 MiB are queued or the root is ready. When the fetch stops
// without having finished (cancelled or timed out), it commits what is
// queued one last time, so the next fetch resumes from there.
func (f *fetchState) committer() {
	defer f.wg.Done()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		last := false
		select {
		case <-f.stopc:
			select {
			case <-f.done:
				return // finished, or failed: nothing more to store
			default:
			}
			last = true
		case <-tick.C:
		case <-f.kick:
		}
		f.cmu.Lock()
		batch, idx := f.batch, f.batchIdx
		var pages []PagePut
		for k, p := range f.pages {
			// Pages of a body now queued whole are stored with it.
			if !f.queued[f.pagePins[k]] {
				pages = append(pages, p)
			}
		}
		f.batch, f.batchIdx, f.pages, f.pagePins, f.batchBytes = nil, nil, nil, nil, 0
		f.cmu.Unlock()
		if len(batch) == 0 && len(pages) == 0 {
			if last {
				return
			}
			continue
		}
		if err := f.dst.PutBatch(pages, batch); err != nil {
			f.finish(fmt.Errorf("torrent: storing %d fetched pins and %d pages: %w", len(batch), len(pages), err))
			return
		}
		f.committed.Add(int64(len(batch)))
		f.mu.Lock()
		rootDone := false
		for _, i := range idx {
			f.bodies[i].buf, f.bodies[i].stored = nil, true
			if i == len(f.bodies)-1 {
				rootDone = true
			}
		}
		f.mu.Unlock()
		if rootDone {
			f.finish(nil)
			return
		}
		if last {
			return
		}
	}
}

func usefulRead(t *atorrent.Torrent) int64 {
	s := t.Stats()
	return s.BytesReadUsefulData.Int64()
}
