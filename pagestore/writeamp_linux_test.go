package pagestore

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"pstore/merkle"
	"pstore/plan"
)

// procWriteBytes is this process's write_bytes from /proc/self/io: bytes
// it caused to be written to storage (a dirtied page-cache folio counts
// whole).
func procWriteBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skip("no /proc/self/io:", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "write_bytes:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	t.Skip("no write_bytes in /proc/self/io")
	return 0
}

// TestSmallCommitWritesLittle guards against write amplification: a commit
// of 20 small pins on a store whose index is tens of megabytes must write
// kilobytes, not megabytes (buffered in-place index writes dirtied whole
// large page-cache folios: 37 MB per such commit on a store of 1M pins).
func TestSmallCommitWritesLittle(t *testing.T) {
	s, _ := openTest(t, Options{})
	b := s.NewBatch()
	for i := 0; i < 200_000; i++ {
		p := plan.P(plan.A(plan.N(0), plan.N(uint64(i)), plan.N(7)))
		body, _, err := merkle.Body(p)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := p.CachedDigest()
		b.PutBody(d, body)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		w0 := procWriteBytes(t)
		b := s.NewBatch()
		for i := 0; i < 20; i++ {
			p := plan.P(plan.A(plan.N(1), plan.N(uint64(round*100+i))))
			body, _, _ := merkle.Body(p)
			d, _ := p.CachedDigest()
			b.PutBody(d, body)
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		if w := procWriteBytes(t) - w0; w > 2<<20 {
			t.Fatalf("round %d: a 20-pin commit wrote %d bytes", round, w)
		} else {
			t.Logf("round %d: 20-pin commit wrote %d bytes", round, w)
		}
	}
}
