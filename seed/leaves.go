package seed

import (
	"encoding/binary"
	"math/bits"

	"pstore/plan"
)

// Reading the tree section (SEED.md section 6): every tree starts with a
// leaf, a run of k ones (a spine of k arguments) and then the W-bit index
// of its head, or of the leaf itself when k = 0. treeReader reads leaves
// for both decoders (fragmentsPlain and fragmentsBody), and looks their
// table entries up.

// batchSize is how many leaves readBatch reads at a time.
const batchSize = 128

// treeReader holds what the decoding of the tree section needs and never
// modifies (the parallel decoder's workers share it).
type treeReader struct {
	data     []byte
	end      uint64 // bits in data
	start    uint64 // first bit of the first fragment
	L        uint64 // table entries before the fragments
	numFrags uint64
	w0       uint64 // index width of fragment 0

	// The word nats have no table entries (decoder.table): entry
	// wordLo+i is boxes.Value(i), and entry i >= wordLo+gap is
	// table[i-gap].
	wordLo uint64
	boxes  *plan.WordBoxes
	gap    uint64 // the number of word nats
}

// entry returns table entry idx, given the table without the word nats.
func (r *treeReader) entry(table []plan.Value, idx uint64) plan.Value {
	if w := idx - r.wordLo; w < r.gap {
		return r.boxes.Value(int(w))
	}
	if idx >= r.wordLo {
		idx -= r.gap
	}
	return table[idx]
}

// cursor is a position in the fragments: bit pos, fragment fi, of which
// trees trees are still to start; implicit is 1 before the fragment's first
// leaf (the root spine's head has one argument more than its run says).
type cursor struct {
	pos, fi, trees, implicit uint64
	fragStart                uint64
}

func (r *treeReader) at(pos, fi uint64) cursor {
	return cursor{pos: pos, fi: fi, trees: 1, implicit: 1, fragStart: pos}
}

// next moves c to the start of the fragment after a finished one.
func (c *cursor) next() {
	c.fi++
	c.trees, c.implicit, c.fragStart = 1, 1, c.pos
}

// readBatch reads up to batchSize leaves of fragment c.fi into ks (run
// lengths) and idxs (indices), checking them, and advances c. It stops
// early at the end of the fragment (c.trees = 0) and, except before a
// fragment's first leaf, at the first leaf at or after bit stop.
//
// Leaves are short (the benchmark seed's average 22 bits), so it reads
// every leaf that fits in one load of 57 bits from that word (window w,
// avail bits of it unread) before loading the next: the chain from one
// leaf's position to the next is then a count and a shift, not a load.
func (r *treeReader) readBatch(c *cursor, stop uint64, ks, idxs *[batchSize]uint64) (int, error) {
	data, end := r.data, r.end
	limit := r.L + c.fi
	W := bitwidth(limit - 1)
	if W > 56 {
		return 0, corruptf("fragment %d: table of %d entries is too large", c.fi, limit)
	}
	w64 := uint64(W)
	mask := uint64(1)<<W - 1
	pos, trees, implicit := c.pos, c.trees, c.implicit
	n := 0
	for n < batchSize && trees > 0 && (pos < stop || implicit != 0) {
		w := peekBits(data, pos)
		run := uint64(bits.TrailingZeros64(^w))
		if run+w64 >= 57 {
			// The slow path: a long run, read 57 bits at a time.
			var next uint64
			run, next = readRun(data, pos, end)
			idx := peekBits(data, next) & mask
			pos = next + w64
			if pos > end {
				break // reported below
			}
			k, err := r.leaf(c, &trees, &implicit, run, idx, pos, w64, limit)
			if err != nil {
				return 0, err
			}
			ks[n], idxs[n] = k, idx
			n++
			continue
		}
		avail := uint64(57)
		for {
			// The run, its 0 and the index are in w.
			k := implicit + run
			implicit = 0
			need := run + 1 + w64
			idx := w >> (run + 1) & mask
			w >>= need
			avail -= need
			pos += need
			if idx >= limit {
				if pos > end {
					break // the data ran out first: reported below
				}
				return 0, corruptf("fragment %d at bit %d: index %d, but only %d table entries", c.fi, pos-w64, idx, limit)
			}
			// This leaf is the first of one tree; its spine adds k
			// trees. Each tree needs a leaf (W+1 bits) or more:
			// check before anything is allocated for them.
			//
			// The check is made after every leaf, not only after those
			// that start a spine (k != 0), because that branch cannot be
			// predicted: a leaf without a spine reads 1+W bits and starts
			// one tree, which leaves both sides of the comparison W+1
			// smaller, so the outcome is the previous leaf's.
			trees += k - 1
			if trees*(w64+1) > end-pos+w64+1 && pos <= end { // (trees-1)*(W+1) > end-pos; no overflow: trees < 2*end, w64 < 57
				return 0, corruptf("fragment %d at bit %d: %d more leaves needed than the data can hold", c.fi, pos, trees-1)
			}
			ks[n], idxs[n] = k, idx
			n++
			if n == batchSize || trees == 0 || pos >= stop {
				break
			}
			run = uint64(bits.TrailingZeros64(^w))
			if run+1+w64 > avail {
				break
			}
		}
		if pos > end {
			break
		}
	}
	if pos > end {
		// Bits past the end read as zeros, so only here, once a leaf
		// ends past it, is it known that the data ran out.
		return 0, corruptf("fragment %d (starting at bit %d) runs past the end of the data (%d bytes)", c.fi, c.fragStart, len(data))
	}
	c.pos, c.trees, c.implicit = pos, trees, implicit
	return n, nil
}

// leaf checks one leaf read on readBatch's slow path and counts its trees.
// It returns the leaf's run length, with the implicit argument.
func (r *treeReader) leaf(c *cursor, trees, implicit *uint64, run, idx, pos, w64, limit uint64) (uint64, error) {
	if idx >= limit {
		return 0, corruptf("fragment %d at bit %d: index %d, but only %d table entries", c.fi, pos-w64, idx, limit)
	}
	k := *implicit + run
	*implicit = 0
	*trees += k - 1
	if k != 0 && (*trees-1)*(w64+1) > r.end-pos {
		return 0, corruptf("fragment %d at bit %d: %d more leaves needed than the data can hold", c.fi, pos, *trees-1)
	}
	return k, nil
}

// readRun reads a run of ones from bit pos and its terminating 0, 57 bits
// at a time (the slow path of a leaf whose run and index do not fit in one
// peekBits). It returns the run's length and the position after the 0,
// which is past end when the data ends first.
func readRun(data []byte, pos, end uint64) (run, next uint64) {
	for {
		r := uint64(bits.TrailingZeros64(^peekBits(data, pos)))
		if r < 57 {
			return run + r, pos + r + 1
		}
		run += 57
		pos += 57
		if pos > end {
			return run, pos
		}
	}
}

// skip advances c, without looking the leaves up or checking them, to the
// first leaf at or after bit stop that is not the first of its fragment,
// and reports whether there is one. It stops and returns false at the end
// of the data or at a fragment whose index width readBatch rejects. The
// leaves it passes are checked when they are decoded.
func (r *treeReader) skip(c *cursor, stop uint64) bool {
	data, end := r.data, r.end
	for c.fi < r.numFrags {
		W := bitwidth(r.L + c.fi - 1)
		if W > 56 {
			return false
		}
		w64 := uint64(W)
		pos, trees, implicit := c.pos, c.trees, c.implicit
		for trees > 0 {
			if pos >= stop && implicit == 0 {
				c.pos, c.trees, c.implicit = pos, trees, implicit
				return true
			}
			w := peekBits(data, pos)
			run := uint64(bits.TrailingZeros64(^w))
			if run+w64 >= 57 {
				var next uint64
				run, next = readRun(data, pos, end)
				pos = next + w64
				trees += run + implicit - 1
				implicit = 0
			} else {
				// As in readBatch: every leaf that fits in w.
				avail := uint64(57)
				for {
					need := run + 1 + w64
					w >>= need
					avail -= need
					pos += need
					trees += run + implicit - 1
					implicit = 0
					run = uint64(bits.TrailingZeros64(^w))
					if trees == 0 || pos >= stop || run+1+w64 > avail {
						break
					}
				}
			}
			if pos > end {
				return false
			}
		}
		c.pos = pos
		c.next()
	}
	return false
}

// peekBits returns the bits of data from bit pos on, least significant
// first; at least 57 of them are valid (zeros past the end of the data).
func peekBits(data []byte, pos uint64) uint64 {
	i := pos >> 3
	if i+8 <= uint64(len(data)) {
		return binary.LittleEndian.Uint64(data[i:]) >> (pos & 7)
	}
	var w uint64
	for k := uint64(0); i+k < uint64(len(data)); k++ {
		w |= uint64(data[i+k]) << (8 * k)
	}
	return w >> (pos & 7)
}
