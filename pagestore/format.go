package pagestore

// Byte layouts of every persisted structure. doc.go draws them; this file is
// the code. All integers are little-endian and read at explicit offsets.

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sort"

	"pstore/plan"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

const (
	// FormatVersion is the store format version written in the header.
	FormatVersion = 1

	headerMagic = "PSTORE\x00\x01"
	metaMagic   = "PSMETA\x00\x01"
	indexMagic  = "PSINDEX\x01"
	intentMagic = "PSINTENT"

	pageSize   = 4096 // unit of the meta file and of the index header
	headerSize = 64   // used part of the format header
	metaSize   = 136  // used part of a commit record
	metaFile   = 3 * pageSize
	entrySize  = 64
	indexHdr   = pageSize // slots start here

	kindWhole    = 1 // a pin body stored whole
	kindManifest = 2 // a large pin body: its record is the page list
	kindPage     = 3 // one page of a large body

	manifestHdr   = 16
	manifestEntry = 40
	intentHdr     = 32
)

// ---- format header (meta file, bytes 0..64) ----

func encodeHeader() []byte {
	b := make([]byte, headerSize)
	copy(b, headerMagic)
	binary.LittleEndian.PutUint32(b[8:], FormatVersion)
	binary.LittleEndian.PutUint32(b[12:], headerSize)
	binary.LittleEndian.PutUint32(b[16:], PageMin)
	binary.LittleEndian.PutUint32(b[20:], PageAvg)
	binary.LittleEndian.PutUint32(b[24:], PageMax)
	binary.LittleEndian.PutUint32(b[28:], LargeThreshold)
	binary.LittleEndian.PutUint64(b[32:], GearSeed)
	binary.LittleEndian.PutUint32(b[40:], entrySize)
	binary.LittleEndian.PutUint32(b[60:], crc(b[:60]))
	return b
}

// checkHeader validates the format header in a fixed order: size, magic,
// version, checksum, parameters; each failure has its own error.
func checkHeader(b []byte, file string) error {
	if len(b) < headerSize {
		return fmt.Errorf("%w: %s is %d bytes", ErrBadFormat, file, len(b))
	}
	if string(b[:8]) != headerMagic {
		return fmt.Errorf("%w: %s starts with %q", ErrBadFormat, file, b[:8])
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != FormatVersion {
		return fmt.Errorf("%w: %s has version %d, this program reads %d", ErrVersion, file, v, FormatVersion)
	}
	if got, want := crc(b[:60]), binary.LittleEndian.Uint32(b[60:]); got != want {
		return fmt.Errorf("%w: %s offset 0: format header checksum %08x, want %08x", ErrCorrupt, file, got, want)
	}
	ref := encodeHeader()
	if string(b[12:44]) != string(ref[12:44]) {
		return fmt.Errorf("%w: %s (page %d/%d/%d, threshold %d, seed %x)", ErrParams, file,
			binary.LittleEndian.Uint32(b[16:]), binary.LittleEndian.Uint32(b[20:]),
			binary.LittleEndian.Uint32(b[24:]), binary.LittleEndian.Uint32(b[28:]),
			binary.LittleEndian.Uint64(b[32:]))
	}
	return nil
}

// ---- commit record (meta file, slots at 4096 and 8192) ----

type meta struct {
	gen        uint64
	indexID    uint32
	indexCap   uint64 // slots, a power of two
	indexCount uint64 // used slots
	firstSeg   uint32 // live segments are firstSeg..activeSeg
	activeSeg  uint32
	activeLen  uint64 // committed bytes of the active segment
	refsSeg    uint32 // refs record location; refsLen 0: no refs
	refsLen    uint32
	refsOff    uint64
	refsCRC    uint32
	pins       uint64 // whole + manifest entries
	pages      uint64 // page entries
	large      uint64 // manifest entries (large bodies)
	stored     uint64 // payload bytes of live whole bodies and pages
	offered    uint64 // bytes offered to PutBody, deduplicated or not
	gcs        uint64 // completed garbage collections
}

func (m *meta) encode() []byte {
	b := make([]byte, metaSize)
	copy(b, metaMagic)
	le := binary.LittleEndian
	le.PutUint64(b[8:], m.gen)
	le.PutUint32(b[16:], m.indexID)
	le.PutUint64(b[24:], m.indexCap)
	le.PutUint64(b[32:], m.indexCount)
	le.PutUint32(b[40:], m.firstSeg)
	le.PutUint32(b[44:], m.activeSeg)
	le.PutUint64(b[48:], m.activeLen)
	le.PutUint32(b[56:], m.refsSeg)
	le.PutUint32(b[60:], m.refsLen)
	le.PutUint64(b[64:], m.refsOff)
	le.PutUint32(b[72:], m.refsCRC)
	le.PutUint64(b[80:], m.pins)
	le.PutUint64(b[88:], m.pages)
	le.PutUint64(b[96:], m.large)
	le.PutUint64(b[104:], m.stored)
	le.PutUint64(b[112:], m.offered)
	le.PutUint64(b[120:], m.gcs)
	le.PutUint32(b[132:], crc(b[:132]))
	return b
}

// decodeMeta parses a commit record; it fails on a bad magic or checksum
// (a torn or never-written slot).
func decodeMeta(b []byte) (meta, error) {
	var m meta
	if len(b) < metaSize || string(b[:8]) != metaMagic {
		return m, fmt.Errorf("%w: bad commit record magic", ErrCorrupt)
	}
	le := binary.LittleEndian
	if got, want := crc(b[:132]), le.Uint32(b[132:]); got != want {
		return m, fmt.Errorf("%w: commit record checksum %08x, want %08x", ErrCorrupt, got, want)
	}
	m.gen = le.Uint64(b[8:])
	m.indexID = le.Uint32(b[16:])
	m.indexCap = le.Uint64(b[24:])
	m.indexCount = le.Uint64(b[32:])
	m.firstSeg = le.Uint32(b[40:])
	m.activeSeg = le.Uint32(b[44:])
	m.activeLen = le.Uint64(b[48:])
	m.refsSeg = le.Uint32(b[56:])
	m.refsLen = le.Uint32(b[60:])
	m.refsOff = le.Uint64(b[64:])
	m.refsCRC = le.Uint32(b[72:])
	m.pins = le.Uint64(b[80:])
	m.pages = le.Uint64(b[88:])
	m.large = le.Uint64(b[96:])
	m.stored = le.Uint64(b[104:])
	m.offered = le.Uint64(b[112:])
	m.gcs = le.Uint64(b[120:])
	if m.indexCap == 0 || m.indexCap&(m.indexCap-1) != 0 || m.firstSeg > m.activeSeg || m.indexCount > m.indexCap {
		return m, fmt.Errorf("%w: commit record %d is inconsistent", ErrCorrupt, m.gen)
	}
	return m, nil
}

// pickMeta returns the valid commit record with the highest generation.
func pickMeta(file []byte, name string) (meta, error) {
	var best meta
	found := false
	var errs []error
	for slot := 1; slot <= 2; slot++ {
		if len(file) < (slot+1)*pageSize {
			break
		}
		m, err := decodeMeta(file[slot*pageSize : slot*pageSize+metaSize])
		if err != nil {
			errs = append(errs, fmt.Errorf("slot %d: %w", slot, err))
			continue
		}
		if !found || m.gen > best.gen {
			best, found = m, true
		}
	}
	if !found {
		return best, fmt.Errorf("%w: %s: no valid commit record (%v)", ErrCorrupt, name, errs)
	}
	return best, nil
}

// ---- index entries (64 bytes) ----

type entry struct {
	d    plan.Digest
	off  uint64
	seg  uint32
	n    uint32
	kind uint8
	crc  uint32 // crc32c of the record's bytes in the segment
}

func (e *entry) put(b []byte) {
	copy(b, e.d[:])
	le := binary.LittleEndian
	le.PutUint64(b[32:], e.off)
	le.PutUint32(b[40:], e.seg)
	le.PutUint32(b[44:], e.n)
	b[48] = e.kind
	b[49], b[50], b[51] = 0, 0, 0
	le.PutUint32(b[52:], e.crc)
	le.PutUint32(b[56:], 0)
	le.PutUint32(b[60:], crc(b[:60]))
}

// getEntry decodes a slot; ok is false for a checksum mismatch.
func getEntry(b []byte) (e entry, ok bool) {
	le := binary.LittleEndian
	copy(e.d[:], b[:32])
	e.off = le.Uint64(b[32:])
	e.seg = le.Uint32(b[40:])
	e.n = le.Uint32(b[44:])
	e.kind = b[48]
	e.crc = le.Uint32(b[52:])
	return e, crc(b[:60]) == le.Uint32(b[60:]) && e.kind >= kindWhole && e.kind <= kindPage
}

// ---- manifest of a large body ----

// PageRef names one page of a large body.
type PageRef struct {
	Digest plan.Digest // BLAKE3-256 of the page bytes (CID: merkle.PageCIDOf)
	Size   int
}

func encodeManifest(total uint64, pages []PageRef) []byte {
	b := make([]byte, manifestHdr+manifestEntry*len(pages))
	le := binary.LittleEndian
	le.PutUint64(b, total)
	le.PutUint32(b[8:], uint32(len(pages)))
	for i, p := range pages {
		o := manifestHdr + manifestEntry*i
		copy(b[o:], p.Digest[:])
		le.PutUint32(b[o+32:], uint32(p.Size))
	}
	return b
}

func decodeManifest(b []byte) (uint64, []PageRef, error) {
	le := binary.LittleEndian
	if len(b) < manifestHdr {
		return 0, nil, fmt.Errorf("manifest of %d bytes", len(b))
	}
	total, n := le.Uint64(b), le.Uint32(b[8:])
	if uint64(len(b)) != manifestHdr+manifestEntry*uint64(n) {
		return 0, nil, fmt.Errorf("manifest of %d bytes lists %d pages", len(b), n)
	}
	pages := make([]PageRef, n)
	var sum uint64
	for i := range pages {
		o := manifestHdr + manifestEntry*i
		copy(pages[i].Digest[:], b[o:o+32])
		sz := le.Uint32(b[o+32:])
		if sz == 0 || sz > PageMax {
			return 0, nil, fmt.Errorf("manifest page %d has size %d", i, sz)
		}
		pages[i].Size = int(sz)
		sum += uint64(sz)
	}
	if sum != total {
		return 0, nil, fmt.Errorf("manifest pages sum to %d, header says %d", sum, total)
	}
	return total, pages, nil
}

// ---- intent record (written at the committed end of the active segment) ----

func encodeIntent(gen uint64, indexID uint32, slots []uint64) []byte {
	b := make([]byte, intentHdr+8*len(slots))
	le := binary.LittleEndian
	copy(b, intentMagic)
	le.PutUint64(b[8:], gen)
	le.PutUint32(b[16:], indexID)
	le.PutUint32(b[20:], uint32(len(slots)))
	for i, s := range slots {
		le.PutUint64(b[intentHdr+8*i:], s)
	}
	le.PutUint32(b[24:], crc(b[:24]))
	le.PutUint32(b[28:], crc(b[intentHdr:]))
	return b
}

// decodeIntent reads an intent record at the start of b; ok is false when
// there is none (the crashed batch never got its data durable).
func decodeIntent(b []byte) (gen uint64, indexID uint32, slots []uint64, ok bool) {
	le := binary.LittleEndian
	if len(b) < intentHdr || string(b[:8]) != intentMagic || crc(b[:24]) != le.Uint32(b[24:]) {
		return 0, 0, nil, false
	}
	n := uint64(le.Uint32(b[20:]))
	if uint64(len(b)-intentHdr) < 8*n || crc(b[intentHdr:intentHdr+8*n]) != le.Uint32(b[28:]) {
		return 0, 0, nil, false
	}
	slots = make([]uint64, n)
	for i := range slots {
		slots[i] = le.Uint64(b[intentHdr+8*i:])
	}
	return le.Uint64(b[8:]), le.Uint32(b[16:]), slots, true
}

// ---- refs record ----

func encodeRefs(refs map[string]plan.Digest) []byte {
	names := make([]string, 0, len(refs))
	for n := range refs {
		names = append(names, n)
	}
	sort.Strings(names)
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(names)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	for _, n := range names {
		d := refs[n]
		b = binary.LittleEndian.AppendUint16(b, uint16(len(n)))
		b = append(b, n...)
		b = append(b, d[:]...)
	}
	return b
}

func decodeRefs(b []byte) (map[string]plan.Digest, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("refs record of %d bytes", len(b))
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[8:]
	refs := make(map[string]plan.Digest, min(n, 1<<16))
	for i := uint32(0); i < n; i++ {
		if len(b) < 2 {
			return nil, fmt.Errorf("refs record truncated at ref %d", i)
		}
		l := int(binary.LittleEndian.Uint16(b))
		if len(b) < 2+l+32 {
			return nil, fmt.Errorf("refs record truncated at ref %d", i)
		}
		var d plan.Digest
		copy(d[:], b[2+l:])
		refs[string(b[2:2+l])] = d
		b = b[2+l+32:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("refs record has %d trailing bytes", len(b))
	}
	return refs, nil
}

func align8(n uint64) uint64 { return (n + 7) &^ 7 }
