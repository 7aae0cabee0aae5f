package evaltest

import (
	"testing"

	"pstore/merkle"
	"pstore/pagestore"
	"pstore/plan"
)

// PageStore adapts the page store to PinStore, so that the lazy-faulting
// tests and benchmarks run against the real store: pins are written in one
// batch as they are Put (children before parents), committed on the first
// call to Loads, and loaded back through the store's PinLoader.
type PageStore struct {
	St    *pagestore.Store
	batch *pagestore.Batch
	tb    testing.TB
}

// NewPageStore opens a fresh page store in a temporary directory (closed
// when the test ends). It has NewStore's signature, for Kit.NewStore.
func NewPageStore(tb testing.TB) PinStore {
	st, err := pagestore.Open(tb.TempDir(), pagestore.Options{Create: true, NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return &PageStore{St: st, tb: tb}
}

// Put stores <v> in the pending batch and returns an unloaded reference.
func (s *PageStore) Put(v plan.Value) (*plan.Pin, error) {
	if s.batch == nil {
		s.batch = s.St.NewBatch()
	}
	c, err := s.batch.PutPin(plan.P(v))
	if err != nil {
		return nil, err
	}
	d, err := merkle.DigestOf(c)
	if err != nil {
		return nil, err
	}
	return plan.NewPinRef(d, s.St), nil
}

// Flush commits the pending batch.
func (s *PageStore) Flush() error {
	if s.batch == nil {
		return nil
	}
	err := s.batch.Commit()
	s.batch = nil
	return err
}

// Loads commits what was Put and returns the store's count of loaded pins.
func (s *PageStore) Loads() int64 {
	if err := s.Flush(); err != nil {
		s.tb.Fatal(err)
	}
	return s.St.PinsLoaded()
}
