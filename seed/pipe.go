package seed

import (
	"math/bits"

	"pstore/plan"
)

// pipeMin is the input size from which fragmentsPlain's work is split
// between two goroutines (fragmentsPiped). Below it the goroutine and
// channel overhead is not worth it.
var pipeMin = 1 << 16

// pipeBatch is how many leaves the reader hands to the builder at once,
// and pipeDepth how many batches can be in flight (allocated as needed, so
// a small input gets few). Batches are large and many so that each
// goroutine can run well ahead when the other is descheduled: on a busy
// machine a shallow pipeline was slower than one goroutine.
const (
	pipeBatch = 64 * batchSize
	pipeDepth = 16
)

// leafBatch is a run of leaves read and checked by fragmentsPiped's
// reader: each a spine of ks[j] arguments headed by table entry idxs[j]
// (or the leaf itself when ks[j] = 0), and vals[j] that entry when it is a
// hole or a nat (idxs[j] < L).
type leafBatch struct {
	n    int
	ks   [pipeBatch]uint64
	idxs [pipeBatch]uint64
	vals [pipeBatch]plan.Value
}

// fragmentsPiped is fragmentsPlain on two goroutines: a reader parses and
// checks the bits and looks up the leaves that are holes or nats (the
// table's first L entries, which do not change), and the builder, on the
// calling goroutine, looks up references to earlier fragments and builds
// the nodes. The two halves take about the same time. The builder only
// ever sees leaves the reader has checked (so it allocates no more than
// fragmentsPlain would), and the reader reads only table entries below L
// while the builder writes only entries from L on.
func (d *decoder) fragmentsPiped(pos, L, numFrags uint64) error {
	full := make(chan *leafBatch, pipeDepth)
	free := make(chan *leafBatch, pipeDepth)
	var rerr error
	go func() {
		rerr = d.readLeaves(pos, L, numFrags, full, free)
		close(full)
	}()
	d.buildLeaves(pos, L, full, free)
	// full is closed: rerr is set.
	if rerr != nil {
		return rerr
	}
	if uint64(len(d.table)) != L+numFrags {
		// Cannot happen: the reader checked that every fragment is complete.
		return corruptf("internal: %d fragments built, want %d", uint64(len(d.table))-L, numFrags)
	}
	return nil
}

// readLeaves is the reader of fragmentsPiped: the parsing and checking
// half of fragmentsPlain.
func (d *decoder) readLeaves(pos, L, numFrags uint64, full chan<- *leafBatch, free <-chan *leafBatch) error {
	data := d.data
	end := uint64(len(data)) * 8
	nats := d.table[:L:L]
	made := 0
	next := func() *leafBatch {
		select {
		case b := <-free:
			return b
		default:
		}
		if made < pipeDepth {
			made++
			return new(leafBatch)
		}
		return <-free
	}
	b := next()
	b.n = 0
	for fi := uint64(0); fi < numFrags; fi++ {
		limit := L + fi
		W := bitwidth(limit - 1)
		if W > 56 {
			return corruptf("fragment %d: table of %d entries is too large", fi, limit)
		}
		w64 := uint64(W)
		mask := uint64(1)<<W - 1
		fragStart := pos
		implicit := uint64(1)
		trees := uint64(1) // trees still to read in this fragment
		for trees > 0 {
			if b.n+batchSize > pipeBatch {
				full <- b
				b = next()
				b.n = 0
			}
			ks := b.ks[b.n : b.n+batchSize]
			idxs := b.idxs[b.n : b.n+batchSize]
			n := 0
			for ; n < batchSize && trees > 0; n++ {
				k := implicit
				implicit = 0
				var idx uint64
				w := peekBits(data, pos)
				if run := uint64(bits.TrailingZeros64(^w)); run+w64 < 57 {
					k += run
					idx = w >> (run + 1) & mask
					pos += run + 1 + w64
				} else {
					for {
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
						w = peekBits(data, pos)
					}
					idx = peekBits(data, pos) & mask
					pos += w64
				}
				if pos > end {
					return corruptf("fragment %d (starting at bit %d) runs past the end of the data (%d bytes)", fi, fragStart, len(data))
				}
				if idx >= limit {
					return corruptf("fragment %d at bit %d: index %d, but only %d table entries", fi, pos-w64, idx, limit)
				}
				trees += k - 1
				if k != 0 && (trees-1)*(w64+1) > end-pos { // no overflow: trees < 2*end, w64 < 57
					return corruptf("fragment %d at bit %d: %d more leaves needed than the data can hold", fi, pos, trees-1)
				}
				ks[n], idxs[n] = k, idx
			}
			// The lookups in a tight loop, so that their cache misses
			// overlap (see fragmentsPlain).
			vals := b.vals[b.n : b.n+n]
			for j := range vals {
				if x := idxs[j]; x < L {
					vals[j] = nats[x]
				}
			}
			b.n += n
		}
	}
	if b.n > 0 {
		full <- b
	}
	return nil
}

// buildLeaves is the builder of fragmentsPiped: the node-building half of
// fragmentsPlain. A fragment ends when a leaf completes its root spine.
func (d *decoder) buildLeaves(pos, L uint64, full <-chan *leafBatch, free chan<- *leafBatch) {
	end := uint64(len(d.data)) * 8
	leafBound := (end - pos) / (uint64(bitwidth(L-1)) + 1)
	var (
		argsFree  []plan.Value
		appsFree  []plan.App
		argsGiven uint64
		appsGiven uint64
	)
	stack := make([]plainFrame, 0, 64)
	table := d.table
	for b := range full {
		for j := range b.n {
			v, k := b.vals[j], b.ks[j]
			if x := b.idxs[j]; x >= L {
				v = table[x]
			}
			if k != 0 {
				if k > uint64(len(argsFree)) {
					m := max(k, d.firstSlab(leafBound, false), argsGiven)
					argsFree = make([]plan.Value, m)
					argsGiven += m
				}
				if len(appsFree) == 0 {
					m := max(d.firstSlab(leafBound, true), appsGiven)
					appsFree = make([]plan.App, m)
					appsGiven += m
				}
				app := &appsFree[0]
				appsFree = appsFree[1:]
				app.Fun = v
				app.Args = argsFree[:k:k]
				argsFree = argsFree[k:]
				stack = append(stack, plainFrame{app: app, args: app.Args})
				continue
			}
			top := len(stack) - 1
			for {
				f := &stack[top]
				f.args[0] = v
				f.args = f.args[1:]
				if len(f.args) != 0 {
					break
				}
				if top == 0 {
					// The fragment is complete.
					table = append(table, f.app)
					top = -1
					break
				}
				v = f.app
				top--
			}
			stack = stack[:top+1]
		}
		free <- b
	}
	d.table = table
}
