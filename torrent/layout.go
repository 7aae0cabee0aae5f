package torrent

// The torrent layout (format version 1). Every constant and field here is
// part of the format: two stores holding the same pin build byte-identical
// info dictionaries only because they all follow it. See doc.go for why the
// layout is a single file with a manifest rather than one file per CID.
//
// The info dictionary (bencoded, keys sorted as bencode requires):
//
//	"file tree":    { ROOT: { "": { "length": TOTAL, "pieces root": R } } }
//	"meta version": 2
//	"name":         ROOT
//	"piece length": 65536
//	"pstore":       { "layer": LAYER, "pins": MANIFEST, "version": 1 }
//
// ROOT is the root pin's CID string (base32, "b..."). The one file is the
// stream: the canonical bodies of the DAG's pins concatenated in post-order
// (children before parents, each child in hole order, each pin once; the
// root is last). TOTAL is its length and R its BEP 52 pieces root
// (SHA-256 merkle tree over 16 KiB blocks). MANIFEST lists the pins in
// stream order, each as
//
//	digest    32 bytes   BLAKE3-256 digest of the body (the pin CID's digest)
//	size      uvarint    body length in bytes (>= 8)
//	numPages  uvarint    0 if the body is stored whole, else its page count
//	pages     numPages x (digest 32 bytes, size uvarint): the body's pages
//	          in order, as every store chunks it (ARCHITECTURE.md
//	          invariant 5); their sizes add up to size.
//
// No creation date, creator, tracker, comment or other machine-specific
// field is written, in the info dictionary or out of it.
//
// LAYER is the BEP 52 piece layer of the file (32-byte SHA-256 per piece,
// concatenated), omitted when the stream is a single piece. BEP 52 keeps it
// outside the info dictionary ("piece layers" in the .torrent file) and has
// magnet fetchers ask peers for it; anacrolix v1.59.1 does ask, but a
// connection that gets the hashes is not woken up to request the pieces
// they unlock, so a magnet fetch stalls. In the info dictionary the layer
// costs 32 bytes per 64 KiB piece (0.05%) and is there from the start.

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/anacrolix/torrent/bencode"
	tmerkle "github.com/anacrolix/torrent/merkle"
	"github.com/anacrolix/torrent/metainfo"
	infohash_v2 "github.com/anacrolix/torrent/types/infohash-v2"
	"github.com/ipfs/go-cid"

	"pstore/merkle"
	"pstore/plan"
)

const (
	// PieceLength is the fixed piece length (a power of two, BEP 52).
	// 64 KiB, the average page size: an edit re-fetches about one page
	// plus at most two partial pieces, and the piece layer of a 256 MiB
	// value is 4096 hashes (128 KiB).
	PieceLength = 64 << 10
	// LayoutVersion is the "version" in the info dictionary's "pstore" key.
	LayoutVersion = 1
	blockSize     = 16 << 10 // BEP 52 merkle leaf size
)

// pinEntry is one pin of the stream.
type pinEntry struct {
	d     plan.Digest
	off   int64     // offset in the stream
	size  int64     // body length
	pages []PageRef // nil if stored whole
	// pageOff[i] is the offset of pages[i] in the body (len(pages)+1
	// entries); nil if stored whole.
	pageOff []int64
}

// Layout is a pin DAG laid out as a torrent. It is immutable once built and
// safe for concurrent use.
type Layout struct {
	Root      cid.Cid
	root      plan.Digest
	pins      []pinEntry
	index     map[plan.Digest]int
	total     int64
	infoBytes []byte
	// layer is the BEP 52 piece layer (one SHA-256 per piece); nil when the
	// stream is a single piece.
	layer      [][32]byte
	piecesRoot [32]byte
	infoHash   infohash_v2.T
}

// infoDict is the info dictionary (field order is irrelevant: the bencode
// encoder sorts keys).
type infoDict struct {
	FileTree    metainfo.FileTree `bencode:"file tree"`
	MetaVersion int64             `bencode:"meta version"`
	Name        string            `bencode:"name"`
	PieceLength int64             `bencode:"piece length"`
	Pstore      pstoreInfo        `bencode:"pstore"`
}

type pstoreInfo struct {
	Layer   string `bencode:"layer,omitempty"`
	Pins    string `bencode:"pins"`
	Version int64  `bencode:"version"`
}

// NumPins is the number of pins in the DAG.
func (l *Layout) NumPins() int { return len(l.pins) }

// Size is the length of the stream: the sum of the DAG's body sizes.
func (l *Layout) Size() int64 { return l.total }

// NumPieces is the number of pieces of the stream.
func (l *Layout) NumPieces() int { return int((l.fileLen() + PieceLength - 1) / PieceLength) }

// fileLen is the length of the torrent's one file: the stream, padded with
// zero bytes where its piece count would be 512k+1 (k >= 1).
//
// Why: anacrolix/torrent v1.59.1 requests a v2 file's missing piece hashes
// in runs of 512 and panics (PeerConn.requestMissingHashes: panic(length))
// on a last run of one piece, so a connection that races the piece layer
// on such a file kills the process (seen with a 256 MiB value: 4097
// pieces). One more piece, holding a single zero byte, makes the count
// 512k+2. The padding is part of layout version 1 (a pure function of the
// DAG, like everything else here); readers of the stream see zeros there,
// and the fetcher ignores those bytes beyond the piece hash check.
func (l *Layout) fileLen() int64 { return streamFileLen(l.total) }

func streamFileLen(total int64) int64 {
	np := (total + PieceLength - 1) / PieceLength
	if np > 1 && np%512 == 1 {
		return np*PieceLength + 1
	}
	return total
}

// InfoHash is the BitTorrent v2 infohash (SHA-256 of the info dictionary).
func (l *Layout) InfoHash() [32]byte { return l.infoHash }

// InfoBytes is the bencoded info dictionary.
func (l *Layout) InfoBytes() []byte { return l.infoBytes }

// MetaInfo returns the .torrent file contents: the info dictionary and,
// when the stream has more than one piece, its piece layer. Nothing else.
func (l *Layout) MetaInfo() *metainfo.MetaInfo {
	mi := &metainfo.MetaInfo{InfoBytes: l.infoBytes}
	if len(l.layer) > 0 {
		mi.PieceLayers = map[string]string{string(l.piecesRoot[:]): layerString(l.layer)}
	}
	return mi
}

func layerString(layer [][32]byte) string {
	b := make([]byte, 0, 32*len(layer))
	for _, h := range layer {
		b = append(b, h[:]...)
	}
	return string(b)
}

// Magnet returns the v2 magnet link: the v2 infohash (urn:btmh) and the
// root CID as the display name, plus "x.pe" peer addresses if given.
func (l *Layout) Magnet(peers ...string) string {
	m := metainfo.MagnetV2{DisplayName: l.Root.String()}
	m.V2InfoHash.Set(l.infoHash)
	if len(peers) > 0 {
		m.Params = map[string][]string{"x.pe": peers}
	}
	return m.String()
}

// pinAt returns the index of the pin whose body holds stream offset off.
func (l *Layout) pinAt(off int64) int {
	return sort.Search(len(l.pins), func(i int) bool { return l.pins[i].off+l.pins[i].size > off })
}

// BuildTorrent lays out the DAG under root, read from src, as a torrent.
// Every pin of the DAG must be in src. The result depends only on the DAG.
func BuildTorrent(src Source, root cid.Cid) (*Layout, error) {
	rd, err := merkle.DigestOf(root)
	if err != nil {
		return nil, err
	}
	l := &Layout{Root: root, root: rd, index: map[plan.Digest]int{}}
	// Post-order walk: a pin's bytes follow its children's.
	type pinInfo struct {
		pages []PageRef
		size  int64
	}
	err = postOrder(rd, func(d plan.Digest) ([]plan.Digest, pinInfo, error) {
		if !src.Has(d) {
			return nil, pinInfo{}, fmt.Errorf("%w: pin %s (in the DAG of %s)", ErrNotFound, merkle.CIDOf(d), root)
		}
		children, pages, size, err := readPin(src, d)
		return children, pinInfo{pages, size}, err
	}, func(d plan.Digest, p pinInfo) error {
		e := pinEntry{d: d, off: l.total, size: p.size, pages: p.pages}
		e.pageOff = pageOffsets(e.pages)
		l.index[d] = len(l.pins)
		l.pins = append(l.pins, e)
		l.total += p.size
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := l.hashStream(src); err != nil {
		return nil, err
	}
	if err := l.encodeInfo(); err != nil {
		return nil, err
	}
	return l, nil
}

// readPin reads what a walk of the DAG needs of pin d: its children's
// digests, its pages if src keeps its body in pages (nil if whole) and its
// body's length. A paged body is not assembled: its children are read from
// its first pages (chunkedHeader).
func readPin(src Source, d plan.Digest) (children []plan.Digest, pages []PageRef, size int64, err error) {
	pages, chunked, err := src.Pages(d)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("pin %s: %w", merkle.CIDOf(d), err)
	}
	var header []byte
	if chunked {
		for _, p := range pages {
			size += int64(p.Size)
		}
		header, err = chunkedHeader(src, pages)
	} else {
		pages = nil
		header, err = src.Body(d)
		size = int64(len(header))
	}
	if err != nil {
		return nil, nil, 0, fmt.Errorf("pin %s: %w", merkle.CIDOf(d), err)
	}
	children, err = merkle.ChildDigests(header)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("pin %s: %w", merkle.CIDOf(d), err)
	}
	return children, pages, size, nil
}

// chunkedHeader returns enough leading bytes of a paged body to read its
// child digests.
func chunkedHeader(src Source, pages []PageRef) ([]byte, error) {
	var h []byte
	need := 8
	for _, p := range pages {
		b, err := src.Page(p.Digest)
		if err != nil {
			return nil, err
		}
		h = append(h, b...)
		if len(h) >= 8 {
			k := binary.LittleEndian.Uint64(h)
			if k > uint64(1<<40) {
				break // ChildDigests reports the bad count
			}
			need = 8 + 32*int(k)
		}
		if len(h) >= need {
			break
		}
	}
	return h, nil
}

func pageOffsets(pages []PageRef) []int64 {
	if pages == nil {
		return nil
	}
	off := make([]int64, len(pages)+1)
	for i, p := range pages {
		off[i+1] = off[i] + int64(p.Size)
	}
	return off
}

// forEachSlice calls f with the stream bytes [off, off+n) in order, as
// slices of src's bodies and pages (no copy).
func (l *Layout) forEachSlice(src Source, off, n int64, f func([]byte) error) error {
	end := off + n
	for i := l.pinAt(off); i < len(l.pins) && off < end; i++ {
		e := &l.pins[i]
		lo, hi := off-e.off, min(end-e.off, e.size)
		if e.pages == nil {
			b, err := src.Body(e.d)
			if err != nil {
				return fmt.Errorf("pin %s: %w", merkle.CIDOf(e.d), err)
			}
			if int64(len(b)) != e.size {
				return fmt.Errorf("%w: pin %s has %d bytes, expected %d", ErrCorrupt, merkle.CIDOf(e.d), len(b), e.size)
			}
			if err := f(b[lo:hi]); err != nil {
				return err
			}
		} else {
			j := sort.Search(len(e.pages), func(j int) bool { return e.pageOff[j+1] > lo })
			for ; j < len(e.pages) && e.pageOff[j] < hi; j++ {
				b, err := src.Page(e.pages[j].Digest)
				if err != nil {
					return fmt.Errorf("page %s of pin %s: %w", merkle.PageCIDOf(e.pages[j].Digest), merkle.CIDOf(e.d), err)
				}
				if len(b) != e.pages[j].Size {
					return fmt.Errorf("%w: page %s has %d bytes, expected %d", ErrCorrupt, merkle.PageCIDOf(e.pages[j].Digest), len(b), e.pages[j].Size)
				}
				plo, phi := max(lo, e.pageOff[j])-e.pageOff[j], min(hi, e.pageOff[j+1])-e.pageOff[j]
				if err := f(b[plo:phi]); err != nil {
					return err
				}
			}
		}
		off = e.off + hi
	}
	// The padding after the last pin (see fileLen) reads as zeros.
	for off < end && off >= l.total {
		n := min(end-off, int64(len(zeroPad)))
		if err := f(zeroPad[:n]); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// zeroPad supplies the zero bytes of the stream's padding.
var zeroPad [PieceLength]byte

// hashStream computes the BEP 52 piece layer and pieces root.
func (l *Layout) hashStream(src Source) error {
	np := l.NumPieces()
	if np <= 1 {
		h := tmerkle.NewHash()
		if err := l.forEachSlice(src, 0, l.total, func(b []byte) error { h.Write(b); return nil }); err != nil {
			return err
		}
		copy(l.piecesRoot[:], h.Sum(nil))
		return nil
	}
	l.layer = make([][32]byte, np)
	// Two workers: SHA-256 is the cost of building a large torrent.
	const workers = 2
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			h := tmerkle.NewHash()
			for p := w; p < np; p += workers {
				h.Reset()
				off := int64(p) * PieceLength
				n := min(int64(PieceLength), l.fileLen()-off)
				if err := l.forEachSlice(src, off, n, func(b []byte) error { h.Write(b); return nil }); err != nil {
					errs <- err
					return
				}
				copy(l.layer[p][:], h.SumMinLength(nil, PieceLength))
			}
			errs <- nil
		}(w)
	}
	var first error
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	l.piecesRoot = tmerkle.RootWithPadHash(l.layer, metainfo.HashForPiecePad(PieceLength))
	return nil
}

func (l *Layout) encodeInfo() error {
	name := l.Root.String()
	info := infoDict{
		FileTree: metainfo.FileTree{Dir: map[string]metainfo.FileTree{
			name: {File: metainfo.FileTreeFile{Length: l.fileLen(), PiecesRoot: string(l.piecesRoot[:])}},
		}},
		MetaVersion: 2,
		Name:        name,
		PieceLength: PieceLength,
		Pstore:      pstoreInfo{Layer: layerString(l.layer), Pins: string(encodeManifest(l.pins)), Version: LayoutVersion},
	}
	b, err := bencode.Marshal(&info)
	if err != nil {
		return fmt.Errorf("torrent: encoding info: %w", err)
	}
	l.infoBytes = b
	l.infoHash = infohash_v2.HashBytes(b)
	return nil
}

func encodeManifest(pins []pinEntry) []byte {
	var b []byte
	for _, e := range pins {
		b = append(b, e.d[:]...)
		b = binary.AppendUvarint(b, uint64(e.size))
		b = binary.AppendUvarint(b, uint64(len(e.pages)))
		for _, p := range e.pages {
			b = append(b, p.Digest[:]...)
			b = binary.AppendUvarint(b, uint64(p.Size))
		}
	}
	return b
}

// Limits bound what a fetcher accepts from an untrusted info dictionary.
type Limits struct {
	// MaxSize bounds the stream (the sum of the DAG's bodies). 0: 1 TiB.
	MaxSize int64
	// MaxBody bounds one body, which is assembled in memory. 0: 4 GiB.
	MaxBody int64
}

func (lim Limits) maxSize() int64 {
	if lim.MaxSize > 0 {
		return lim.MaxSize
	}
	return 1 << 40
}

func (lim Limits) maxBody() int64 {
	if lim.MaxBody > 0 {
		return lim.MaxBody
	}
	return 4 << 30
}

// ParseInfo checks that infoBytes is a pstore torrent's info dictionary
// and returns its layout. It never panics on malformed input.
func ParseInfo(infoBytes []byte, lim Limits) (*Layout, error) {
	var info infoDict
	if err := bencode.Unmarshal(infoBytes, &info); err != nil {
		return nil, fmt.Errorf("%w: info dictionary: %v", ErrNotPstore, err)
	}
	if info.MetaVersion != 2 || info.PieceLength != PieceLength || info.Pstore.Version != LayoutVersion {
		return nil, fmt.Errorf("%w: meta version %d, piece length %d, pstore layout version %d",
			ErrNotPstore, info.MetaVersion, info.PieceLength, info.Pstore.Version)
	}
	root, err := merkle.ParseCID(info.Name)
	if err != nil || root.String() != info.Name {
		return nil, fmt.Errorf("%w: name %q is not a pin CID", ErrNotPstore, info.Name)
	}
	rd, _ := merkle.DigestOf(root)
	l := &Layout{Root: root, root: rd, index: map[plan.Digest]int{}, infoBytes: infoBytes}
	l.infoHash = infohash_v2.HashBytes(infoBytes)
	ft := info.FileTree
	if len(ft.Dir) != 1 {
		return nil, fmt.Errorf("%w: %d entries in the file tree, want 1", ErrNotPstore, len(ft.Dir))
	}
	f, ok := ft.Dir[info.Name]
	if !ok || len(f.Dir) != 0 || len(f.File.PiecesRoot) != 32 {
		return nil, fmt.Errorf("%w: the file tree is not one file named by the root", ErrNotPstore)
	}
	copy(l.piecesRoot[:], f.File.PiecesRoot)
	if err := l.decodeManifest([]byte(info.Pstore.Pins), lim); err != nil {
		return nil, err
	}
	if f.File.Length != l.fileLen() {
		return nil, fmt.Errorf("%w: file length %d, manifest total %d (file length %d)", ErrCorrupt, f.File.Length, l.total, l.fileLen())
	}
	np := l.NumPieces()
	if np > 1 {
		if len(info.Pstore.Layer) != 32*np {
			return nil, fmt.Errorf("%w: piece layer of %d bytes for %d pieces", ErrCorrupt, len(info.Pstore.Layer), np)
		}
		l.layer = make([][32]byte, np)
		for i := range l.layer {
			copy(l.layer[i][:], info.Pstore.Layer[32*i:])
		}
		if tmerkle.RootWithPadHash(l.layer, metainfo.HashForPiecePad(PieceLength)) != l.piecesRoot {
			return nil, fmt.Errorf("%w: piece layer does not match the pieces root", ErrCorrupt)
		}
	}
	// Only what this package writes is accepted: the same bytes re-encoded.
	var re Layout = *l
	if err := re.encodeInfo(); err != nil || string(re.infoBytes) != string(infoBytes) {
		return nil, fmt.Errorf("%w: info dictionary is not in canonical form", ErrNotPstore)
	}
	return l, nil
}

func (l *Layout) decodeManifest(b []byte, lim Limits) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: manifest: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	for len(b) > 0 {
		var e pinEntry
		if len(b) < 32 {
			return bad("truncated digest")
		}
		copy(e.d[:], b)
		b = b[32:]
		size, n := binary.Uvarint(b)
		if n <= 0 {
			return bad("bad size")
		}
		b = b[n:]
		np, n := binary.Uvarint(b)
		if n <= 0 || np > uint64(len(b))/33 {
			return bad("bad page count")
		}
		b = b[n:]
		if size < 8 || size > uint64(lim.maxBody()) || uint64(l.total)+size > uint64(lim.maxSize()) {
			return fmt.Errorf("%w: pin %s of %d bytes (stream limit %d, body limit %d)", ErrTooLarge, merkle.CIDOf(e.d), size, lim.maxSize(), lim.maxBody())
		}
		e.size = int64(size)
		if np > 0 {
			e.pages = make([]PageRef, np)
			var sum uint64
			for i := range e.pages {
				if len(b) < 32 {
					return bad("truncated page digest")
				}
				copy(e.pages[i].Digest[:], b)
				b = b[32:]
				ps, n := binary.Uvarint(b)
				if n <= 0 || ps == 0 || ps > size {
					return bad("bad page size")
				}
				b = b[n:]
				e.pages[i].Size = int(ps)
				sum += ps
			}
			if sum != size {
				return bad("pages of %s add up to %d bytes, body has %d", merkle.CIDOf(e.d), sum, size)
			}
			e.pageOff = pageOffsets(e.pages)
		}
		if _, dup := l.index[e.d]; dup {
			return bad("pin %s listed twice", merkle.CIDOf(e.d))
		}
		e.off = l.total
		l.index[e.d] = len(l.pins)
		l.pins = append(l.pins, e)
		l.total += e.size
	}
	if len(l.pins) == 0 || l.pins[len(l.pins)-1].d != l.root {
		return bad("the root %s is not the last pin", l.Root)
	}
	return nil
}
