package seed

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"math/bits"

	"pstore/mmap"
	"pstore/plan"
)

// byteNats holds the boxed nats 0..255, so that decoding the byte section
// does not allocate.
var byteNats = func() (t [256]plan.Value) {
	for i := range t {
		t[i] = plan.N(uint64(i))
	}
	return
}()

// Decode reads a seed and returns its value (SEED.md sections 2-7).
//
// Raw and Pallas return the tree as stored: cells become apps, nats stay
// nats, and hole i is holes[i]; the header's numHoles must equal
// len(holes). (For a Pallas interchange file, pass the result to
// FromPallas.) Plan4 accepts at most one hole and fills it with a new pin
// <0>, or with holes[0] if the caller passes exactly one hole; pass the
// result to FromPlan4. Body reads a pstore
// canonical pin body's seed (SEED.md section 15.4): holes[0] is ignored
// (hole 0 is the law marker), holes[1..k] are the child pins, numHoles must
// be len(holes) = k+1, and (h0 n a b ...) spines become laws.
//
// The decoder checks every header count against the remaining bytes before
// allocating, every bignat width, every index and that the fragments lie
// within the data; it ignores the bits after the last fragment. When
// numFrags is 0 the value is the last table entry. Errors about the bytes
// wrap ErrCorrupt.
//
// Zero copy: when data is 8-byte aligned (for example a mapping), bignats
// alias data (see mmap.Words) and stay valid as long as data is; data must
// then not be modified. Otherwise they are copied.
func Decode(data []byte, c Convention, holes []plan.Value) (plan.Value, error) {
	d := decoder{data: data, conv: c, parallelMin: parallelMinBytes}
	return d.decode(holes)
}

type decoder struct {
	data []byte
	conv Convention
	// parallelMin is the smallest tree section decoded on two cores
	// (tests lower it to exercise the parallel decoder on small inputs).
	parallelMin uint64
	// awaitSplit makes worker 0 of the parallel decoder wait until
	// worker 1 has claimed its share (or given up) before it decodes, so
	// that tests split deterministically.
	awaitSplit bool

	table []plan.Value
	// prefix marks Body-mode table entries that are an incomplete law
	// spine (h0), (h0 n) or (h0 n a): fragments may split a law's spine.
	prefix map[int][]plan.Value

	// words are the table entries of the word nats, boxed by boxWords
	// from wordData.
	words    []plan.Value
	wordLo   uint64 // table index of the first word nat
	boxes    plan.WordBoxes
	wordData []byte

	vals []plan.Value // slab for argument slices
	apps []plan.App   // slab for app nodes
}

type spineFrame struct {
	head    plan.Value
	headIdx uint64
	args    []plan.Value
	n       int
}

func (d *decoder) decode(holes []plan.Value) (plan.Value, error) {
	data := d.data
	if len(data) < headerSize {
		return nil, corruptf("header truncated: %d bytes, need %d", len(data), headerSize)
	}
	numHoles := binary.LittleEndian.Uint64(data[0:])
	numBigs := binary.LittleEndian.Uint64(data[8:])
	numWords := binary.LittleEndian.Uint64(data[16:])
	numBytes := binary.LittleEndian.Uint64(data[24:])
	numFrags := binary.LittleEndian.Uint64(data[32:])

	var holeVals []plan.Value
	switch d.conv {
	case Raw, Pallas:
		if numHoles != uint64(len(holes)) {
			return nil, corruptf("header at byte 0: numHoles = %d, but %d holes supplied", numHoles, len(holes))
		}
		for i, h := range holes {
			if h == nil {
				return nil, fmt.Errorf("%w: hole %d is nil", ErrConvention, i)
			}
		}
		holeVals = holes
	case Plan4:
		if numHoles > 1 {
			return nil, corruptf("header at byte 0: numHoles = %d, plan-di-c files have at most 1", numHoles)
		}
		if numHoles == 1 {
			if len(holes) == 1 && holes[0] != nil {
				holeVals = holes // the caller's <0>
			} else {
				holeVals = []plan.Value{plan.P(plan.N(0))}
			}
		}
	case Body:
		if len(holes) == 0 || numHoles != uint64(len(holes)) {
			return nil, corruptf("header at byte 0: numHoles = %d, want numPins+1 = %d", numHoles, len(holes))
		}
		for i, h := range holes[1:] {
			if h == nil {
				return nil, fmt.Errorf("%w: hole %d is nil", ErrConvention, i+1)
			}
		}
		holeVals = holes
	default:
		return nil, fmt.Errorf("%w: %v", ErrConvention, d.conv)
	}

	off := uint64(headerSize)
	rem := uint64(len(data)) - off
	if numBigs > rem/8 {
		return nil, corruptf("header at byte 8: numBigs = %d, but only %d bytes follow the header", numBigs, rem)
	}
	widthOff := off
	off += 8 * numBigs
	rem -= 8 * numBigs
	var bigWords uint64
	for i := uint64(0); i < numBigs; i++ {
		w := binary.LittleEndian.Uint64(data[widthOff+8*i:])
		if w == 0 {
			return nil, corruptf("bignat %d at byte %d: width 0", i, widthOff+8*i)
		}
		if w > rem/8-bigWords {
			return nil, corruptf("bignat %d at byte %d: width %d words runs past the end of the data", i, widthOff+8*i, w)
		}
		bigWords += w
	}
	bigOff := off
	off += 8 * bigWords
	rem -= 8 * bigWords
	if numWords > rem/8 {
		return nil, corruptf("header at byte 16: numWords = %d, but only %d bytes remain at byte %d", numWords, rem, off)
	}
	wordOff := off
	off += 8 * numWords
	rem -= 8 * numWords
	if numBytes > rem {
		return nil, corruptf("header at byte 24: numBytes = %d, but only %d bytes remain at byte %d", numBytes, rem, off)
	}
	byteOff := off
	off += numBytes
	rem -= numBytes
	// Each fragment takes at least 2 bits.
	if numFrags > rem*4 {
		return nil, corruptf("header at byte 32: numFrags = %d, but only %d bytes remain for the tree at byte %d", numFrags, rem, off)
	}
	L := numHoles + numBigs + numWords + numBytes
	if L == 0 {
		return nil, corruptf("empty table: no holes and no nats")
	}

	// The conventions without spine rewriting leave the word nats out of
	// the table: fragmentsPlain computes their entries from one block of
	// boxes (plan.WordBoxes), which saves a table entry (16 bytes) per
	// word, and a cache miss per lookup of one.
	var gap uint64
	if d.conv != Body && numFrags > 0 {
		gap = numWords
	}
	d.table = make([]plan.Value, L-gap, L-gap+min(numFrags, rem/4+16))
	copy(d.table, holeVals)
	t := numHoles
	aligned := true
	for i := uint64(0); i < numBigs; i++ {
		w := binary.LittleEndian.Uint64(data[widthOff+8*i:])
		raw := data[bigOff : bigOff+8*w : bigOff+8*w]
		bigOff += 8 * w
		var ws []big.Word
		if aligned {
			ws, aligned = mmap.Words(raw)
		}
		if !aligned {
			ws = make([]big.Word, 0, w*(64/bits.UintSize))
			for k := uint64(0); k < w; k++ {
				x := binary.LittleEndian.Uint64(raw[8*k:])
				if bits.UintSize == 64 {
					ws = append(ws, big.Word(x))
				} else {
					ws = append(ws, big.Word(uint32(x)), big.Word(x>>32))
				}
			}
		}
		d.table[t] = plan.NatFromBits(ws)
		t++
	}
	// The word nats are boxed later (boxWords, boxWordsLazily): the
	// parallel decoder first allocates its slabs.
	d.wordLo = t
	d.wordData = data[wordOff : wordOff+8*numWords]
	if gap == 0 {
		d.words = d.table[t : t+numWords]
		t += numWords
	}
	for i := uint64(0); i < numBytes; i++ {
		d.table[t] = byteNats[data[byteOff+i]]
		t++
	}

	if numFrags == 0 {
		d.boxWords()
		v := d.table[L-1]
		if d.conv == Body && L-1 == 0 {
			return nil, corruptf("the value is hole 0, the law marker")
		}
		return v, nil
	}
	var err error
	if d.conv == Body {
		d.boxWords()
		err = d.fragments(off*8, L, numFrags)
	} else {
		err = d.fragmentsPlain(off*8, L, numFrags)
	}
	if err != nil {
		return nil, err
	}
	last := L + numFrags - 1
	if d.prefix != nil {
		if _, ok := d.prefix[int(last)]; ok {
			return nil, corruptf("fragment %d (the value) is an incomplete law (h0 with fewer than 3 arguments)", numFrags-1)
		}
	}
	return d.table[last-gap], nil
}

// boxWords fills the table entries of the word nats.
func (d *decoder) boxWords() { plan.BoxWords(d.words, d.wordData) }

// boxWordsLazily boxes the word nats without filling their table
// entries: fragmentsPlain computes them (plainDecoder.lookup).
func (d *decoder) boxWordsLazily() { d.boxes = plan.NewWordBoxes(d.wordData) }

const slabSize = 1 << 14

// chunk is the size of the next slab: small inputs get small slabs.
func (d *decoder) chunk(min int) int {
	n := len(d.data) / 2
	if n > slabSize {
		n = slabSize
	}
	if n < min {
		n = min
	}
	return n
}

func (d *decoder) allocArgs(k int) []plan.Value {
	if k > len(d.vals) {
		d.vals = make([]plan.Value, d.chunk(k))
	}
	a := d.vals[:k:k]
	d.vals = d.vals[k:]
	return a
}

func (d *decoder) newApp(f plan.Value, args []plan.Value) *plan.App {
	if len(d.apps) == 0 {
		d.apps = make([]plan.App, d.chunk(1)/2+1)
	}
	a := &d.apps[0]
	d.apps = d.apps[1:]
	a.Fun, a.Args = f, args
	return a
}

// fragments reads numFrags fragments from bit pos (absolute in data).
func (d *decoder) fragments(pos, L, numFrags uint64) error {
	data := d.data
	end := uint64(len(data)) * 8
	body := d.conv == Body
	var stack []spineFrame
	var pending uint64 // unfilled argument slots on the stack

	// peek returns the bits from pos on, least significant first; at
	// least 57 of them are valid (zeros past the end of the data).
	peek := func(pos uint64) uint64 {
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

	for fi := uint64(0); fi < numFrags; fi++ {
		limit := L + fi
		W := bitwidth(limit - 1)
		if W > 56 {
			return corruptf("fragment %d: table of %d entries is too large", fi, limit)
		}
		mask := uint64(1)<<W - 1
		fragStart := pos
		implicit := uint64(1)
		stack = stack[:0]
		pending = 0
		for {
			// One tree: a run of k ones, then the head leaf, then k
			// argument trees.
			k := implicit
			implicit = 0
			for {
				w := peek(pos)
				run := uint64(bits.TrailingZeros64(^w))
				if run < 57 {
					k += run
					pos += run + 1
					break
				}
				k += 57
				pos += 57
				if pos > end {
					break
				}
			}
			idx := peek(pos) & mask
			pos += uint64(W)
			if pos > end {
				return corruptf("fragment %d (starting at bit %d) runs past the end of the data (%d bytes)", fi, fragStart, len(data))
			}
			if idx >= limit {
				return corruptf("fragment %d at bit %d: index %d, but only %d table entries", fi, pos-uint64(W), idx, limit)
			}
			var v plan.Value
			if k == 0 {
				// A leaf argument.
				v = d.table[idx]
				if body && (idx == 0 || d.prefix != nil && d.prefix[int(idx)] != nil) {
					return corruptf("fragment %d at bit %d: law marker h0 (or an incomplete law) used as an argument", fi, pos-uint64(W))
				}
			} else {
				// Every unfilled argument slot needs a leaf (W+1 bits)
				// or more, except the one slot per open spine that the
				// spine itself is filling: check before allocating.
				pending += k
				if need := pending - uint64(len(stack)); need > (end-pos)/(uint64(W)+1) {
					return corruptf("fragment %d at bit %d: %d more leaves needed than the data can hold", fi, pos, need)
				}
				stack = append(stack, spineFrame{head: d.table[idx], headIdx: idx, args: d.allocArgs(int(k))})
				continue
			}
			// Deliver v to the innermost open spine; close finished ones.
			for {
				f := &stack[len(stack)-1]
				f.args[f.n] = v
				f.n++
				pending--
				if f.n < len(f.args) {
					break
				}
				if body {
					var err error
					if v, err = d.bodySpine(f, len(stack) == 1, fi); err != nil {
						return err
					}
				} else {
					v = d.newApp(f.head, f.args)
				}
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					break
				}
			}
			if len(stack) == 0 {
				d.table = append(d.table, v)
				break
			}
		}
	}
	return nil
}

// bodySpine builds the value of a finished spine in a pstore body: a spine
// headed by h0 (directly or through a fragment holding an incomplete law)
// becomes a law applied to any further arguments (SEED.md section 15.4).
func (d *decoder) bodySpine(f *spineFrame, fragRoot bool, fi uint64) (plan.Value, error) {
	var pre []plan.Value
	isLaw := f.headIdx == 0
	if !isLaw && d.prefix != nil {
		pre, isLaw = d.prefix[int(f.headIdx)]
	}
	if !isLaw {
		return d.newApp(f.head, f.args), nil
	}
	args := f.args
	if len(pre) > 0 {
		args = append(append(make([]plan.Value, 0, len(pre)+len(args)), pre...), args...)
	}
	if len(args) < 3 {
		if !fragRoot {
			return nil, corruptf("fragment %d: law marker h0 with %d arguments, need at least 3", fi, len(args))
		}
		if d.prefix == nil {
			d.prefix = make(map[int][]plan.Value)
		}
		// Placeholder in the table; bodySpine and the leaf check
		// consult prefix before using it.
		d.prefix[len(d.table)] = args
		return nil, nil
	}
	name, ok1 := args[0].(plan.Nat)
	arity, ok2 := args[1].(plan.Nat)
	if !ok1 || !ok2 {
		return nil, corruptf("fragment %d: law with a name or arity that is not a nat", fi)
	}
	var law plan.Value = plan.L(name, arity, args[2])
	if len(args) > 3 {
		law = d.newApp(law, args[3:])
	}
	return law, nil
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
