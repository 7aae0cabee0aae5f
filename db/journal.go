package db

// The journal: the durable point of a group commit between checkpoints.
// doc.go ("Commit design") says why it exists; this file is the format.
//
// A journal is the file <store>/db-journal/<NAME>.wal, written only by the
// process that holds the store's writer lock. It is a sequence of records:
//
//	offset  size  field
//	0       4     magic "PDBJ"
//	4       4     n, the payload length (u32, little-endian)
//	8       4     CRC-32C (Castagnoli) of the payload
//	12      n     payload:
//	              0   8   first event number of the batch (u64)
//	              8   4   number of inputs in the batch (u32)
//	              12  4   k, number of bodies (u32)
//	              16  32  database identity: BLAKE3-256 of the initial value
//	                      pin's digest and the creation time (u64), so a
//	                      journal is never applied to another database
//	              48  ... k times: 32-byte digest, u32 body length, body
//
// The bodies are canonical pin bodies (merkle) that the store does not hold
// yet, children before parents; the last one is the batch pin. A record is
// appended with one write and made durable with one fdatasync before any
// caller of its batch is answered. Recovery reads records in order and stops
// at the first one whose magic, length or checksum is wrong: that is the
// torn tail of an append that was never acknowledged, and it is cut off.
// Each body is re-hashed against its digest before it is used.
//
// A checkpoint stores every journaled body and the new head in one page
// store commit, then truncates the journal to zero. A record whose events
// are already covered by the head (a crash between the two) is skipped.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"pstore/merkle"
	"pstore/pagestore"
	"pstore/plan"
)

const (
	journalDir   = "db-journal"
	journalMagic = "PDBJ"
	journalHdr   = 12
	// maxRecord bounds a record's payload; a larger length is a torn or
	// foreign record.
	maxRecord = 1 << 30
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type jbody struct {
	d    plan.Digest
	body []byte
}

type jrecord struct {
	first  uint64
	count  uint32
	id     plan.Digest
	bodies []jbody
}

const jpayloadHdr = 48

// identity is the database identity journal records carry.
func identity(h *head) (plan.Digest, error) {
	d, err := pinDigest(h.initPin)
	if err != nil {
		return plan.Digest{}, err
	}
	b := binary.LittleEndian.AppendUint64(d[:], h.createdMs)
	return merkle.HashBytes(b), nil
}

// journal is owned by the database's writer goroutine.
type journal struct {
	f    *os.File
	path string
	size int64
	// pending are the bodies journaled since the last checkpoint, in
	// order; pendingSet indexes them by digest.
	pending    []jbody
	pendingSet map[plan.Digest]struct{}
}

func journalPath(st *pagestore.Store, name string) string {
	return filepath.Join(st.Dir(), journalDir, name+".wal")
}

// removeJournal deletes the journal of name (a dropped or re-created
// database must not inherit one).
func removeJournal(st *pagestore.Store, name string) error {
	err := os.Remove(journalPath(st, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// openJournal opens (creating if needed) the journal of name and returns
// its valid records; a torn tail is cut off.
func openJournal(st *pagestore.Store, name string) (*journal, []jrecord, error) {
	dir := filepath.Join(st.Dir(), journalDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("db: journal: %w", err)
	}
	path := journalPath(st, name)
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("db: journal: %w", err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		// Make the new file's directory entry durable once.
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, nil, err
		}
		if err := syncDir(st.Dir()); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("db: reading journal %s: %w", path, err)
	}
	recs, valid := parseJournal(data)
	if valid < int64(len(data)) {
		if err := f.Truncate(valid); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("db: cutting the torn tail of journal %s: %w", path, err)
		}
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("db: journal %s: %w", path, err)
		}
	}
	j := &journal{f: f, path: path, size: valid, pendingSet: map[plan.Digest]struct{}{}}
	return j, recs, nil
}

// parseJournal decodes records up to the first invalid one and returns
// them with the length of the valid prefix. It never panics on bad bytes.
func parseJournal(data []byte) ([]jrecord, int64) {
	var recs []jrecord
	off := 0
	le := binary.LittleEndian
	for {
		if len(data)-off < journalHdr || string(data[off:off+4]) != journalMagic {
			break
		}
		n := int(le.Uint32(data[off+4:]))
		if n < jpayloadHdr || n > maxRecord || len(data)-off-journalHdr < n {
			break
		}
		p := data[off+journalHdr : off+journalHdr+n]
		if crc32.Checksum(p, castagnoli) != le.Uint32(data[off+8:]) {
			break
		}
		r := jrecord{first: le.Uint64(p), count: le.Uint32(p[8:])}
		k := int(le.Uint32(p[12:]))
		copy(r.id[:], p[16:48])
		q := p[jpayloadHdr:]
		ok := true
		for i := 0; i < k; i++ {
			if len(q) < 36 {
				ok = false
				break
			}
			var d plan.Digest
			copy(d[:], q)
			bl := int(le.Uint32(q[32:]))
			if bl > len(q)-36 {
				ok = false
				break
			}
			r.bodies = append(r.bodies, jbody{d: d, body: q[36 : 36+bl]})
			q = q[36+bl:]
		}
		if !ok || len(q) != 0 || k == 0 {
			break
		}
		recs = append(recs, r)
		off += journalHdr + n
	}
	return recs, int64(off)
}

// has reports whether d was journaled since the last checkpoint.
func (j *journal) has(d plan.Digest) bool {
	_, ok := j.pendingSet[d]
	return ok
}

// add encodes one record, reserves its place at the end of the journal
// and notes its bodies as pending. It returns the record and its offset;
// the syncer writes and syncs it (write).
func (j *journal) add(id plan.Digest, first uint64, count int, bodies []jbody) ([]byte, int64, error) {
	n := jpayloadHdr
	for _, b := range bodies {
		n += 36 + len(b.body)
	}
	if n > maxRecord {
		return nil, 0, fmt.Errorf("db: journal record of %d bytes is too large", n)
	}
	buf := make([]byte, 0, journalHdr+n)
	le := binary.LittleEndian
	buf = append(buf, journalMagic...)
	buf = le.AppendUint32(buf, uint32(n))
	buf = le.AppendUint32(buf, 0) // checksum, below
	buf = le.AppendUint64(buf, first)
	buf = le.AppendUint32(buf, uint32(count))
	buf = le.AppendUint32(buf, uint32(len(bodies)))
	buf = append(buf, id[:]...)
	for _, b := range bodies {
		buf = append(buf, b.d[:]...)
		buf = le.AppendUint32(buf, uint32(len(b.body)))
		buf = append(buf, b.body...)
	}
	le.PutUint32(buf[8:], crc32.Checksum(buf[journalHdr:], castagnoli))
	off := j.size
	j.size += int64(len(buf))
	for _, b := range bodies {
		// The bodies alias nothing the caller keeps (merkle builds a
		// fresh slice per body), so they can be held until checkpoint.
		j.pending = append(j.pending, b)
		j.pendingSet[b.d] = struct{}{}
	}
	return buf, off, nil
}

// write writes records at their offsets and makes them durable with one
// fdatasync. Only the syncer calls it, in offset order.
func (j *journal) write(recs [][]byte, offs []int64) error {
	for i, b := range recs {
		if _, err := j.f.WriteAt(b, offs[i]); err != nil {
			return fmt.Errorf("db: writing journal %s: %w", j.path, err)
		}
	}
	if err := unix.Fdatasync(int(j.f.Fd())); err != nil {
		return fmt.Errorf("db: syncing journal %s: %w", j.path, err)
	}
	return nil
}

// reset empties the journal after a checkpoint made its contents durable in
// the store.
func (j *journal) reset() error {
	j.pending = nil
	j.pendingSet = map[plan.Digest]struct{}{}
	if j.size == 0 {
		return nil
	}
	if err := j.f.Truncate(0); err != nil {
		return fmt.Errorf("db: truncating journal %s: %w", j.path, err)
	}
	// Not synced: if the truncation is lost, the records it dropped are
	// covered by the head and skipped on recovery; the next append's
	// fdatasync makes the new size durable.
	j.size = 0
	return nil
}

func (j *journal) close() error { return j.f.Close() }

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("db: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("db: syncing %s: %w", dir, err)
	}
	return nil
}

// importJournal moves the journal records that the head does not cover
// into the store: it checks that they continue the head's chain, stores
// their bodies and commits a head that includes them. It returns the new
// head.
func importJournal(st *pagestore.Store, name string, h *head, recs []jrecord) (*head, error) {
	nh := *h
	sb := st.NewBatch()
	imported := 0
	id, err := identity(h)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.id != id {
			return nil, fmt.Errorf("%w: journal %s belongs to another database (identity %x, want %x)", ErrCorrupt, journalPath(st, name), r.id[:8], id[:8])
		}
		last := r.first + uint64(r.count) - 1
		if r.count == 0 || last <= nh.events {
			if r.count != 0 && r.first <= nh.events && last > nh.events {
				return nil, fmt.Errorf("%w: journal record %d..%d straddles the head's event %d", ErrCorrupt, r.first, last, nh.events)
			}
			continue
		}
		if r.first != nh.events+1 {
			return nil, fmt.Errorf("%w: journal record starts at event %d, the log ends at %d", ErrCorrupt, r.first, nh.events)
		}
		for _, b := range r.bodies {
			if err := merkle.Verify(merkle.CIDOf(b.d), b.body); err != nil {
				return nil, fmt.Errorf("db %q: journal: %w", name, err)
			}
			if err := sb.PutBody(b.d, b.body); err != nil {
				return nil, err
			}
		}
		bp := r.bodies[len(r.bodies)-1]
		v, _, err := merkle.DecodeBody(bp.body, st)
		if err != nil {
			return nil, fmt.Errorf("%w: journal batch %s: %w", ErrCorrupt, merkle.CIDOf(bp.d), err)
		}
		b, err := decodeBatch(v)
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		if b.first != r.first || uint64(len(b.inputs)) != uint64(r.count) {
			return nil, fmt.Errorf("%w: journal record %d+%d holds batch %d+%d", ErrCorrupt, r.first, r.count, b.first, len(b.inputs))
		}
		var prevD, wantD plan.Digest
		if b.prev != nil {
			prevD, _ = b.prev.CachedDigest()
		}
		if nh.lastBatch != nil {
			if wantD, err = pinDigest(nh.lastBatch); err != nil {
				return nil, err
			}
		}
		if (b.prev == nil) != (nh.lastBatch == nil) || prevD != wantD {
			return nil, fmt.Errorf("%w: journal batch at event %d does not follow the log's last batch", ErrCorrupt, r.first)
		}
		nh.events = last
		nh.lastBatch = plan.NewPinRef(bp.d, st)
		nh.batches++
		for _, e := range b.inputs {
			nh.logBytes += approxSize(e)
		}
		imported++
	}
	if imported == 0 {
		return h, nil
	}
	hp := plan.P(nh.value())
	if _, err := sb.PutPin(hp); err != nil {
		return nil, err
	}
	hd, _ := hp.CachedDigest()
	sb.SetRef(RefPrefix+name, hd)
	if err := sb.Commit(); err != nil {
		return nil, fmt.Errorf("db %q: committing the journal: %w", name, err)
	}
	return &nh, nil
}
