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

	// table holds the holes, bignats and byte nats, then (Body only)
	// the fragments as they are decoded; the word nats are not in it
	// (treeReader.entry), and the other conventions keep the fragments'
	// roots in a rootTable.
	table []plan.Value
	// prefix marks Body-mode fragments (by table index, counting the word
	// nats) that are an incomplete law spine (h0), (h0 n) or (h0 n a):
	// fragments may split a law's spine.
	prefix map[uint64][]plan.Value

	boxes    plan.WordBoxes // the word nats, once boxed (boxWords)
	wordData []byte

	slabs slabs // Body: app nodes and argument lists
}

// spineFrame is an open spine of a Body seed: its head and the first n of
// its arguments.
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

	// The word nats are left out of the table: their entries are
	// computed from one block of boxes (plan.WordBoxes, treeReader.entry),
	// which saves a table entry (16 bytes) per word, and a cache miss per
	// lookup of one.
	// Body appends the fragments to the table; the other conventions
	// keep them in a rootTable.
	fragCap := uint64(0)
	if d.conv == Body {
		fragCap = min(numFrags, rem/4+16)
	}
	d.table = make([]plan.Value, L-numWords, L-numWords+fragCap)
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
	for i := uint64(0); i < numBytes; i++ {
		d.table[t] = byteNats[data[byteOff+i]]
		t++
	}
	// The word nats are boxed later (boxWords): the parallel decoder
	// first allocates its slabs.
	d.wordData = data[wordOff : wordOff+8*numWords]
	r := &treeReader{
		data:     data,
		end:      uint64(len(data)) * 8,
		start:    off * 8,
		L:        L,
		numFrags: numFrags,
		w0:       uint64(bitwidth(L - 1)),
		wordLo:   numHoles + numBigs,
		boxes:    &d.boxes,
		gap:      numWords,
	}

	if numFrags == 0 {
		if d.conv == Body && L-1 == 0 {
			return nil, corruptf("the value is hole 0, the law marker")
		}
		d.boxWords()
		return r.entry(d.table, L-1), nil
	}
	if d.conv != Body {
		return d.fragmentsPlain(r)
	}
	d.boxWords()
	if err := d.fragmentsBody(r); err != nil {
		return nil, err
	}
	last := L + numFrags - 1
	if _, ok := d.prefix[last]; ok {
		return nil, corruptf("fragment %d (the value) is an incomplete law (h0 with fewer than 3 arguments)", numFrags-1)
	}
	return r.entry(d.table, last), nil
}

// isPrefix reports whether table entry idx is an incomplete law. Callers
// on the leaf path test d.prefix != nil first: a map lookup is a call even
// on a nil map.
func (d *decoder) isPrefix(idx uint64) bool {
	_, ok := d.prefix[idx]
	return ok
}

// boxWords boxes the word nats.
func (d *decoder) boxWords() { d.boxes = plan.NewWordBoxes(d.wordData) }

// fragmentsBody reads the fragments of a Body seed, rewriting law spines
// (bodySpine).
func (d *decoder) fragmentsBody(r *treeReader) error {
	var (
		ks, idxs [batchSize]uint64
		stack    []spineFrame
	)
	d.slabs.size(r.end-r.start, r.w0, uint64(len(d.data)))
	c := r.at(r.start, 0)
	for c.fi < r.numFrags {
		n, err := r.readBatch(&c, r.end+1, &ks, &idxs)
		if err != nil {
			return err
		}
		for j := range n {
			k, idx := ks[j], idxs[j]
			if k != 0 {
				stack = append(stack, spineFrame{head: r.entry(d.table, idx), headIdx: idx, args: d.slabs.newArgs(k)})
				continue
			}
			// A leaf argument: deliver it to the innermost open
			// spine; close finished ones.
			if idx == 0 || d.prefix != nil && d.isPrefix(idx) {
				return corruptf("fragment %d (starting at bit %d): law marker h0 (or an incomplete law) used as an argument", c.fi, c.fragStart)
			}
			v := r.entry(d.table, idx)
			for {
				f := &stack[len(stack)-1]
				f.args[f.n] = v
				f.n++
				if f.n < len(f.args) {
					break
				}
				if v, err = d.bodySpine(f, len(stack) == 1, c.fi, r.L+c.fi); err != nil {
					return err
				}
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					// The fragment's root (nil for an incomplete
					// law, which prefix holds).
					d.table = append(d.table, v)
					break
				}
			}
		}
		if c.trees == 0 {
			c.next()
		}
	}
	return nil
}

// newApp returns the app (f args...) from the slabs.
func (d *decoder) newApp(f plan.Value, args []plan.Value) *plan.App {
	a := d.slabs.newApp()
	a.Fun, a.Args = f, args
	return a
}

// bodySpine builds the value of a finished spine in a pstore body: a spine
// headed by h0 (directly or through a fragment holding an incomplete law)
// becomes a law applied to any further arguments (SEED.md section 15.4).
// The spine is in fragment fi, whose table index is idx.
func (d *decoder) bodySpine(f *spineFrame, fragRoot bool, fi, idx uint64) (plan.Value, error) {
	var pre []plan.Value
	isLaw := f.headIdx == 0
	if !isLaw && d.prefix != nil { // nil unless a fragment split a law
		pre, isLaw = d.prefix[f.headIdx]
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
			d.prefix = make(map[uint64][]plan.Value)
		}
		// Placeholder in the table; bodySpine and the leaf check
		// consult prefix before using it.
		d.prefix[idx] = args
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
