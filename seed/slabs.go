package seed

import "pstore/plan"

// slabs hands out decoded app nodes and argument lists from a few large
// blocks rather than many small allocations: far fewer allocations, and
// far fewer garbage collections during a decode (each of which would
// rescan the nodes decoded so far). One live node keeps its block
// reachable.
//
// A leaf takes at least W_0+1 bits, so a stretch of s bits holds at most
// s/(W_0+1) leaves, hence at most that many argument slots and app nodes.
// The first blocks get that many (half for apps: a spine has one or more
// arguments, and it is two in a balanced tree), up to about two bytes per
// byte of input (size); later ones grow by an eighth of what was given so
// far, so a hostile input cannot make the decoder reserve much more than
// it has shown it needs. The unused end of the last block is memory that
// was zeroed and that every garbage collection scans while the value
// lives: growing by an eighth leaves about a sixteenth unused (growing by
// a quarter, from first blocks twice as large, left 11% of the benchmark
// seed's 175 MB of nodes unused).
type slabs struct {
	args                 []plan.Value
	apps                 []plan.App
	argsGiven, appsGiven uint64
	argsFirst, appsFirst uint64
}

// slabSize is the least first block (entries), unless the tree is smaller.
const slabSize = 1 << 14

// size sets the first block sizes for decoding a stretch of bits bits,
// standing for share bytes of the input, with index width w0 at its start.
func (s *slabs) size(bits, w0, share uint64) {
	leafBound := bits / (w0 + 1)
	s.argsFirst = min(leafBound, max(share/8, slabSize))
	s.appsFirst = min(leafBound/2+1, max(share/16, slabSize))
}

// allocFirst allocates the first blocks now rather than when they are
// first needed.
func (s *slabs) allocFirst() {
	s.args = make([]plan.Value, s.argsFirst)
	s.argsGiven = s.argsFirst
	s.apps = make([]plan.App, s.appsFirst)
	s.appsGiven = s.appsFirst
}

// newArgs returns an argument list of k slots.
func (s *slabs) newArgs(k uint64) []plan.Value {
	if k > uint64(len(s.args)) {
		s.growArgs(k)
	}
	a := s.args[:k:k]
	s.args = s.args[k:]
	return a
}

// newApp returns an app node, zero.
func (s *slabs) newApp() *plan.App {
	if len(s.apps) == 0 {
		s.growApps()
	}
	a := &s.apps[0]
	s.apps = s.apps[1:]
	return a
}

func (s *slabs) growArgs(k uint64) {
	m := s.argsFirst
	if s.argsGiven != 0 {
		m = s.argsGiven/8 + 1
	}
	m = max(m, k)
	s.args = make([]plan.Value, m)
	s.argsGiven += m
}

func (s *slabs) growApps() {
	m := s.appsFirst
	if s.appsGiven != 0 {
		m = s.appsGiven/8 + 1
	}
	s.apps = make([]plan.App, m)
	s.appsGiven += m
}
