package torrent

import (
	"fmt"
	"sync"

	"github.com/ipfs/go-cid"

	"pstore/merkle"
	"pstore/pagestore"
	"pstore/plan"
)

// PageRef names one page of a chunked (large) body: its BLAKE3-256 digest
// (the digest in its raw-codec page CID) and its length.
type PageRef struct {
	Digest plan.Digest
	Size   int
}

// Source is what seeding and torrent building read from: a store's pin
// bodies and pages, by digest. *pagestore.Store satisfies it through
// StoreAdapter. Slices returned by Body and Page are only read, never
// modified, and need to stay valid only until the Source is closed.
type Source interface {
	// Has reports whether the pin with this digest is stored. A store
	// holds a pin only together with its whole DAG (pins are committed
	// children first).
	Has(d plan.Digest) bool
	// Body returns the canonical body of a stored pin.
	Body(d plan.Digest) ([]byte, error)
	// Pages returns the pages of a body stored in pages (false if it is
	// stored whole). Their concatenation is the body.
	Pages(d plan.Digest) ([]PageRef, bool, error)
	// Page returns a page by digest.
	Page(p plan.Digest) ([]byte, error)
}

// Sink is what a fetch and Import write to.
type Sink interface {
	Source
	// HasPage reports whether the page with this digest is stored, as
	// part of a stored body or alone (see PutBatch).
	HasPage(p plan.Digest) bool
	// PutBatch stores verified pages and verified canonical bodies
	// together, durable on return. Every child pin of every body is
	// already stored or is in the same call, earlier in bodies. A page
	// stored alone is not a pin: it makes no pin stored, and it is only
	// kept by the store for the body it belongs to (the page store's GC
	// reclaims pages no reachable body lists). A fetch commits each page
	// of a large body this way as soon as it has arrived and matched its
	// page CID, so an interrupted fetch resumes inside a large body (its
	// stored pages make their pieces complete up front, see HasPage)
	// instead of from the body's first byte.
	PutBatch(pages []PagePut, bodies []BodyPut) error
}

// BodyPut is one body handed to Sink.PutBatch.
type BodyPut struct {
	Digest plan.Digest
	Body   []byte
}

// PagePut is one verified page handed to Sink.PutBatch: Digest is the
// BLAKE3-256 of Page (the digest in its raw-codec page CID).
type PagePut struct {
	Digest plan.Digest
	Page   []byte
}

// MemStore is an in-memory Sink, for tests and for tooling that wants a
// scratch store. It splits bodies above MemChunkThreshold into pages with
// the page store's format-1 chunker (pagestore.Chunk), so it offers the
// same torrents as a page store holding the same pins. It is safe for
// concurrent use.
type MemStore struct {
	// mu guards the maps.
	mu      sync.RWMutex
	bodies  map[plan.Digest][]byte    // pins stored whole
	chunked map[plan.Digest][]PageRef // pins stored as pages
	pages   map[plan.Digest][]byte
	// Puts counts PutBatch calls (tests look at commit granularity).
	Puts int
}

// MemChunkThreshold is the size above which MemStore stores a body as
// pages: the page store's format-1 threshold.
const MemChunkThreshold = pagestore.LargeThreshold

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	return &MemStore{
		bodies:  map[plan.Digest][]byte{},
		chunked: map[plan.Digest][]PageRef{},
		pages:   map[plan.Digest][]byte{},
	}
}

var _ Sink = (*MemStore)(nil)

func (m *MemStore) Has(d plan.Digest) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if _, ok := m.bodies[d]; ok {
		return true
	}
	_, ok := m.chunked[d]
	return ok
}

func (m *MemStore) Body(d plan.Digest) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if b, ok := m.bodies[d]; ok {
		return b, nil
	}
	refs, ok := m.chunked[d]
	if !ok {
		return nil, fmt.Errorf("%w: pin %s", ErrNotFound, merkle.CIDOf(d))
	}
	var body []byte
	for _, r := range refs {
		body = append(body, m.pages[r.Digest]...)
	}
	return body, nil
}

func (m *MemStore) Pages(d plan.Digest) ([]PageRef, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if refs, ok := m.chunked[d]; ok {
		return refs, true, nil
	}
	if _, ok := m.bodies[d]; ok {
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("%w: pin %s", ErrNotFound, merkle.CIDOf(d))
}

func (m *MemStore) Page(p plan.Digest) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if b, ok := m.pages[p]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%w: page %s", ErrNotFound, merkle.PageCIDOf(p))
}

func (m *MemStore) HasPage(p plan.Digest) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.pages[p]
	return ok
}

// PutBatch stores copies of the pages and bodies (it does not verify
// them). Pages stay until the MemStore is dropped (it has no GC).
func (m *MemStore) PutBatch(pages []PagePut, bodies []BodyPut) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Puts++
	for _, p := range pages {
		if _, ok := m.pages[p.Digest]; !ok {
			m.pages[p.Digest] = append([]byte(nil), p.Page...)
		}
	}
	for _, b := range bodies {
		m.putLocked(b.Digest, b.Body)
	}
	return nil
}

func (m *MemStore) putLocked(d plan.Digest, body []byte) {
	if _, ok := m.bodies[d]; ok {
		return
	}
	if _, ok := m.chunked[d]; ok {
		return
	}
	if len(body) <= MemChunkThreshold {
		m.bodies[d] = append([]byte(nil), body...)
		return
	}
	var refs []PageRef
	off := 0
	for _, n := range pagestore.Chunk(body) {
		page := body[off : off+n]
		off += n
		pd := merkle.HashBytes(page)
		if _, ok := m.pages[pd]; !ok {
			m.pages[pd] = append([]byte(nil), page...)
		}
		refs = append(refs, PageRef{Digest: pd, Size: n})
	}
	m.chunked[d] = refs
}

// PutPin stores the DAG of p (children first) and returns its CID.
func (m *MemStore) PutPin(p *plan.Pin) (cid.Cid, error) {
	var puts []BodyPut
	err := merkle.Walk(p, m.Has, func(_ *plan.Pin, d plan.Digest, body []byte) error {
		puts = append(puts, BodyPut{d, body})
		return nil
	})
	if err != nil {
		return cid.Undef, err
	}
	if err := m.PutBatch(nil, puts); err != nil {
		return cid.Undef, err
	}
	return merkle.CID(p)
}

// Stat returns the number of pins and pages held.
func (m *MemStore) Stat() (pins, pages int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.bodies) + len(m.chunked), len(m.pages)
}
