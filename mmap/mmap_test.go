package mmap

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMapSeesAppends(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	m, err := Map(f, 1<<20) // longer than the file
	if err != nil {
		t.Fatal(err)
	}
	defer Unmap(m)
	if string(m[:5]) != "hello" {
		t.Fatalf("got %q", m[:5])
	}
	if _, err := f.WriteAt([]byte("world"), 5); err != nil {
		t.Fatal(err)
	}
	if string(m[:10]) != "helloworld" {
		t.Fatalf("append not visible: %q", m[:10])
	}
	if _, err := Map(f, 0); err != ErrEmpty {
		t.Fatalf("zero length: %v", err)
	}
}
