package pagestore

import (
	"testing"

	"pstore/plan"
)

// FuzzDecoders feeds arbitrary bytes to every decoder of persisted
// structures: they must return errors, never panic, and round-trip what
// they accept.
func FuzzDecoders(f *testing.F) {
	f.Add(encodeHeader())
	f.Add((&meta{gen: 3, indexCap: 1024, firstSeg: 1, activeSeg: 2}).encode())
	f.Add(encodeManifest(3, []PageRef{{Size: 3}}))
	f.Add(encodeRefs(map[string]plan.Digest{"a": {1}}))
	f.Add(encodeIntent(7, 1, []uint64{1, 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = checkHeader(b, "fuzz")
		if m, err := decodeMeta(b); err == nil {
			if m2, err := decodeMeta(m.encode()); err != nil || m2 != m {
				t.Fatalf("meta round trip: %v", err)
			}
		}
		if total, pages, err := decodeManifest(b); err == nil {
			if string(encodeManifest(total, pages)) != string(b[:manifestHdr+manifestEntry*len(pages)]) && len(pages) > 0 {
				// reserved fields may differ; sizes and digests must not
				_, p2, err := decodeManifest(encodeManifest(total, pages))
				if err != nil || len(p2) != len(pages) {
					t.Fatal("manifest round trip")
				}
			}
		}
		if refs, err := decodeRefs(b); err == nil {
			if _, err := decodeRefs(encodeRefs(refs)); err != nil {
				t.Fatal(err)
			}
		}
		decodeIntent(b)
		if len(b) >= entrySize {
			if e, ok := getEntry(b[:entrySize]); ok {
				var out [entrySize]byte
				e.put(out[:])
				if e2, ok := getEntry(out[:]); !ok || e2 != e {
					t.Fatal("entry round trip")
				}
			}
		}
	})
}
