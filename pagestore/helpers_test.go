package pagestore

import (
	"errors"
	"math/rand"
	"os"
	"testing"

	"pstore/merkle"
	"pstore/plan"
)

func TestMain(m *testing.M) {
	code := m.Run()
	removeBenchStores()
	os.Exit(code)
}

// openTest opens a fresh store in a temporary directory and, at cleanup,
// checks it with Verify (as bbolt's test helper checks its database).
func openTest(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	opts.Create = true
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mustVerifyClose(t, s) })
	return s, dir
}

func mustVerifyClose(t testing.TB, s *Store) {
	t.Helper()
	if s.closed.Load() {
		return
	}
	if err := s.Verify(func(p error) { t.Errorf("verify: %v", p) }); err != nil {
		t.Errorf("verify: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	r.Read(b)
	return b
}

// bigNatPin is the pin of the nat whose little-endian bytes are b (b's
// last byte must not be 0 for the size to be exact).
func bigNatPin(b []byte) *plan.Pin { return plan.P(plan.NatFromBytes(b)) }

func bodyOf(t testing.TB, p *plan.Pin) (plan.Digest, []byte) {
	t.Helper()
	body, _, err := merkle.Body(p)
	if err != nil {
		t.Fatal(err)
	}
	return merkle.HashBytes(body), body
}

func isCorrupt(err error) bool { return errors.Is(err, ErrCorrupt) }
