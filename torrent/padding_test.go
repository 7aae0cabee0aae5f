package torrent

import (
	"testing"
)

// TestPieceCountAvoids512kPlus1 fetches a value whose stream would be 513
// pieces (512k+1), the count on which anacrolix/torrent v1.59.1 panics while
// requesting missing piece hashes: the layout pads it to 514 pieces, and the
// fetch through the padded stream gives the same DAG.
func TestPieceCountAvoids512kPlus1(t *testing.T) {
	if got := streamFileLen(512 * PieceLength); got != 512*PieceLength {
		t.Fatalf("512 pieces padded to %d bytes", got)
	}
	if got := streamFileLen(512*PieceLength + 1); got != 513*PieceLength+1 {
		t.Fatalf("513 pieces: file length %d", got)
	}
	if got := streamFileLen(PieceLength / 2); got != PieceLength/2 {
		t.Fatal("a one-piece stream is never padded")
	}
	// The nat's body is its bytes plus about 60 bytes of headers; aim the
	// stream at 512 pieces and a bit.
	src := NewMemStore()
	root := mustPut(t, src, natPin(randomBytes(512*PieceLength+4000, 7)))
	l, err := BuildTorrent(src, root)
	if err != nil {
		t.Fatal(err)
	}
	if np := (l.Size() + PieceLength - 1) / PieceLength; np != 513 {
		t.Fatalf("stream of %d bytes is %d pieces; the test wants 513", l.Size(), np)
	}
	if l.NumPieces() != 514 {
		t.Fatalf("torrent has %d pieces, want 514", l.NumPieces())
	}
	// Deterministic and accepted by the parser.
	if _, err := ParseInfo(l.InfoBytes(), Limits{}); err != nil {
		t.Fatal(err)
	}
	s := seedT(t, src, root)
	dst := NewMemStore()
	st := fetchT(t, dst, s.Magnets()[0])
	checkDAG(t, src, dst, root)
	if st.Fetched < l.Size() {
		t.Fatalf("fetched %d of %d bytes", st.Fetched, l.Size())
	}
}
