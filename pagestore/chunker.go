package pagestore

// Content-defined chunking of large bodies (format version 1).
//
// The chunker is FastCDC with normalized chunking over a gear hash
// h = h<<1 + gear[b]. Every constant here is part of store format version 1
// (ARCHITECTURE.md invariant 5: the same body splits into the same pages on
// every store); changing any of them needs a new format version.
//
//   - PageMin = 16 KiB: no boundary before 16 KiB (the hash starts at
//     offset PageMin of each chunk, from h = 0).
//   - PageAvg = 64 KiB: from PageMin up to PageAvg a boundary is cut after
//     byte i when h&maskS == 0 (maskS = the top 18 bits); from PageAvg on
//     when h&maskL == 0 (maskL = the top 14 bits).
//   - PageMax = 256 KiB: a chunk ends at PageMax at the latest.
//   - The gear table is 256 words of SplitMix64 seeded with GearSeed.
//
// Pages are therefore 16 KiB ... 256 KiB; BitTorrent v2 verifies 16 KiB
// blocks, so every page is at least one block.
const (
	PageMin = 16 << 10
	PageAvg = 64 << 10
	PageMax = 256 << 10
	// LargeThreshold: bodies longer than this are stored as pages; bodies
	// of at most this many bytes are stored whole.
	LargeThreshold = 256 << 10
	// GearSeed seeds the SplitMix64 generator of the gear table ("pstore\0\1").
	GearSeed uint64 = 0x7073746f72650001

	maskS uint64 = 0xFFFFC00000000000 // top 18 bits
	maskL uint64 = 0xFFFC000000000000 // top 14 bits
)

var gear = func() (t [256]uint64) {
	x := GearSeed
	for i := range t {
		// SplitMix64.
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		t[i] = z ^ (z >> 31)
	}
	return
}()

// cut returns the length of the first page of data (all of data if it is
// at most PageMin long).
func cut(data []byte) int {
	n := len(data)
	if n <= PageMin {
		return n
	}
	if n > PageMax {
		n = PageMax
	}
	normal := PageAvg
	if n < normal {
		normal = n
	}
	var h uint64
	// Ranging over subslices keeps bounds checks out of the loops.
	for i, b := range data[PageMin:normal] {
		h = h<<1 + gear[b]
		if h&maskS == 0 {
			return PageMin + i + 1
		}
	}
	for i, b := range data[normal:n] {
		h = h<<1 + gear[b]
		if h&maskL == 0 {
			return normal + i + 1
		}
	}
	return n
}

// Chunk returns the page lengths of body under the format-1 chunker. It is
// exported so that other stores and the torrent bridge can check that they
// split bodies identically.
func Chunk(body []byte) []int {
	var out []int
	for len(body) > 0 {
		n := cut(body)
		out = append(out, n)
		body = body[n:]
	}
	return out
}
