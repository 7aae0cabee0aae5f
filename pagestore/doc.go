// Package pagestore stores pins as canonical bodies (SEED.md section 15)
// addressed by digest, in append-only segment files mapped read-only, with
// a persistent hash index, named roots (refs) and a checksummed commit
// record. It is the storage engine under pstore's CLI, databases and
// torrent bridge.
//
// # Files
//
// A store is a directory:
//
//	lock            empty; the writer holds an exclusive flock on it
//	meta            format header + two alternating commit records (12 KiB)
//	index-NNNNNNNN  the hash index named by the current commit record
//	seg-NNNNNNNN    segment files firstSeg..activeSeg (append-only data)
//
// Every integer is little-endian and read at an explicit offset
// (format.go). CRC-32C is crc32.Castagnoli.
//
// # meta: format header (offset 0, written once at creation)
//
//	off size field
//	0   8    magic "PSTORE\x00\x01"
//	8   4    format version (1)
//	12  4    header size (64)
//	16  4    PageMin (16384)      chunker parameters: part of format 1
//	20  4    PageAvg (65536)
//	24  4    PageMax (262144)
//	28  4    LargeThreshold (262144)
//	32  8    GearSeed (0x7073746f72650001)
//	40  4    index entry size (64)
//	44  16   zero
//	60  4    CRC-32C of bytes 0..60
//
// Open checks, in this order and with distinct errors: length
// (ErrBadFormat), magic (ErrBadFormat), version (ErrVersion), checksum
// (ErrCorrupt), parameters (ErrParams).
//
// # meta: commit records (offsets 4096 and 8192)
//
// Commit generation g is written to offset 4096*(1+g%2), so a commit never
// overwrites the previous one; the valid record (magic and checksum) with
// the highest generation is the store's state. A torn or damaged newest
// record therefore falls back to the previous commit; if neither is valid,
// Open fails with ErrCorrupt ("no valid commit record").
//
//	off size field
//	0   8    magic "PSMETA\x00\x01"
//	8   8    generation
//	16  4    index file id          24  8  index capacity (slots, power of 2)
//	32  8    used slots             40  4  firstSeg   44  4  activeSeg
//	48  8    activeLen: committed bytes of the active segment
//	56  4    refs segment   60  4  refs length (0: no refs)
//	64  8    refs offset    72  4  refs CRC-32C   76 4 zero
//	80  8    pins (bodies)  88  8  pages   96  8  large bodies
//	104 8    bytes stored (whole bodies + pages)
//	112 8    bytes offered to PutBody   120 8  GCs done   128 4 zero
//	132 4    CRC-32C of bytes 0..132
//
// # Index: an open-addressing hash table in one mapped file
//
// index-N starts with a 4096-byte header ("PSINDEX\x01", u64 capacity,
// CRC-32C of bytes 0..16 at 16), then capacity slots of 64 bytes. A digest
// (BLAKE3, uniformly distributed) goes to slot LE64(digest[0:8]) mod
// capacity, then linear probing; kind 0 marks an empty slot and ends a probe.
// Entries are only ever added to empty slots and never changed, so a
// reader's probe sequence is stable. The load is kept at most 1/2: a commit
// that would exceed it writes a whole new index file (capacity 4x the
// entries) and names it in its commit record.
//
//	off size field
//	0   32   digest (BLAKE3-256 of the record's bytes, or of the whole
//	         body for a large body's entry)
//	32  8    offset in the segment    40  4  segment id
//	44  4    length                   48  1  kind (1 whole body,
//	         2 large body: the record is its page list, 3 page)
//	49  3    zero    52 4 CRC-32C of the record's bytes   56 4 zero
//	60  4    CRC-32C of bytes 0..60 of the slot
//
// An entry belongs to commit m only if its segment lies in
// firstSeg..activeSeg and, in the active segment, it ends at or before
// activeLen: data is only appended, so the entries of a batch that has not
// committed (or never will) always point past the committed end. Readers
// apply this rule to every lookup, which is how the index file can be
// updated in place while other processes read it.
//
// Open is O(1) in the store's size: it reads the header and the two
// commit records and maps the index file; segments are opened and mapped
// on first use. (A writer's Open also lists the directory to delete files
// left by a crash: a few names.)
//
// # Segments and records
//
// Records are raw bytes; everything about them is in their index entry.
//
//   - Whole body (kind 1): a pin body of at most LargeThreshold (256 KiB)
//     bytes, 8-byte aligned.
//   - Page (kind 3): 16 KiB ... 256 KiB of a large body (its last page may
//     be shorter). The new pages of a body are written back to back (no
//     padding), the first one 8-byte aligned, so a body written at once is
//     contiguous. Pages stored alone (Batch.PutPage, 1 byte ... 256 KiB)
//     are written the same way: those of one batch back to back, after
//     its large bodies (a page that one of them contains is written with
//     that body, not again).
//   - Page list (kind 2), 8-aligned: u64 body length, u32 page count, u32
//     zero, then per page 32-byte page digest, u32 size, u32 zero.
//   - Refs (named by the commit record, not indexed): u32 count, u32 zero,
//     then per ref u16 name length, the name, the 32-byte pin digest;
//     sorted by name.
//   - Intent (not indexed), at the committed end of the active segment:
//     "PSINTENT", u64 generation, u32 index id, u32 n, CRC-32C of bytes
//     0..24, CRC-32C of the slot list, then n u64 slot numbers.
//
// A writer starts a new segment when a group of records (a body's new
// pages and page list) would take the current one past Options.SegmentSize
// (1 GiB); a body larger than that gets a segment of its own.
//
// # Large bodies and the chunker
//
// Bodies over LargeThreshold are split by the content-defined chunker in
// chunker.go (FastCDC, gear hash, 16/64/256 KiB, fixed gear table); these
// constants are part of format 1 so every store splits a body into the same
// pages with the same raw-codec page CIDs (merkle.PageCIDOf). Each page is
// stored once (deduplicated by digest); a body's entry points to its page
// list. The pin CID is the hash of the whole body and never depends on the
// chunking. Inserting a byte into a large body changes one or two pages.
//
// There is one namespace of byte strings by digest: a pin body whose bytes
// happen to equal a page is the same record (reading it gives the right
// bytes either way).
//
// # Pages stored before their body (Batch.PutPage)
//
//	func (b *Batch) PutPage(d plan.Digest, page []byte) error
//
// stores one page on its own, as a kind 3 record: CRC-32C in its entry,
// deduplicated by digest (a no-op if d is stored or in the batch), durable
// at Commit through the same commit path as everything else (intent
// record, index, commit record), counted in Stats.Pages and
// Stats.BytesStored (not in Pins or BytesOffered: a page is not a pin). It
// exists for bodies that arrive page by page (the torrent bridge's fetch):
// each verified page is made durable as it comes, so an interrupted
// transfer keeps what it received. When PutBody later stores a large body,
// Commit looks up each of its pages and writes only the missing ones; the
// page list points to the pages stored earlier. A body whose pages were
// stored in several batches is not contiguous on disk, so Body assembles
// it into a new buffer instead of returning a slice of the mapping (GC
// copies the pages of each live large body back to back, which makes it
// contiguous again).
//
// A page is not a root and protects nothing: GC keeps a page only when a
// large body reachable from the refs lists it (or when it is itself a
// reachable pin body, by the rule above). Pages whose body never came are
// reclaimed by the next GC. Verify checks standalone pages like every
// other record (CRC-32C and BLAKE3 against the digest); Has and Page find
// them.
//
// # Commits: durability and crash consistency
//
// Batch.Commit is the only durability point of the write API (PutPin and
// Store.PutPin commit a batch); when it returns nil the batch is durable.
// The order:
//
//  1. Reserve room for the intent record at activeLen (an upper bound on
//     the number of new entries), then append the records: large bodies
//     first, chunked and hashed in a pipeline with their writes, then
//     pages from PutPage, then whole bodies. Only byte strings not already
//     stored (or written earlier in the same commit) are written, so a
//     page or whole body equal to a page of a large body in the batch is
//     stored once, and a large body given whole is contiguous even when
//     some of its pages were given to PutPage in the same batch. Then
//     choose the slots of the new entries and write the intent record
//     listing them; fdatasync every segment written (and the directory if
//     a segment was created).
//  2. Write the slots into the index file (whole 4 KiB pages, read from
//     the mapping and modified), fdatasync. Or, when growing, write the
//     new index file, fdatasync it and the directory.
//  3. Write the commit record to the other slot of meta, fdatasync.
//
// A crash before 3 leaves the previous commit in force; its readers ignore
// the new entries by the rule above. When a writer next opens the store it
// reads the intent record at activeLen (if it is there, intact, and for
// generation+1 of this index), clears the listed slots that hold entries
// the commit does not cover, fdatasyncs the index, cuts the active segment
// back to activeLen, and deletes segment files outside firstSeg..activeSeg
// and index files other than the current one. Nothing half-written is ever
// visible: records are only reachable through committed entries, and every
// read checks the record's CRC-32C.
//
// # Reads, verification and zero copy
//
// Body, Page and LoadPin check every record they read against the CRC-32C
// in its entry (about 30 GB/s here, so a zero-copy read of a large body
// stays above 10 GB/s); with Options.VerifyOnLoad they also re-hash with
// BLAKE3 (about 2.8 GB/s). A mismatch, a truncated file or a damaged slot
// is an error wrapping ErrCorrupt that names the CID and the file and
// offset; it is never a panic and never wrong bytes. Verify re-hashes
// everything with BLAKE3.
//
// A whole body, and a large body whose pages are contiguous and 8-aligned
// in one segment, is returned as a slice of the read-only mapping. Such
// slices (and nats decoded from them by merkle.DecodeBody, which alias
// their words) stay valid until Close, even across GC: the store never
// unmaps a mapping before Close (when a segment grows past its mapping a
// larger one is added and the old one kept). They must never be written
// to (the mapping is read-only; a write faults). Other large bodies are
// assembled into a new buffer. Segment mappings are 1 GiB windows made on
// first use; a file truncated by someone else while mapped can still fault
// (SIGBUS), as with any mmap-based store.
//
// # Concurrency
//
// One writer process: Open (not ReadOnly) takes an exclusive flock on
// "lock", waiting up to Options.Wait (10 s) and then failing with ErrLocked
// naming the store. Readers (Options.ReadOnly) take no lock. Before each
// operation a reader compares the generations of the two mapped commit
// records with its own (two loads) and, if one is newer and valid, switches
// to it (Refresh does it explicitly). The writer's view changes atomically
// at the end of each Commit and GC. In a process, a Store is safe for
// concurrent use: wmu serializes commits and GC, mapMu guards the tables of
// open files and mappings, the current view is an atomic pointer to an
// immutable value. Batches belong to one goroutine each.
//
// # Refs and garbage collection
//
// Refs name pins (roots). They are rewritten as one record and committed
// by the commit record, so a ref update is atomic with its batch. GC marks
// everything reachable from the refs (child digests from each body's
// header, the pages of large bodies; a page stored by PutPage that no
// reachable body lists is garbage), copies the live records into new
// segments after activeSeg (large bodies stay contiguous), writes a new
// index and commits both with one commit record; then it unlinks the old
// segments and index. A crash before the commit leaves the old state (the
// new files are deleted by recovery), after it the new (recovery deletes
// the old files if the unlink did not happen). This process keeps its old
// mappings until Close, so its slices stay valid; other processes keep
// theirs (an unlinked file stays readable through an existing mapping),
// and a reader that had not yet opened a file finds it gone, reloads the
// commit record and retries. Disk space of unlinked files returns once
// every process that mapped them has closed the store.
//
// # Performance notes
//
// Measured on the 2-core development machine (noisy: shared disk and CPU).
// Checking reads with CRC-32C instead of BLAKE3 was chosen from the
// numbers: 30 GB/s against 2.8 GB/s for 64 KiB pages; a zero-copy Get of a
// 256 MiB nat runs at 2-12 GB/s depending on load, so re-hashing on every
// load would cap it at 2.8 GB/s (Options.VerifyOnLoad does that). Chunking
// is sequential (about 1.3 GB/s); hashing pages in parallel after chunking
// gave 600 MB/s for split+hash, overlapping them (streamPages) 880 MB/s,
// and Commit overlaps both with the writes. Writes of a large body go from
// the caller's memory in runs (no copy), with sync_file_range every 32 MiB
// so that the final fdatasync finds most pages already on their way.
//
// Pins not reachable from a ref are garbage: PutPin alone does not protect
// a pin from GC, and PutPage does not protect a page.
package pagestore
