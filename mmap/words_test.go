package mmap

import (
	"encoding/binary"
	"testing"
)

func TestWords(t *testing.T) {
	// A []uint64 backing array is 8-byte aligned; view it as bytes.
	buf := make([]byte, 32)
	for i := range buf {
		buf[i] = byte(i*7 + 1)
	}
	w, ok := Words(buf)
	if ok {
		for i := range w {
			if uint64(w[i]) != binary.LittleEndian.Uint64(buf[8*i:]) {
				t.Fatalf("word %d = %x, want %x", i, w[i], binary.LittleEndian.Uint64(buf[8*i:]))
			}
		}
		// Aliasing: a change to the bytes is visible through the words.
		buf[0] ^= 0xff
		if byte(w[0]) != buf[0] {
			t.Fatal("Words copied instead of aliasing")
		}
	} else if hostLittleEndian64 && len(buf)%8 == 0 {
		// make([]byte, 32) is allocated in an 8-aligned size class.
		t.Fatal("Words refused an aligned buffer on a little-endian 64-bit host")
	}
	if _, ok := Words(buf[1:9]); ok {
		t.Fatal("Words accepted a misaligned slice")
	}
	if _, ok := Words(buf[:12]); ok {
		t.Fatal("Words accepted a length that is not a multiple of 8")
	}
	if w, ok := Words(nil); !ok || len(w) != 0 {
		t.Fatal("Words(nil) should be an empty view")
	}
}
