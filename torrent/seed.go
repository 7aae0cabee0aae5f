package torrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	g "github.com/anacrolix/generics"
	atorrent "github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
	"github.com/ipfs/go-cid"

	"pstore/plan"
)

// Seeder serves pin DAGs from a Source until closed.
type Seeder struct {
	cl       *atorrent.Client
	layouts  []*Layout
	torrents []*atorrent.Torrent
}

// Seed builds the torrent of each root from src and serves them all from
// one client listening on cfg.ListenAddr. It announces (DHT, trackers)
// only when cfg asks for it, and only these torrents. ctx bounds the
// set-up only; call Close to stop serving.
func Seed(ctx context.Context, src Source, roots []cid.Cid, cfg Config) (*Seeder, error) {
	var layouts []*Layout
	for _, r := range roots {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l, err := BuildTorrent(src, r)
		if err != nil {
			return nil, err
		}
		layouts = append(layouts, l)
	}
	return SeedLayouts(src, layouts, cfg)
}

// SeedLayouts serves already built layouts (see Seed).
func SeedLayouts(src Source, layouts []*Layout, cfg Config) (*Seeder, error) {
	cl, err := newClient(cfg, true)
	if err != nil {
		return nil, err
	}
	s := &Seeder{cl: cl, layouts: layouts}
	for _, l := range layouts {
		t := addTorrent(cl, l.infoHash, l.infoBytes, &seedStorage{l: l, src: &sliceCache{Source: src}})
		if mi := l.MetaInfo(); mi.PieceLayers != nil {
			if errs := t.AddPieceLayers(mi.PieceLayers); len(errs) > 0 {
				cl.Close()
				return nil, fmt.Errorf("torrent: piece layers of %s: %w", l.Root, errors.Join(errs...))
			}
		}
		if len(cfg.Trackers) > 0 {
			t.AddTrackers([][]string{cfg.Trackers})
		}
		s.torrents = append(s.torrents, t)
	}
	return s, nil
}

// Addr is the address the seeder listens on (host:port).
func (s *Seeder) Addr() string { return boundAddr(s.cl) }

// Layouts returns the seeded torrents, in the order of the roots.
func (s *Seeder) Layouts() []*Layout { return s.layouts }

// Magnets returns a magnet link per root, with the seeder's address as a
// peer hint ("x.pe").
func (s *Seeder) Magnets() []string {
	var out []string
	for _, l := range s.layouts {
		out = append(out, l.Magnet(s.Addr()))
	}
	return out
}

// Uploaded returns the data bytes sent to peers so far.
func (s *Seeder) Uploaded() int64 {
	var n int64
	for _, t := range s.torrents {
		st := t.Stats()
		n += st.BytesWrittenData.Int64()
	}
	return n
}

// Peers returns the number of connected peers over all torrents.
func (s *Seeder) Peers() int {
	n := 0
	for _, t := range s.torrents {
		n += t.Stats().ActivePeers
	}
	return n
}

// Close stops serving.
func (s *Seeder) Close() error {
	errs := s.cl.Close()
	return errors.Join(errs...)
}

// sliceCache remembers up to sliceCacheSize bodies and pages read, and is
// reset when full (a new slice then starts an empty map): peers request a
// piece in 16 KiB blocks, and each store read of a page checks the whole
// page's CRC. The slices are the store's (zero copy, valid until it is
// closed), so the cache costs no copy.
type sliceCache struct {
	Source
	mu      sync.Mutex // guards entries
	entries map[[33]byte][]byte
}

const sliceCacheSize = 64

func (c *sliceCache) get(key [33]byte, load func() ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	b, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := load()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= sliceCacheSize {
		c.entries = make(map[[33]byte][]byte, sliceCacheSize)
	}
	c.entries[key] = b
	c.mu.Unlock()
	return b, nil
}

func (c *sliceCache) Body(d plan.Digest) ([]byte, error) {
	var k [33]byte
	copy(k[:], d[:])
	return c.get(k, func() ([]byte, error) { return c.Source.Body(d) })
}

func (c *sliceCache) Page(d plan.Digest) ([]byte, error) {
	var k [33]byte
	copy(k[:], d[:])
	k[32] = 1
	return c.get(k, func() ([]byte, error) { return c.Source.Page(d) })
}

// seedStorage serves the stream of a layout from a Source: every piece is
// complete, and reads go straight to the store's bodies and pages.
type seedStorage struct {
	l   *Layout
	src Source
}

func (s *seedStorage) OpenTorrent(ctx context.Context, info *metainfo.Info, ih metainfo.Hash) (storage.TorrentImpl, error) {
	return storage.TorrentImpl{
		PieceWithHash: func(p metainfo.Piece, _ g.Option[[]byte]) storage.PieceImpl {
			return seedPiece{s: s, i: p.Index()}
		},
		Close: func() error { return nil },
	}, nil
}

type seedPiece struct {
	s *seedStorage
	i int
}

func pieceBounds(l *Layout, i int) (start, length int64) {
	start = int64(i) * PieceLength
	return start, min(int64(PieceLength), l.fileLen()-start)
}

func (p seedPiece) ReadAt(b []byte, off int64) (int, error) {
	start, n := pieceBounds(p.s.l, p.i)
	if off >= n {
		return 0, io.EOF
	}
	want := min(int64(len(b)), n-off)
	got := 0
	err := p.s.l.forEachSlice(p.s.src, start+off, want, func(s []byte) error {
		got += copy(b[got:], s)
		return nil
	})
	if err != nil {
		return got, err
	}
	if int64(got) < int64(len(b)) {
		return got, io.EOF
	}
	return got, nil
}

// WriteTo writes the whole piece without an intermediate buffer.
func (p seedPiece) WriteTo(w io.Writer) (int64, error) {
	start, n := pieceBounds(p.s.l, p.i)
	var total int64
	err := p.s.l.forEachSlice(p.s.src, start, n, func(s []byte) error {
		k, err := w.Write(s)
		total += int64(k)
		return err
	})
	return total, err
}

func (seedPiece) WriteAt([]byte, int64) (int, error) {
	return 0, errors.New("torrent: seeding storage is read-only")
}
func (seedPiece) MarkComplete() error    { return nil }
func (seedPiece) MarkNotComplete() error { return nil }
func (seedPiece) Completion() storage.Completion {
	return storage.Completion{Ok: true, Complete: true}
}
