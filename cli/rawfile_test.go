package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawRoundTrip writes size random bytes to a file, stores them with
// `put --raw`, writes them back with `get --raw` into another file, and
// checks `pstore get --raw $(pstore put --raw f) | cmp - f`.
func rawRoundTrip(t *testing.T, size int64) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	want := h.Sum(nil)
	store := filepath.Join(dir, "store")
	c := strings.TrimSpace(mustRun(t, store, "", "put", "--raw", in))
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var errb bytes.Buffer
	env := func(k string) string {
		if k == "PSTORE_DIR" {
			return store
		}
		return ""
	}
	if code := Main(context.Background(), []string{"get", "--raw", c}, strings.NewReader(""), out, &errb, env); code != 0 {
		t.Fatalf("get --raw: exit %d: %s", code, errb.String())
	}
	out.Seek(0, 0)
	h2 := sha256.New()
	n, _ := io.Copy(h2, out)
	if n != size || !bytes.Equal(h2.Sum(nil), want) {
		t.Fatalf("get --raw gave %d bytes (want %d) that differ from the input", n, size)
	}
}

func TestRawRoundTrip64MiB(t *testing.T) { rawRoundTrip(t, 64<<20+3) }
