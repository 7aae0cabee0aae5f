package torrent

// CARv1 export and import (https://ipld.io/specs/transport/car/carv1/).
//
// A CAR file is a header and then blocks:
//
//	header  uvarint(len) + DAG-CBOR {"roots": [CID...], "version": 1}
//	block   uvarint(len(cid)+len(data)) + CID bytes + data
//
// CIDs in the header are CBOR tag 42 byte strings holding 0x00 (the
// identity multibase prefix) and the binary CID. pstore writes one block
// per pin: its CID (codec 0x300001, BLAKE3-256) and its whole canonical
// body, so every block verifies against its CID with any CAR reader that
// knows BLAKE3, in post-order (children before parents, the root last).
// Pages are not written as blocks of their own: a store re-chunks a body
// the same way everywhere (ARCHITECTURE.md invariant 5), and a page alone
// cannot be checked against the pin CID. The format is written by hand:
// github.com/ipld/go-car/v2 is not in go.mod and its dependency tree is
// large for two functions.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"

	"pstore/merkle"
	"pstore/plan"
)

// Export writes the DAG under root, read from src, to w as a CARv1 file.
func Export(src Source, root cid.Cid, w io.Writer) error {
	rd, err := merkle.DigestOf(root)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	hdr := carHeader([]cid.Cid{root})
	if _, err := bw.Write(binary.AppendUvarint(nil, uint64(len(hdr)))); err != nil {
		return err
	}
	if _, err := bw.Write(hdr); err != nil {
		return err
	}
	// Post-order, as in BuildTorrent, which reads pins the same way
	// (readPin): a paged body is never assembled, only its first pages are
	// read for its children, and it is written page by page. A body stored
	// whole is read again when it is written (from StoreAdapter and
	// MemStore, a slice of the store: no copy) rather than kept on the
	// walk's stack.
	type pinInfo struct {
		pages []PageRef
		size  int64
	}
	write := func(b []byte) error {
		_, err := bw.Write(b)
		return err
	}
	err = postOrder(rd, func(d plan.Digest) ([]plan.Digest, pinInfo, error) {
		children, pages, size, err := readPin(src, d)
		return children, pinInfo{pages, size}, err
	}, func(d plan.Digest, p pinInfo) error {
		var body []byte
		if p.pages == nil {
			var err error
			if body, err = src.Body(d); err != nil {
				return fmt.Errorf("pin %s: %w", merkle.CIDOf(d), err)
			}
			if int64(len(body)) != p.size {
				return fmt.Errorf("%w: pin %s has %d bytes, expected %d", ErrCorrupt, merkle.CIDOf(d), len(body), p.size)
			}
		}
		cb := merkle.CIDOf(d).Bytes()
		if err := write(binary.AppendUvarint(nil, uint64(len(cb))+uint64(p.size))); err != nil {
			return err
		}
		if err := write(cb); err != nil {
			return err
		}
		if p.pages == nil {
			return write(body)
		}
		for j, pr := range p.pages {
			page, err := src.Page(pr.Digest)
			if err != nil {
				return fmt.Errorf("pin %s: page %d: %w", merkle.CIDOf(d), j, err)
			}
			if len(page) != pr.Size {
				return fmt.Errorf("%w: page %d (%s) of pin %s has %d bytes, expected %d", ErrCorrupt, j, merkle.PageCIDOf(pr.Digest), merkle.CIDOf(d), len(page), pr.Size)
			}
			if err := write(page); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// carHeader encodes {"roots": roots, "version": 1} in canonical DAG-CBOR
// (keys sorted by length, then bytes).
func carHeader(roots []cid.Cid) []byte {
	b := []byte{0xa2}
	b = cborHead(b, 3, 5)
	b = append(b, "roots"...)
	b = cborHead(b, 4, uint64(len(roots)))
	for _, r := range roots {
		cb := r.Bytes()
		b = append(b, 0xd8, 42)
		b = cborHead(b, 2, uint64(len(cb)+1))
		b = append(b, 0)
		b = append(b, cb...)
	}
	b = cborHead(b, 3, 7)
	b = append(b, "version"...)
	return append(b, 0x01)
}

func cborHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n < 1<<8:
		return append(b, m|24, byte(n))
	case n < 1<<16:
		return append(b, m|25, byte(n>>8), byte(n))
	case n < 1<<32:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, m|27), n)
	}
}

// cborReader reads the few CBOR items a CAR header holds.
type cborReader struct{ b []byte }

func (r *cborReader) head() (major byte, n uint64, err error) {
	if len(r.b) == 0 {
		return 0, 0, io.ErrUnexpectedEOF
	}
	major, info := r.b[0]>>5, r.b[0]&31
	r.b = r.b[1:]
	if info < 24 {
		return major, uint64(info), nil
	}
	size := map[byte]int{24: 1, 25: 2, 26: 4, 27: 8}[info]
	if size == 0 || len(r.b) < size {
		return 0, 0, errors.New("bad CBOR length")
	}
	for _, c := range r.b[:size] {
		n = n<<8 | uint64(c)
	}
	r.b = r.b[size:]
	return major, n, nil
}

func (r *cborReader) bytes(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)) {
		return nil, io.ErrUnexpectedEOF
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out, nil
}

func parseCarHeader(h []byte) ([]cid.Cid, error) {
	r := &cborReader{h}
	major, n, err := r.head()
	if err != nil || major != 5 || n > 16 {
		return nil, fmt.Errorf("%w: CAR header is not a map", ErrCorrupt)
	}
	var roots []cid.Cid
	version := uint64(0)
	for i := uint64(0); i < n; i++ {
		major, kn, err := r.head()
		if err != nil || major != 3 {
			return nil, fmt.Errorf("%w: CAR header key", ErrCorrupt)
		}
		key, err := r.bytes(kn)
		if err != nil {
			return nil, fmt.Errorf("%w: CAR header key", ErrCorrupt)
		}
		switch string(key) {
		case "version":
			major, v, err := r.head()
			if err != nil || major != 0 {
				return nil, fmt.Errorf("%w: CAR version", ErrCorrupt)
			}
			version = v
		case "roots":
			major, cnt, err := r.head()
			if err != nil || major != 4 || cnt > uint64(len(r.b)) {
				return nil, fmt.Errorf("%w: CAR roots", ErrCorrupt)
			}
			for j := uint64(0); j < cnt; j++ {
				major, tag, err := r.head()
				if err != nil || major != 6 || tag != 42 {
					return nil, fmt.Errorf("%w: CAR root is not a CID", ErrCorrupt)
				}
				major, bn, err := r.head()
				if err != nil || major != 2 {
					return nil, fmt.Errorf("%w: CAR root is not a CID", ErrCorrupt)
				}
				cb, err := r.bytes(bn)
				if err != nil || len(cb) < 2 || cb[0] != 0 {
					return nil, fmt.Errorf("%w: CAR root is not a CID", ErrCorrupt)
				}
				c, err := cid.Cast(cb[1:])
				if err != nil {
					return nil, fmt.Errorf("%w: CAR root: %v", ErrCorrupt, err)
				}
				roots = append(roots, c)
			}
		default:
			return nil, fmt.Errorf("%w: CAR header key %q", ErrCorrupt, key)
		}
	}
	if version != 1 || len(r.b) != 0 {
		return nil, fmt.Errorf("%w: not a CARv1 header (version %d)", ErrCorrupt, version)
	}
	return roots, nil
}

// Import reads a CARv1 file into dst. Every pin block is verified against
// its CID and must be canonical; pins are stored children first, in
// batches, and a pin is stored only once its whole DAG is (in dst or
// earlier in the file). A raw-codec block with a BLAKE3-256 CID (a page,
// as other tools may write) is verified against its CID and skipped; a
// block with any other CID (another codec or hash function) is
// ErrCorrupt. Every root must be a pin whose DAG is complete at the end.
// lim.MaxBody bounds one block.
func Import(dst Sink, r io.Reader, lim Limits) (roots []cid.Cid, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	hl, err := binary.ReadUvarint(br)
	if err != nil || hl == 0 || hl > 1<<20 {
		return nil, fmt.Errorf("%w: CAR header length", ErrCorrupt)
	}
	h := make([]byte, hl)
	if _, err := io.ReadFull(br, h); err != nil {
		return nil, fmt.Errorf("%w: CAR header: %v", ErrCorrupt, err)
	}
	if roots, err = parseCarHeader(h); err != nil {
		return nil, err
	}
	for _, c := range roots {
		if _, err := merkle.DigestOf(c); err != nil {
			return nil, fmt.Errorf("%w: root %s: %w", ErrCorrupt, c, err)
		}
	}
	have := map[plan.Digest]bool{} // imported (batched or stored) in this run
	present := func(d plan.Digest) bool { return have[d] || dst.Has(d) }
	var batch []BodyPut
	var batchBytes int
	var held []BodyPut // pins whose children come later in the file
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := dst.PutBatch(nil, batch)
		batch, batchBytes = nil, 0
		return err
	}
	ready := func(b BodyPut) bool {
		kids, _ := merkle.ChildDigests(b.Body)
		for _, k := range kids {
			if !present(k) {
				return false
			}
		}
		return true
	}
	for n := 0; ; n++ {
		bl, err := binary.ReadUvarint(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: block %d length: %v", ErrCorrupt, n, err)
		}
		if bl > uint64(lim.maxBody())+64 {
			return nil, fmt.Errorf("%w: block %d of %d bytes", ErrTooLarge, n, bl)
		}
		var buf bytes.Buffer
		if k, err := io.CopyN(&buf, br, int64(bl)); err != nil {
			return nil, fmt.Errorf("%w: block %d truncated at %d of %d bytes", ErrCorrupt, n, k, bl)
		}
		blk := buf.Bytes()
		k, c, err := cid.CidFromBytes(blk)
		if err != nil {
			return nil, fmt.Errorf("%w: block %d CID: %v", ErrCorrupt, n, err)
		}
		data := blk[k:]
		if c.Type() == cid.Raw {
			if err := merkle.VerifyPage(c, data); err != nil {
				return nil, fmt.Errorf("%w: block %d: %w", ErrCorrupt, n, err)
			}
			continue
		}
		d, err := merkle.DigestOf(c)
		if err != nil {
			return nil, fmt.Errorf("%w: block %d: %w", ErrCorrupt, n, err)
		}
		if err := merkle.Verify(c, data); err != nil {
			return nil, fmt.Errorf("%w: block %d: %w", ErrCorrupt, n, err)
		}
		if err := merkle.CheckCanonical(data); err != nil {
			return nil, fmt.Errorf("%w: block %d (%s): %w", ErrCorrupt, n, c, err)
		}
		if present(d) {
			continue
		}
		b := BodyPut{Digest: d, Body: data}
		if !ready(b) {
			held = append(held, b)
			continue
		}
		have[d] = true
		batch = append(batch, b)
		batchBytes += len(data)
		if batchBytes >= 64<<20 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	// Pins that came before their children, in as many rounds as needed.
	for progress := true; progress && len(held) > 0; {
		progress = false
		rest := held[:0]
		for _, b := range held {
			if present(b.Digest) {
				continue
			}
			if ready(b) {
				have[b.Digest] = true
				batch = append(batch, b)
				progress = true
			} else {
				rest = append(rest, b)
			}
		}
		held = rest
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(held) > 0 {
		return nil, fmt.Errorf("%w: %d pins (e.g. %s) have children the file does not hold", ErrCorrupt, len(held), merkle.CIDOf(held[0].Digest))
	}
	for _, c := range roots {
		if d, _ := merkle.DigestOf(c); !dst.Has(d) {
			return nil, fmt.Errorf("%w: root %s is not in the file", ErrCorrupt, c)
		}
	}
	return roots, nil
}
