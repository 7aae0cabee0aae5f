package mmap

import (
	"encoding/binary"
	"testing"
)

func TestWords(t *testing.T) {
	// A []uint64 backing array is 8-byte aligned; view it as bytes.
	// Exactly one of eight consecutive offsets is 8-byte aligned.
	big := make([]byte, 40)
	var buf []byte
	hits := 0
	for i := 0; i < 8; i++ {
		if _, ok := Words(big[i : i+32]); ok {
			hits++
			buf = big[i : i+32]
		}
	}
	if !hostLittleEndian64 {
		if hits != 0 {
			t.Fatal("Words succeeded on a host that is not little-endian 64-bit")
		}
		return
	}
	if hits != 1 {
		t.Fatalf("%d of 8 offsets accepted, want exactly 1", hits)
	}
	for i := range buf {
		buf[i] = byte(i*7 + 1)
	}
	w, _ := Words(buf)
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
