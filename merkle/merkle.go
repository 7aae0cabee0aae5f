package merkle

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
	"github.com/zeebo/blake3"

	"pstore/plan"
	"pstore/seed"
)

// PinCodec is the multicodec of pstore pin CIDs: 0x300001, from the
// private-use range 0x300000-0x3FFFFF of the multicodec table. It says "the
// hashed bytes are a pstore canonical pin body (SEED.md section 15), format
// version 1". It is part of the format: changing it changes every CID.
const PinCodec uint64 = 0x300001

// DigestSize is the size of a BLAKE3-256 digest.
const DigestSize = 32

// Sentinel errors. ErrCorrupt is the corruption marker: every error about
// bytes that do not match their CID or are not a valid canonical body wraps
// it (test with errors.Is).
var (
	ErrCorrupt   = errors.New("merkle: corrupt")
	ErrNotPinCID = errors.New("merkle: not a pstore pin CID")
	ErrBadCID    = errors.New("merkle: malformed CID")
)

// HashBytes returns the BLAKE3-256 digest of b.
func HashBytes(b []byte) plan.Digest {
	return plan.Digest(blake3.Sum256(b))
}

// CIDOf returns the pin CID with digest d: CIDv1, PinCodec, BLAKE3-256
// multihash.
func CIDOf(d plan.Digest) cid.Cid {
	return cid.NewCidV1(PinCodec, mhOf(d))
}

// PageCID returns the CID of a page: CIDv1, raw codec, BLAKE3-256 of its
// bytes. Pages are the same on every store (ARCHITECTURE.md invariant 5).
func PageCID(page []byte) cid.Cid {
	return cid.NewCidV1(cid.Raw, mhOf(HashBytes(page)))
}

// PageCIDOf returns the page CID with digest d.
func PageCIDOf(d plan.Digest) cid.Cid { return cid.NewCidV1(cid.Raw, mhOf(d)) }

func mhOf(d plan.Digest) multihash.Multihash {
	mh, err := multihash.Encode(d[:], multihash.BLAKE3)
	if err != nil {
		panic(err) // 32 bytes is always a valid BLAKE3 multihash
	}
	return mh
}

// DigestOf returns the BLAKE3-256 digest inside a pin CID. It fails with
// ErrNotPinCID for any other codec or hash function.
func DigestOf(c cid.Cid) (plan.Digest, error) {
	return digestWithCodec(c, PinCodec)
}

// PageDigestOf returns the digest inside a page (raw codec) CID.
func PageDigestOf(c cid.Cid) (plan.Digest, error) {
	return digestWithCodec(c, cid.Raw)
}

func digestWithCodec(c cid.Cid, codec uint64) (plan.Digest, error) {
	var d plan.Digest
	if !c.Defined() {
		return d, fmt.Errorf("%w: undefined CID", ErrBadCID)
	}
	if c.Version() != 1 || c.Type() != codec {
		return d, fmt.Errorf("%w: %s has version %d, codec 0x%x", ErrNotPinCID, c, c.Version(), c.Type())
	}
	dm, err := multihash.Decode(c.Hash())
	if err != nil {
		return d, fmt.Errorf("%w: %s: %v", ErrBadCID, c, err)
	}
	if dm.Code != multihash.BLAKE3 || len(dm.Digest) != DigestSize {
		return d, fmt.Errorf("%w: %s is not a BLAKE3-256 hash", ErrNotPinCID, c)
	}
	copy(d[:], dm.Digest)
	return d, nil
}

// ParseCID parses the string form of a pin CID (base32 multibase, "b...").
func ParseCID(s string) (cid.Cid, error) {
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, fmt.Errorf("%w %q: %v", ErrBadCID, s, err)
	}
	if _, err := DigestOf(c); err != nil {
		return cid.Undef, err
	}
	return c, nil
}

// Verify checks body against the pin CID c by re-hashing it. A mismatch
// wraps ErrCorrupt and names the CID.
func Verify(c cid.Cid, body []byte) error {
	want, err := DigestOf(c)
	if err != nil {
		return err
	}
	if got := HashBytes(body); got != want {
		return fmt.Errorf("%w: body of %s hashes to %x", ErrCorrupt, c, got[:8])
	}
	return nil
}

// VerifyPage checks a page against its raw CID.
func VerifyPage(c cid.Cid, page []byte) error {
	want, err := PageDigestOf(c)
	if err != nil {
		return err
	}
	if got := HashBytes(page); got != want {
		return fmt.Errorf("%w: page %s hashes to %x", ErrCorrupt, c, got[:8])
	}
	return nil
}

// Body returns the canonical body of pin p (SEED.md section 15.3) and its
// child pins in hole order (child j is hole j+1, and the j-th digest). The
// digests of p and of every pin below it are computed and cached on the
// way.
func Body(p *plan.Pin) (body []byte, children []*plan.Pin, err error) {
	item, err := p.Item()
	if err != nil {
		return nil, nil, err
	}
	s, children, err := seed.EncodeBody(item)
	if err != nil {
		return nil, nil, err
	}
	digests := make([]plan.Digest, len(children))
	for i, c := range children {
		if digests[i], err = Digest(c); err != nil {
			return nil, nil, err
		}
	}
	body = assemble(digests, s)
	d := HashBytes(body)
	if old, ok := p.CachedDigest(); ok && old != d {
		return nil, nil, fmt.Errorf("%w: pin known as %s re-encodes to %s", ErrCorrupt, CIDOf(old), CIDOf(d))
	}
	p.SetDigest(d)
	return body, children, nil
}

// assemble lays out a body: u64 k, k digests, then the seed.
func assemble(digests []plan.Digest, s []byte) []byte {
	body := make([]byte, 8+DigestSize*len(digests)+len(s))
	binary.LittleEndian.PutUint64(body, uint64(len(digests)))
	off := 8
	for _, d := range digests {
		copy(body[off:], d[:])
		off += DigestSize
	}
	copy(body[off:], s)
	return body
}

// Digest returns the digest of pin p's canonical body, computing it (and the
// digests of every pin below it that lacks one) once and caching it in the
// pins. A pin whose digest is already known is not entered, so an unloaded
// reference is never loaded here.
func Digest(p *plan.Pin) (plan.Digest, error) {
	if d, ok := p.CachedDigest(); ok {
		return d, nil
	}
	if p.Loaded() {
		if n, ok := p.MustItem().(plan.Nat); ok && !n.IsSmall() {
			if d, ok := bigNatDigest(n); ok {
				p.SetDigest(d)
				return d, nil
			}
		}
	}
	err := Walk(p, nil, nil)
	if err != nil {
		return plan.Digest{}, err
	}
	d, _ := p.CachedDigest()
	return d, nil
}

// CID returns pin p's CID (see Digest).
func CID(p *plan.Pin) (cid.Cid, error) {
	d, err := Digest(p)
	if err != nil {
		return cid.Undef, err
	}
	return CIDOf(d), nil
}

// Walk visits the pins of the DAG under root in post-order (children before
// parents), computing each visited pin's canonical body and digest once.
//
// Which pins are entered: when skip is nil, a pin whose digest is already
// cached is not entered (Digest uses this). When skip is set, a pin with a
// cached digest d is not entered if skip(d) is true (a store passes "already
// stored"), and is entered otherwise (its contents are loaded if needed). A
// pin without a cached digest is always entered. visit, if set, is called
// once per entered pin with its digest and body. Walk uses an explicit
// stack, so pin chains of any length are fine.
func Walk(root *plan.Pin, skip func(plan.Digest) bool, visit func(p *plan.Pin, d plan.Digest, body []byte) error) error {
	type frame struct {
		p        *plan.Pin
		entered  bool
		seed     []byte
		children []*plan.Pin
		next     int
	}
	done := map[*plan.Pin]bool{}
	stack := []frame{{p: root}}
	for len(stack) > 0 {
		top := len(stack) - 1
		f := &stack[top]
		if !f.entered {
			if done[f.p] {
				stack = stack[:top]
				continue
			}
			if d, ok := f.p.CachedDigest(); ok && (skip == nil || skip(d)) {
				stack = stack[:top]
				continue
			}
			item, err := f.p.Item()
			if err != nil {
				return err
			}
			s, children, err := seed.EncodeBody(item)
			if err != nil {
				return err
			}
			f.entered, f.seed, f.children = true, s, children
		}
		if f.next < len(f.children) {
			c := f.children[f.next]
			f.next++
			stack = append(stack, frame{p: c})
			continue
		}
		digests := make([]plan.Digest, len(f.children))
		for i, c := range f.children {
			d, ok := c.CachedDigest()
			if !ok {
				// Entered children always get a digest; a child not
				// entered had one cached.
				panic("merkle: child pin without digest after walk")
			}
			digests[i] = d
		}
		body := assemble(digests, f.seed)
		d := HashBytes(body)
		if old, ok := f.p.CachedDigest(); ok && old != d {
			return fmt.Errorf("%w: pin known as %s re-encodes to %s", ErrCorrupt, CIDOf(old), CIDOf(d))
		}
		f.p.SetDigest(d)
		if visit != nil {
			if err := visit(f.p, d, body); err != nil {
				return err
			}
		}
		done[f.p] = true
		stack = stack[:top]
	}
	return nil
}

// ChildDigests returns the child digests listed in a body's header, without
// decoding its seed. It checks only that the header fits in the body.
func ChildDigests(body []byte) ([]plan.Digest, error) {
	k, err := childCount(body)
	if err != nil {
		return nil, err
	}
	out := make([]plan.Digest, k)
	for i := range out {
		copy(out[i][:], body[8+DigestSize*i:])
	}
	return out, nil
}

func childCount(body []byte) (int, error) {
	if len(body) < 8 {
		return 0, fmt.Errorf("%w: body of %d bytes has no child count", ErrCorrupt, len(body))
	}
	k := binary.LittleEndian.Uint64(body)
	if k > uint64(len(body)-8)/DigestSize {
		return 0, fmt.Errorf("%w: body claims %d child pins but has %d bytes", ErrCorrupt, k, len(body))
	}
	return int(k), nil
}

// DecodeBody reads a canonical body as data (SEED.md section 15.4): child
// pins become unloaded references loaded through l on first use. When body
// is 8-byte aligned (as a mapped segment is), big nats in it alias body and
// stay valid as long as body does. It does not check the digest (see
// Verify) nor canonical form (see CheckCanonical).
func DecodeBody(body []byte, l plan.PinLoader) (contents plan.Value, children []plan.Digest, err error) {
	children, err = ChildDigests(body)
	if err != nil {
		return nil, nil, err
	}
	holes := make([]plan.Value, len(children)+1)
	for i, d := range children {
		holes[i+1] = plan.NewPinRef(d, l)
	}
	v, err := seed.Decode(body[8+DigestSize*len(children):], seed.Body, holes)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return v, children, nil
}

// CheckCanonical reports whether body is the canonical body of the value it
// decodes to: re-encoding gives the same bytes, so one value never gets two
// CIDs (distinct child digests, each hole used, canonical seed). It loads no
// child pin.
func CheckCanonical(body []byte) error {
	v, children, err := DecodeBody(body, noLoader{})
	if err != nil {
		return err
	}
	s, kids, err := seed.EncodeBody(v)
	if err != nil {
		return fmt.Errorf("%w: re-encoding: %w", ErrCorrupt, err)
	}
	if len(kids) != len(children) {
		return fmt.Errorf("%w: body lists %d child pins, its value has %d distinct ones", ErrCorrupt, len(children), len(kids))
	}
	digests := make([]plan.Digest, len(kids))
	for i, k := range kids {
		d, ok := k.CachedDigest()
		if !ok {
			return fmt.Errorf("%w: child pin without digest", ErrCorrupt)
		}
		digests[i] = d
	}
	re := assemble(digests, s)
	if string(re) != string(body) {
		return fmt.Errorf("%w: body is not canonical (re-encodes to %d bytes, differs)", ErrCorrupt, len(re))
	}
	return nil
}

type noLoader struct{}

func (noLoader) LoadPin(d plan.Digest) (plan.Value, error) {
	return nil, fmt.Errorf("merkle: pin %s not loadable here", CIDOf(d))
}
