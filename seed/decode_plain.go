package seed

import (
	"errors"
	"runtime"
	"sync/atomic"

	"pstore/plan"
)

// This file decodes the fragments of the conventions that need no spine
// rewriting (all but Body), on one core or, for large inputs, on two.
//
// Reading. Every tree starts with a leaf: a run of k ones (a spine of k
// arguments) and the index of its head, or of the leaf itself when k = 0.
// readBatch reads up to batchSize leaves at a time, checking each, before
// anything is built for them; run then looks all their table entries up
// in one tight loop and builds the nodes. When the fragments' entries were
// a table of up to millions of Values, the lookups were mostly cache
// misses, which the processor overlaps in a tight loop where interleaved
// with the bit reading and node building it overlapped about one
// (measured: the lookups were two thirds of the decoding time). A
// fragment's entry is now computed from its number (rootTable), and the
// loop keeps the remaining lookups (a word box, a small table) apart.
//
// Memory. Each spine's app node and argument list are made when its head is
// read and filled in place, from large blocks (slabs).
//
// Two cores. A single fragment may hold almost all of the data (a tree
// without sharing is one fragment), so the work is split inside fragments,
// at a tree boundary. Worker 0 decodes from the start. Worker 1 first only
// reads the leaves (no lookups, no nodes: several times faster than
// decoding) up to a bit position M about halfway through, where fragment F
// still has T trees to start; it then decodes those T trees, each as a value
// of its own, and every later fragment. Worker 0 stops at M, waits for
// worker 1, and delivers the T values to its open spines as if it had
// decoded them itself. The parse of the bits does not depend on the table,
// so both workers see the same leaves at the same positions, and the result
// is the same value that one worker builds. Two details make it safe:
//
//   - Worker 1 may only claim a position that worker 0 has not read yet.
//     Worker 0 reserves the bits ahead of it in chunks (splitCtl.state); a
//     claim replaces the reservation, with one compare-and-swap, only when
//     M lies beyond it, so exactly one of them decodes each leaf.
//   - Worker 1's leaves may refer to fragments 0..F, whose roots worker 0
//     builds. A fragment's root app has a fixed place, by fragment number,
//     in rootTable, so a reference needs only its address: worker 1 never
//     waits for worker 0, and worker 0 has filled every root in before
//     the decoder returns the value.

// Parallel decoding thresholds: the tree section must have at least
// parallelMinBytes, and worker 1 takes the trees from about splitFraction
// of it on. Worker 1 first reads the bits before M without decoding them,
// while worker 0 boxes the word nats; with garbage collection and the
// write barriers it brings, the balance is not a simple ratio of the two,
// so M was measured: 60 to 64% was best on the benchmark seed (57% and 66%
// within noise of 62% after the rootTable change).
const (
	parallelMinBytes = 1 << 20
	splitNum         = 62 // splitFraction = splitNum/splitDen
	splitDen         = 100
	reserveChunks    = 64 // worker 0 reserves 1/reserveChunks of the bits at a time
)

// plainFrame is an open spine: its app node is already built, and the
// first n of its arguments are filled in.
type plainFrame struct {
	app  *plan.App
	args []plan.Value
	n    int
}

// plainBuilder is one worker's state.
type plainBuilder struct {
	p     *treeReader
	table []plan.Value // entries below the fragments, without the words
	roots *rootTable
	// readyBlocks: the root blocks below it are allocated.
	readyBlocks uint64
	stack       []plainFrame
	slabs       slabs

	// Parallel decoding only.
	ctl     *splitCtl
	worker1 bool

	ks, idxs [batchSize]uint64
}

// localFrames is how many open spines run keeps in an array on its own
// goroutine stack; deeper ones wait in plainBuilder.stack.
const localFrames = 128

// run decodes from c until the last fragment is done, or until c reaches
// stop (not before a fragment's first leaf), whichever comes first.
//
// For each batch of leaves it looks all their table entries up in one
// tight loop (see the top of this file), then builds their nodes. The
// innermost open spines are kept in frames, an array on this goroutine's
// stack, and the vals of a batch too: a pointer stored on the stack needs
// no write barrier, where one stored in b (on the heap) passes one, which
// costs a few nanoseconds while the garbage collector runs (storing the
// frames on the heap was a tenth of the decoding time then). Only the
// stores that make the value itself (an argument, an app's function and
// argument list) remain on the heap. b.stack holds the outer spines, those
// beyond the innermost localFrames, and all of them between calls.
func (b *plainBuilder) run(c *cursor, stop uint64) error {
	var frames [localFrames]plainFrame
	var vals [batchSize]plan.Value
	deep := b.stack // frames deep[0:], then frames[:top]
	top := 0
	sl := b.slabs
	defer func() {
		// Every exit: give the open spines and the slabs back to b.
		b.stack = append(deep, frames[:top]...)
		b.slabs = sl
	}()
	p, idxs, ks := b.p, &b.idxs, &b.ks
	if c.fi < p.numFrags {
		b.ready(c.fi)
	}
	for c.fi < p.numFrags {
		n, err := p.readBatch(c, stop, ks, idxs)
		if err != nil {
			return err
		}
		fi := c.fi
		table, roots := b.table, b.roots
		for j := range n {
			idx := idxs[j]
			if f := idx - p.L; f < p.numFrags {
				vals[j] = roots.app(f)
			} else {
				vals[j] = p.entry(table, idx)
			}
		}
		for j := range n {
			v, k := vals[j], ks[j]
			if k != 0 {
				var app *plan.App
				if top == 0 && len(deep) == 0 {
					app = roots.app(fi) // the fragment's root
				} else {
					app = sl.newApp()
				}
				app.Fun = v
				args := sl.newArgs(k)
				app.Args = args
				if top == localFrames {
					top, deep = spill(&frames, deep)
				}
				frames[top].app = app
				frames[top].args = args
				frames[top].n = 0
				top++
				continue
			}
			// A leaf argument: deliver it to the innermost open
			// spine, closing the spines it finishes, except the
			// outermost one.
			for {
				if top == 0 {
					top, deep = refill(&frames, deep)
				}
				f := &frames[top-1]
				f.args[f.n] = v
				f.n++
				if f.n != len(f.args) || (top == 1 && len(deep) == 0) {
					break
				}
				v = f.app
				top--
			}
		}
		if c.trees == 0 {
			top, deep = 0, deep[:0]
			c.next()
			if c.fi < p.numFrags && c.fi%rootBlockLen == 0 {
				b.ready(c.fi)
			}
			continue
		}
		if c.pos >= stop && c.implicit == 0 {
			return nil
		}
		if b.worker1 && b.ctl.failed.Load() {
			return errWorkerStopped
		}
	}
	return nil
}

// spill moves the outer half of frames (full) to the heap: frames then
// holds localFrames/2.
//
//go:noinline
func spill(frames *[localFrames]plainFrame, deep []plainFrame) (int, []plainFrame) {
	deep = append(deep, frames[:localFrames/2]...)
	copy(frames[:], frames[localFrames/2:])
	return localFrames / 2, deep
}

// refill brings outer spines back from the heap into frames (empty) and
// returns how many.
//
//go:noinline
func refill(frames *[localFrames]plainFrame, deep []plainFrame) (int, []plainFrame) {
	m := min(len(deep), localFrames/2)
	top := copy(frames[:], deep[len(deep)-m:])
	clear(deep[len(deep)-m:])
	return top, deep[:len(deep)-m]
}

// deliver gives v to the innermost open spine of stack and closes the
// spines it finishes, except the outermost one.
func deliver(stack []plainFrame, v plan.Value) []plainFrame {
	top := len(stack) - 1
	for {
		f := &stack[top]
		f.args[f.n] = v
		f.n++
		if f.n != len(f.args) || top == 0 {
			break
		}
		v = f.app
		top--
	}
	return stack[:top+1]
}

// fragmentsPlain decodes the fragments of the conventions that need no
// spine rewriting (all but Body) and returns the value, the last
// fragment's root.
func (d *decoder) fragmentsPlain(r *treeReader) (plan.Value, error) {
	roots := newRootTable(r.numFrags)
	treeBytes := (r.end - r.start) / 8
	if treeBytes >= d.parallelMin && (runtime.GOMAXPROCS(0) > 1 || d.parallelMin == 0) {
		if err := d.fragmentsParallel(r, roots); err != nil {
			return nil, err
		}
	} else {
		d.boxWords()
		b := &plainBuilder{p: r, table: d.table, roots: roots, stack: make([]plainFrame, 0, 64)}
		b.slabs.size(r.end-r.start, r.w0, uint64(len(d.data)))
		c := r.at(r.start, 0)
		if err := b.run(&c, r.end+1); err != nil {
			return nil, err
		}
	}
	return roots.app(r.numFrags - 1), nil
}

// rootTable holds the root app nodes of the fragments, by fragment number,
// in blocks of rootBlockLen allocated when a worker reaches a fragment in
// them (plainBuilder.ready; a leaf refers only to earlier fragments, so a
// hostile input cannot make the decoder allocate more than one block ahead
// of the fragments it has reached). The value of a fragment entry is thus
// computed, not loaded from a table of millions of entries (a cache miss
// per reference: a sixth of the decoding time on the benchmark seed).
// Both workers of the parallel decoder use it; a block's pointer is set
// once, by compare-and-swap.
type rootTable struct {
	blocks []atomic.Pointer[rootBlock]
}

// rootBlockLen: a block is 5 KB, the most memory a hostile input can make
// the decoder reserve ahead of what it has shown.
const rootBlockLen = 128

type rootBlock [rootBlockLen]plan.App

func newRootTable(n uint64) *rootTable {
	return &rootTable{blocks: make([]atomic.Pointer[rootBlock], (n+rootBlockLen-1)/rootBlockLen)}
}

// app returns the root app node of fragment f, whose block must be
// allocated (plainBuilder.ready).
func (t *rootTable) app(f uint64) *plan.App {
	return &t.blocks[f/rootBlockLen].Load()[f%rootBlockLen]
}

// alloc allocates block i unless it is.
func (t *rootTable) alloc(i uint64) {
	if t.blocks[i].Load() == nil {
		t.blocks[i].CompareAndSwap(nil, new(rootBlock))
	}
}

// ready allocates the root blocks up to fragment fi's, if b has not.
// Leaves refer to fragments before the one they are in, so a worker calls
// it when it reaches a fragment.
func (b *plainBuilder) ready(fi uint64) {
	for ; b.readyBlocks <= fi/rootBlockLen; b.readyBlocks++ {
		b.roots.alloc(b.readyBlocks)
	}
}

// splitCtl coordinates the two workers of fragmentsParallel.
type splitCtl struct {
	// state is the bit position up to which worker 0 may read leaves
	// (its reservation), or claimed|M once worker 1 has claimed the
	// leaves from bit M on. Worker 0 extends it and worker 1 claims with
	// compare-and-swap, so they never both own a leaf.
	state atomic.Uint64
	// frag and trees describe M (fragment F, trees still to start there);
	// written by worker 1 before its claim, read by worker 0 after it.
	frag, trees uint64
	_           [64]byte
	// failed is set when worker 0 stops with an error, so that worker 1
	// stops too.
	failed atomic.Bool

	// Worker 1's results, read by worker 0 after done is closed.
	suffix []plan.Value // the T trees from M on
	err    error
	done   chan struct{}
	// decided is closed when worker 1 has claimed its share or given up.
	decided chan struct{}
}

const claimed = 1 << 63

// parallelSplits counts the decodes that worker 1 shared (for tests).
var parallelSplits atomic.Uint64

// errWorkerStopped stops worker 1 when worker 0 has failed; the caller
// gets worker 0's error instead.
var errWorkerStopped = errors.New("seed: decoding stopped")

// fragmentsParallel decodes on two workers (see the top of this file).
func (d *decoder) fragmentsParallel(p *treeReader, roots *rootTable) error {
	region := p.end - p.start
	chunk := region/reserveChunks + 1
	target := p.start + region/splitDen*splitNum
	ctl := &splitCtl{done: make(chan struct{}), decided: make(chan struct{})}
	ctl.state.Store(p.start + chunk)

	w0 := &plainBuilder{p: p, table: d.table, roots: roots, ctl: ctl, stack: make([]plainFrame, 0, 64)}
	// Worker 0's share is about the bits up to target; a little more in
	// its first slabs saves a second, mostly unused one.
	w0.slabs.size(target-p.start+region/16, p.w0, uint64(len(d.data))/splitDen*splitNum)
	w1 := &plainBuilder{p: p, table: d.table, roots: roots, ctl: ctl, worker1: true, stack: make([]plainFrame, 0, 64)}
	w1.slabs.size(p.end-target, p.w0, uint64(len(d.data))/splitDen*(splitDen-splitNum))
	boxed := make(chan struct{})
	go func() {
		defer close(ctl.done)
		w1.slabs.allocFirst()
		ctl.err = w1.second(target, boxed)
		select {
		case <-ctl.decided:
		default:
			close(ctl.decided) // it did not claim
		}
	}()
	// Worker 1 reads bits while worker 0 boxes the word nats.
	w0.slabs.allocFirst()
	d.boxWords()
	close(boxed)
	if d.awaitSplit {
		<-ctl.decided
	}
	err := w0.first(chunk)
	if err != nil {
		ctl.failed.Store(true)
		<-ctl.done
		return err
	}
	return nil
}

// first is worker 0: it decodes from the start, extending its reservation
// chunk bits at a time, until the end or worker 1's claim; then it finishes
// the fragment at the claim with worker 1's trees.
func (b *plainBuilder) first(chunk uint64) error {
	p, ctl := b.p, b.ctl
	c := p.at(p.start, 0)
	resv := ctl.state.Load()
	for resv&claimed == 0 {
		if err := b.run(&c, resv); err != nil {
			return err
		}
		if c.fi == p.numFrags {
			<-ctl.done // worker 1 found nothing to claim
			return nil
		}
		// c.pos >= resv: extend the reservation unless worker 1 has
		// claimed the bits from resv on.
		if ctl.state.CompareAndSwap(resv, resv+chunk) {
			resv += chunk
		} else {
			resv = ctl.state.Load()
		}
	}
	m := resv &^ claimed
	if err := b.run(&c, m); err != nil {
		return err
	}
	if c.pos != m || c.fi != ctl.frag || c.trees != ctl.trees {
		// Cannot happen: both parse the same bits.
		return corruptf("internal error: parallel decoders disagree at bit %d", m)
	}
	<-ctl.done
	if ctl.err != nil {
		return ctl.err
	}
	for _, v := range ctl.suffix {
		b.stack = deliver(b.stack, v)
	}
	return nil
}

// second is worker 1: it reads the leaves up to a claimable position at or
// after target without decoding them, claims the rest and decodes it. It
// returns nil without claiming when there is no such position (worker 0
// then decodes everything), and any error found in what it claimed.
func (b *plainBuilder) second(target uint64, boxed <-chan struct{}) error {
	p, ctl := b.p, b.ctl
	c := p.at(p.start, 0)
	stop := target
	for {
		if !p.skip(&c, stop) || ctl.failed.Load() {
			return nil // worker 0 decodes everything
		}
		r := ctl.state.Load()
		if c.pos < r {
			stop = r // worker 0 has reserved these bits: read on
			continue
		}
		ctl.frag, ctl.trees = c.fi, c.trees
		if ctl.state.CompareAndSwap(r, claimed|c.pos) {
			parallelSplits.Add(1)
			close(ctl.decided)
			break
		}
		// Worker 0 has just extended its reservation: try again.
	}
	// skip does not check the leaves, but readBatch checks after every
	// spine that the trees still to start can fit in the bits left: if
	// that fails here, worker 0 fails before M.
	if w := uint64(bitwidth(p.L+c.fi-1)) + 1; c.trees*w > p.end-c.pos+w {
		return nil
	}
	// Decode the T trees left in fragment F into a pseudo-spine that is
	// never closed, then the later fragments.
	ctl.suffix = make([]plan.Value, c.trees)
	<-boxed
	b.stack = append(b.stack[:0], plainFrame{args: ctl.suffix})
	return b.run(&c, p.end+1)
}
