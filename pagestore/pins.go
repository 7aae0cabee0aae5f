package pagestore

import (
	"fmt"

	"github.com/ipfs/go-cid"

	"pstore/merkle"
	"pstore/plan"
)

var _ plan.PinLoader = (*Store)(nil)

// PutPin stores the pin p and every pin under it (children first) in one
// batch, durable on return, and returns its CID. Pins already stored are
// not written again, and a stored pin known by digest (for example one
// loaded from this store) is not entered at all.
func (s *Store) PutPin(p *plan.Pin) (cid.Cid, error) {
	b := s.NewBatch()
	c, err := b.PutPin(p)
	if err != nil {
		return cid.Undef, err
	}
	return c, b.Commit()
}

// PutPin adds the pin p and the pins under it to the batch.
func (b *Batch) PutPin(p *plan.Pin) (cid.Cid, error) {
	if b.done {
		return cid.Undef, ErrBatchDone
	}
	err := merkle.Walk(p, b.Has, func(_ *plan.Pin, d plan.Digest, body []byte) error {
		return b.PutBody(d, body)
	})
	if err != nil {
		return cid.Undef, err
	}
	d, ok := p.CachedDigest()
	if !ok {
		return cid.Undef, fmt.Errorf("pagestore: pin has no digest after hashing")
	}
	return merkle.CIDOf(d), nil
}

// LoadPin loads the contents of the stored pin d (plan.PinLoader): it reads
// that pin's body only (its pages, for a large body) and decodes it; child
// pins are unloaded references that load through s. Big nats of a body read
// zero-copy alias the mapping (valid until Close).
func (s *Store) LoadPin(d plan.Digest) (plan.Value, error) {
	body, err := s.Body(d)
	if err != nil {
		return nil, err
	}
	v, _, err := merkle.DecodeBody(body, s)
	if err != nil {
		return nil, fmt.Errorf("%w: pin %s: %w", ErrCorrupt, merkle.CIDOf(d), err)
	}
	s.pinsLoaded.Add(1)
	return v, nil
}

// Get returns the stored pin c, loaded (its children are unloaded
// references). Unknown: ErrNotFound; not a pin CID: merkle.ErrNotPinCID.
func (s *Store) Get(c cid.Cid) (*plan.Pin, error) {
	d, err := merkle.DigestOf(c)
	if err != nil {
		return nil, err
	}
	return s.GetDigest(d)
}

// GetDigest is Get by digest.
func (s *Store) GetDigest(d plan.Digest) (*plan.Pin, error) {
	v, err := s.LoadPin(d)
	if err != nil {
		return nil, err
	}
	return plan.NewPinWithDigest(v, d), nil
}

// Pin returns an unloaded reference to the stored pin d, or ErrNotFound.
func (s *Store) Pin(d plan.Digest) (*plan.Pin, error) {
	if !s.Has(d) {
		return nil, fmt.Errorf("%w: pin %s", ErrNotFound, merkle.CIDOf(d))
	}
	return plan.NewPinRef(d, s), nil
}

// Children returns the digests of the child pins of the stored pin d, in
// hole order, from its body's header (nothing is decoded).
func (s *Store) Children(d plan.Digest) ([]plan.Digest, error) {
	body, err := s.Body(d)
	if err != nil {
		return nil, err
	}
	kids, err := merkle.ChildDigests(body)
	if err != nil {
		return nil, fmt.Errorf("%w: pin %s: %w", ErrCorrupt, merkle.CIDOf(d), err)
	}
	return kids, nil
}

// WalkDAG calls visit once for each pin reachable from root through child
// pins, root first, depth first, each distinct pin once (pstore refs -r).
// visit returning an error stops the walk with that error.
func (s *Store) WalkDAG(root plan.Digest, visit func(d plan.Digest, children []plan.Digest) error) error {
	seen := map[plan.Digest]bool{root: true}
	stack := []plan.Digest{root}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		kids, err := s.Children(d)
		if err != nil {
			return err
		}
		if err := visit(d, kids); err != nil {
			return err
		}
		for i := len(kids) - 1; i >= 0; i-- {
			if !seen[kids[i]] {
				seen[kids[i]] = true
				stack = append(stack, kids[i])
			}
		}
	}
	return nil
}

// SetRef names the stored pin d and commits (durable on return).
func (s *Store) SetRef(name string, d plan.Digest) error {
	b := s.NewBatch()
	b.SetRef(name, d)
	return b.Commit()
}

// DeleteRef removes the ref name and commits; ErrNotFound if there is none.
func (s *Store) DeleteRef(name string) error {
	if _, err := s.Ref(name); err != nil {
		return err
	}
	b := s.NewBatch()
	b.DeleteRef(name)
	return b.Commit()
}
