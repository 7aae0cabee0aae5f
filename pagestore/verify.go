package pagestore

import (
	"fmt"

	"pstore/merkle"
)

// Verify re-hashes everything in the current commit: every page and body
// against its digest (BLAKE3), every record against its CRC-32C, every
// index slot's checksum, each large body's page list, and the refs. Each
// problem is passed to report (if not nil) as an error wrapping ErrCorrupt
// that names the CID and the file/offset; Verify returns an error wrapping
// ErrCorrupt if there was any. It never modifies the store.
func (s *Store) Verify(report func(problem error)) error {
	v, err := s.current()
	if err != nil {
		return err
	}
	problems := 0
	rep := func(err error) {
		problems++
		if report != nil {
			report(err)
		}
	}
	var count uint64
	for i := uint64(0); i < v.m.indexCap; i++ {
		o := indexHdr + entrySize*i
		slot := v.idx.data[o : o+entrySize]
		if slot[48] == 0 {
			continue
		}
		e, ok := getEntry(slot)
		if !ok {
			var c [32]byte
			copy(c[:], slot)
			rep(fmt.Errorf("%w: %s slot %d (offset %d): entry checksum mismatch (digest field %x)", ErrCorrupt, indexName(v.idx.id), i, o, c[:8]))
			continue
		}
		if !v.m.valid(&e) {
			continue // written by a later, or abandoned, batch
		}
		count++
		var b []byte
		if e.kind == kindManifest {
			b, err = s.largeBody(v, &e)
		} else {
			b, err = s.record(&e, describe(&e))
		}
		if err != nil {
			rep(err)
			continue
		}
		if got := merkle.HashBytes(b); got != e.d {
			rep(fmt.Errorf("%w: %s: %s offset %d (%d bytes): bytes hash to %x, not to the CID", ErrCorrupt, describe(&e), segName(e.seg), e.off, len(b), got[:8]))
		}
	}
	if count != v.m.indexCount {
		rep(fmt.Errorf("%w: %s holds %d entries, commit record %d says %d", ErrCorrupt, indexName(v.idx.id), count, v.m.gen, v.m.indexCount))
	}
	refs, err := s.readRefs(v)
	if err != nil {
		rep(err)
	}
	for name, d := range refs {
		if _, ok, err := s.lookup(v, d); err != nil || !ok {
			rep(fmt.Errorf("%w: ref %q names pin %s, which is missing", ErrCorrupt, name, merkle.CIDOf(d)))
		}
	}
	if problems > 0 {
		return fmt.Errorf("%w: %s: %d problems", ErrCorrupt, s.dir, problems)
	}
	return nil
}
