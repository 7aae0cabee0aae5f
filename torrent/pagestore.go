package torrent

import (
	"pstore/pagestore"
	"pstore/plan"
)

// StoreAdapter makes a *pagestore.Store a Sink. Bodies and pages are
// returned as slices of the store's read-only mapping (zero copy); a fetch
// commits each batch of verified pages and bodies with one pagestore batch
// (Batch.PutPage, Batch.PutBody), durable when PutBatch returns.
type StoreAdapter struct{ S *pagestore.Store }

var _ Sink = StoreAdapter{}

func (a StoreAdapter) Has(d plan.Digest) bool             { return a.S.Has(d) }
func (a StoreAdapter) HasPage(p plan.Digest) bool         { return a.S.Has(p) }
func (a StoreAdapter) Body(d plan.Digest) ([]byte, error) { return a.S.Body(d) }
func (a StoreAdapter) Page(p plan.Digest) ([]byte, error) { return a.S.Page(p) }

func (a StoreAdapter) Pages(d plan.Digest) ([]PageRef, bool, error) {
	ps, large, err := a.S.Pages(d)
	if err != nil || !large {
		return nil, large, err
	}
	out := make([]PageRef, len(ps))
	for i, p := range ps {
		out[i] = PageRef{Digest: p.Digest, Size: p.Size}
	}
	return out, true, nil
}

func (a StoreAdapter) PutBatch(pages []PagePut, bodies []BodyPut) error {
	b := a.S.NewBatch()
	for _, p := range pages {
		if err := b.PutPage(p.Digest, p.Page); err != nil {
			return err
		}
	}
	for _, x := range bodies {
		if err := b.PutBody(x.Digest, x.Body); err != nil {
			return err
		}
	}
	return b.Commit()
}
