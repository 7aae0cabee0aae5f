// Package torrent is pstore's BitTorrent bridge: any store that holds a pin
// DAG can seed it, and any store can fetch it, verify it and commit it,
// with github.com/anacrolix/torrent v1.59.1 as the engine
// (ARCHITECTURE.md, "BitTorrent bridge").
//
// # Layout: one deterministic v2 torrent per pin DAG
//
// The torrent of a DAG is a pure function of the DAG (layout.go documents
// the bytes). Its single file is the stream of the DAG's canonical bodies
// in post-order (children before parents, children in hole order, each pin
// once, the root last); the info dictionary holds a manifest listing every
// pin (digest, size, and for a body the store keeps in pages, its page
// digests and sizes, which are the same on every store by invariant 5),
// the BEP 52 piece layer, the name (the root CID), the fixed piece length
// (64 KiB) and "meta version" 2. No creation date, creator, comment or
// tracker is written, so two stores holding the same pin build
// byte-identical info dictionaries and the same infohash.
//
// Why BitTorrent v2 only (BEP 52), not hybrid: v2 verifies every piece
// with a SHA-256 merkle tree whose root the info dictionary commits to; a
// hybrid torrent adds SHA-1 v1 piece hashes over zero-padded files, and
// anacrolix then checks pieces with SHA-1 only (the v2 hashes are ignored),
// so hybrid is weaker and costs hashing the padding. Pure v2 works in
// v1.59.1 with two workarounds, both in this package: a v2-only torrent is
// registered under its truncated v2 infohash (client.go, addTorrent), and
// a magnet fetch gets the info dictionary with a first client and
// downloads with a second one that knows the v2 infohash from the start
// (fetch.go, fetchInfo), since connections made before the info is known
// never exchange v2 piece hashes.
//
// Why one file and a manifest, not one file per CID: v2 aligns every file
// to a piece boundary, and anacrolix v1.59.1 computes a piece's length by
// walking the file list (metainfo.Piece.Length, O(files)) on every block
// read and write: with 10,000 files that is 2.4 ms per 16 KiB block, far
// too slow. With one file, the cost is constant. The manifest keeps what
// per-CID files would give: the fetcher knows every CID of the DAG up
// front from the info dictionary and skips what it holds.
//
// Why the piece layer is inside the info dictionary: BEP 52 puts it in the
// .torrent file and lets magnet fetchers request it from peers; anacrolix
// v1.59.1 requests it, but the connection that receives it is not woken up
// to request the pieces it unlocks, so a magnet fetch would stall. In the
// info dictionary it costs 32 bytes per 64 KiB piece (0.05%).
//
// # Seeding
//
// Seed (or SeedLayouts) serves the stream straight from a Source: a piece
// read is a copy from the store's read-only mapping (pagestore.Store.Body
// for bodies stored whole, Store.Page for paged bodies; no temporary file,
// no intermediate buffer for whole pieces, see seedPiece.WriteTo); up to
// 64 slices read are remembered (the cache is reset when full), so the
// store's per-read page checksum is not recomputed for every 16 KiB block
// a peer asks for. Every piece is complete. Seeding several roots uses one
// client and one port.
//
// # Fetching and verification (invariant 3)
//
// A fetch takes a magnet link (v2 "urn:btmh" infohash; its "dn" is the
// expected root CID and "x.pe" peer hints) or a .torrent file. The info
// dictionary is authenticated by the infohash, must be exactly what
// BuildTorrent writes (ParseInfo re-encodes it and compares) and its root
// must be the CID asked for (ErrRootMismatch). Then:
//
//   - A piece is complete from the start when every byte of it is already
//     held: in a stored pin, or in a stored page of a paged body. Nothing
//     held is downloaded again (incremental fetch): fetching version 2 of a
//     value that shares pages with version 1 downloads the changed pages
//     plus at most two partial pieces around each change.
//   - Pieces are requested in stream order (among equally available
//     pieces; the torrent's file has readahead priority, which makes
//     anacrolix order requests by piece index instead of a random order),
//     so the pages of a large body complete one after another.
//   - Pieces being downloaded are buffered in memory (the client holds at
//     most MaxUnverifiedBytes = 256 MiB of unverified data); a piece that
//     passes its v2 hash is copied into the bodies it covers. A page of a
//     large body whose last piece has arrived is checked at once against
//     its page CID; a body, once complete, is checked: its remaining
//     pages, the body against its pin CID (BLAKE3), and
//     merkle.CheckCanonical (re-encoding gives the same bytes). Any
//     failure is ErrCorrupt and aborts: data that passed the piece hashes
//     but not the CIDs means the torrent itself is wrong, and no peer can
//     fix that.
//   - A peer sending bad data fails the piece hash; the client discards
//     the piece, bans the peer's IP, and gets the piece from another peer.
//     Nothing unverified ever reaches the store.
//   - Verified bodies are committed children first, in batches (every
//     50 ms or 64 MiB), each batch durable when Sink.PutBatch returns. A
//     pin is stored only when all its children are, so a store never
//     holds a pin without its DAG. Each verified page of a large body
//     still incomplete goes into the same batches (pagestore
//     Batch.PutPage): a page stored alone is not a pin, and when the body
//     completes, the page store writes only its pages not already stored
//     and its page list.
//   - Resuming: an interrupted fetch keeps every committed batch (on
//     cancellation or timeout it commits what it had verified one last
//     time; after a crash, what the last batch made durable). Run again,
//     it finds those pins and pages stored, marks every piece made only of
//     them complete up front, and downloads the rest: the unit of
//     resumption is the page (about 64 KiB), also inside a large body.
//     What is lost is what had been received but not yet verified and
//     committed when the fetch stopped: pieces waiting for their hash
//     check (on a fast link anacrolix receives ahead of its piece
//     hashers), pieces still incomplete (a seeder answers the requests in
//     flight in any order), pages whose last piece had not come, and
//     pieces that straddle a stored page and a missing one. Measured
//     (resume_test.go, loopback): a 250 MB value interrupted after 90-95%
//     of it had arrived is finished by downloading 11-15% of it; a 30 MiB
//     value from a slowed seeder, interrupted at 50%, by downloading
//     65-70%. The 5-14 MB lost depend on the link speed (how far reception
//     runs ahead of verification), not on the size of the value.
//   - On disk, a large body whose pages were committed over several
//     batches is not contiguous, so pagestore.Store.Body assembles it
//     into a new buffer rather than returning a slice of the mapping,
//     until a GC rewrites it contiguously.
//   - Memory: the buffers of pieces in flight, plus each body being
//     assembled (a large body is assembled whole, because the pin CID and
//     the canonical check cover the whole body; pages committed early
//     alias it, no copy), plus verified bodies waiting for children.
//     Limits bound the stream and one body.
//
// The fetch client does not upload (Config applies to both roles; a
// fetcher that wants to serve runs Seed afterwards).
//
// # Network
//
// The zero Config is private: TCP only, no DHT, no trackers, no PEX, no
// UPnP, listening on 127.0.0.1:0, peers only as given. DHT and trackers are
// used only when configured, and then announce only the torrents being
// seeded or fetched. Tests run on loopback only.
//
// # CAR files
//
// Export and Import (car.go) write and read a DAG as a CARv1 file: one
// block per pin (its CID and whole canonical body), children first; import
// verifies every block and stores pins children first.
//
// # Concurrency
//
// Seeder and Layout are safe for concurrent use. Fetch runs one fetch; the
// client's goroutines call the storage (fetchPiece) concurrently, and
// fetchState's mutexes say what they guard.
package torrent
