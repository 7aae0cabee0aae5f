// Package bench measures pstore against the stores people use today and
// writes a report a person can read at a glance: `pstore bench` (issue 8).
//
// # What is compared
//
// Every storage figure is measured in the same run, on the same data (all
// generators are seeded), for pstore and four baselines behind one
// interface, PinStore (put a pin body by digest, get by digest, commit,
// files on disk, reopen by Close and Open):
//
//   - pstore: the page store (pagestore), saving a state with Batch.PutPin;
//   - lmdb: LMDB through github.com/PowerDNS/lmdb-go v1.9.3 (cgo), pin bodies
//     keyed by their BLAKE3 digest in one environment, default synced flags,
//     as the Pallas runtime keeps pins;
//   - bbolt: go.etcd.io/bbolt, the same in one bucket of a B+tree;
//   - flatfs: one file per pin in directories sharded by the next-to-last
//     two characters of the name (IPFS flatfs), files and directories
//     fsync'd at commit;
//   - fullsnap: the naive design, the whole state SEED-encoded into one file
//     on every snapshot (temporary file, fsync, rename).
//
// The baselines that store by digest get the same bodies pstore hashes
// (canonical pin bodies, merkle.Body) and are driven by the same walk
// (SaveState): from the root, put every pin the store does not have, stop
// at pins it has. So they deduplicate whole pins exactly as pstore does;
// what differs is how the bytes land on disk.
//
// # Suites
//
// snapshot, load, codec, put-get, eval and torrent (SuiteNames); sizes are
// scaled by Mode (Tiny for tests, Quick under 2 minutes on a 2-core machine,
// Full under 30 minutes; Config.Big adds a 10 GB store to load).
//
// # Guarantees about the numbers
//
//   - Every point is the median, min and max of Figure.Runs measurements;
//     ratio is the system's median divided by pstore's at the same x.
//   - Nothing is cached between runs unless the figure says warm: cold runs
//     drop the store's files from the page cache with
//     posix_fadvise(DONTNEED) (DropCache, on the closed store, whose last
//     commit was synced, so every page is clean) and reopen the store; warm
//     runs reopen the store too (no in-process cache survives), only the OS
//     page cache is kept.
//   - Bytes written are the kernel's count for this process
//     (/proc/self/io write_bytes minus cancelled_write_bytes); sizes on disk
//     are allocated blocks (DiskUsage), so a small file costs a block.
//   - Each figure records the machine (CPU model, cores, memory, kernel, Go
//     version, load average at start and end), the exact command and the
//     number of runs. A load average above the core count means other work
//     shared the machine.
//
// # Output
//
// WriteReport writes results.json (the Report), report.md (tables and the
// charts embedded) and one SVG chart per figure, drawn with gonum/plot:
// log-log lines per system against size, or points per category on a log
// axis, with min-max error bars. Stores are built under Config.WorkDir and
// removed at the end.
package bench
