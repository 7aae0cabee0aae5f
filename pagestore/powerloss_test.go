package pagestore

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"pstore/merkle"
	"pstore/plan"
)

// TestLostCommitRecord simulates a power loss after a batch's data and
// index slots were durable but before its commit record was: the meta file
// is put back as it was before the batch. Recovery must undo the batch's
// slots (through its intent record), so that the next batches, which reuse
// the same segment space, never see the lost batch's entries.
func TestLostCommitRecord(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Create: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(11))
	put := func(s *Store, n int) []plan.Digest {
		b := s.NewBatch()
		var ds []plan.Digest
		for i := 0; i < n; i++ {
			c, err := b.PutPin(plan.P(plan.NatFromBytes(append(randBytes(r, 1+r.Intn(700<<10)), 1))))
			if err != nil {
				t.Fatal(err)
			}
			d, _ := merkle.DigestOf(c)
			ds = append(ds, d)
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		return ds
	}
	a := put(s, 5)
	metaPath := filepath.Join(dir, "meta")
	saved, err := os.ReadFile(metaPath)
	if err != nil {
		t.Fatal(err)
	}
	lost := put(s, 5)
	s.Close()
	if err := os.WriteFile(metaPath, saved, 0o644); err != nil {
		t.Fatal(err)
	}
	before := undoneSlots.Load()
	s, err = Open(dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if undoneSlots.Load() == before {
		t.Fatal("recovery undid no slot")
	}
	for _, d := range lost {
		if s.Has(d) {
			t.Fatalf("lost pin %s visible", merkle.CIDOf(d))
		}
	}
	c := put(s, 8)
	for _, ds := range [][]plan.Digest{a, c} {
		for _, d := range ds {
			if _, err := s.LoadPin(d); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range lost {
		if s.Has(d) {
			t.Fatalf("lost pin %s visible after new commits", merkle.CIDOf(d))
		}
	}
	mustVerifyClose(t, s)
}
