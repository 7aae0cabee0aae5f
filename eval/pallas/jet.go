package pallas

import (
	"fmt"
	"sync"

	"pstore/merkle"
	"pstore/plan"
)

// Jets (PLAN.md 7): native implementations of particular pinned laws,
// matched by the digest of the pin (its CID), so only the exact law gets
// the jet.
//
// A jet must give exactly the result the law would give, including
// laziness: it may only force (evaluate to WHNF) an argument that the law
// would force on every path that has a value. It does so by returning
// c.Force(i); the evaluator then evaluates argument i on its own explicit
// stack and calls the jet again, so a jet never recurses into the
// evaluator. A jet that meets a case it does not handle returns Decline(),
// and the law's own body runs (what it forced so far stays evaluated, which
// is invisible).

// JetFunc is a jet. It inspects its arguments through c and returns one of
// c.Force(i), c.Arg(i), ReturnNat(n), ReturnValue(v) or Decline().
type JetFunc func(c *JetCall) JetResult

// JetCall gives a jet access to the arguments of one call. It is valid only
// during the call.
type JetCall struct {
	args []*node
}

// NumArgs is the number of arguments (the law's arity).
func (c *JetCall) NumArgs() int { return len(c.args) }

// Nat returns argument i (0-based) cast to a nat (PLAN.md 4.5) when it is
// already in WHNF; otherwise ok is false and the jet should return
// c.Force(i).
func (c *JetCall) Nat(i int) (n plan.Nat, ok bool) {
	a := follow(c.args[i])
	if !a.isWHNF() {
		return plan.Nat{}, false
	}
	return castNat(a), true
}

// Kind returns the kind of argument i when it is in WHNF (ok false
// otherwise). A closure is KindApp.
func (c *JetCall) Kind(i int) (k plan.Kind, ok bool) {
	a := follow(c.args[i])
	if !a.isWHNF() {
		return 0, false
	}
	switch a.tag {
	case tagNat:
		return plan.KindNat, true
	case tagLaw:
		return plan.KindLaw, true
	case tagPin:
		return plan.KindPin, true
	}
	return plan.KindApp, true
}

// Force asks the evaluator to evaluate argument i to WHNF and call the jet
// again.
func (c *JetCall) Force(i int) JetResult { return JetResult{kind: jForce, i: i} }

// Arg returns argument i itself (unevaluated if it is) as the result.
func (c *JetCall) Arg(i int) JetResult { return JetResult{kind: jArg, i: i} }

// ReturnNat returns the nat n.
func ReturnNat(n plan.Nat) JetResult { return JetResult{kind: jNat, nat: n} }

// ReturnValue returns v, which is evaluated further like any law result.
func ReturnValue(v plan.Value) JetResult { return JetResult{kind: jValue, v: v} }

// Decline makes the evaluator run the law's own body.
func Decline() JetResult { return JetResult{kind: jDecline} }

// JetResult is what a JetFunc returns.
type JetResult struct {
	kind uint8
	i    int
	nat  plan.Nat
	v    plan.Value
}

const (
	jDecline uint8 = iota
	jForce
	jArg
	jNat
	jValue
)

type jetEntry struct {
	name   string
	arity  int
	fn     JetFunc
	law    *plan.Law // the law itself, when known (RegisterJetFor)
	digest plan.Digest
}

type jetKey struct {
	name  string
	arity int
}

var jets struct {
	// mu guards the maps. Lookups happen once per pin node per evaluation.
	mu       sync.RWMutex
	byDigest map[plan.Digest]*jetEntry
	byName   map[jetKey][]*jetEntry
}

// RegisterJet makes fn the jet of the pinned law whose pin digest is d
// (merkle.Digest of the pin; merkle.DigestOf turns a CID into it). name
// and arity must be the law's: name is the law's name nat as a string (its
// little-endian bytes, e.g. "_Add"), arity its arity. They are a cheap
// pre-filter: a pin is only hashed for the jet lookup when some jet has its
// law's name and arity, and a pin whose law has another arity never gets
// the jet. Registering a digest twice replaces the earlier jet. Safe for
// concurrent use; evaluations already running may or may not see the new
// jet.
func RegisterJet(d plan.Digest, name string, arity int, fn JetFunc) {
	register(d, &jetEntry{name: name, arity: arity, fn: fn, digest: d})
}

// RegisterJetFor is RegisterJet for a pin value: it computes the pin's
// digest and keeps the law, so that a pin built at run time (by opcode 4)
// is matched by comparing laws instead of hashing it (equal values have
// equal digests, so this is the same match).
func RegisterJetFor(p *plan.Pin, name string, arity int, fn JetFunc) error {
	d, err := merkle.Digest(p)
	if err != nil {
		return fmt.Errorf("pallas: jet %s: %w", name, err)
	}
	it, err := p.Item()
	if err != nil {
		return fmt.Errorf("pallas: jet %s: %w", name, err)
	}
	l, ok := it.(*plan.Law)
	if !ok {
		return fmt.Errorf("pallas: jet %s: the pin does not hold a law", name)
	}
	if got := string(l.Name.AppendBytes(nil)); got != name || clampArity(l.Arity) != arity {
		return fmt.Errorf("pallas: jet %s/%d: the law is %q/%s", name, arity, got, l.Arity)
	}
	register(d, &jetEntry{name: name, arity: arity, fn: fn, law: l, digest: d})
	return nil
}

func register(d plan.Digest, e *jetEntry) {
	jets.mu.Lock()
	defer jets.mu.Unlock()
	if jets.byDigest == nil {
		jets.byDigest = map[plan.Digest]*jetEntry{}
		jets.byName = map[jetKey][]*jetEntry{}
	}
	k := jetKey{e.name, e.arity}
	if old := jets.byDigest[d]; old != nil {
		ok := jetKey{old.name, old.arity}
		list := jets.byName[ok]
		for i, x := range list {
			if x == old {
				jets.byName[ok] = append(list[:i:i], list[i+1:]...)
				break
			}
		}
	}
	jets.byDigest[d] = e
	jets.byName[k] = append(jets.byName[k], e)
}

// lookupJet decides, once per pin node, whether the pinned law has a jet.
// Pins whose law's name and arity no jet has are not hashed at all. A pin
// with a known digest (every stored pin) costs one map lookup. A pin built
// at run time is compared with the candidate laws (plan.Equal, which uses
// digests where both pins have them); only if some candidate was registered
// by digest alone is the pin hashed.
// pinJet returns the jet of a law pin, looking it up the first time; nil
// when it has none or jets are off.
func (m *machine) pinJet(pi *pinInfo) *jetEntry {
	if m.opts.NoJets {
		return nil
	}
	if !pi.jetDone {
		m.lookupJet(pi)
	}
	return pi.jet
}

func (m *machine) lookupJet(pi *pinInfo) {
	pi.jetDone = true
	builtinJets()
	li := follow(pi.contents).x.(*lawInfo)
	k := jetKey{string(li.law.Name.AppendBytes(nil)), li.arity}
	jets.mu.RLock()
	cands := jets.byName[k]
	jets.mu.RUnlock()
	if len(cands) == 0 {
		return
	}
	if d, ok := pi.pin.CachedDigest(); ok {
		pi.jet = findJet(d, k)
		return
	}
	needHash := false
	for _, c := range cands {
		if c.law == nil {
			needHash = true
			continue
		}
		if plan.Equal(li.law, c.law) {
			// Equal values have equal canonical bodies, hence equal
			// digests: record it, so the pin is never hashed for this
			// and later lookups are one map access.
			pi.pin.SetDigest(c.digest)
			pi.jet = c
			return
		}
	}
	if !needHash {
		return
	}
	d, err := merkle.Digest(pi.pin)
	if err != nil {
		// A pin that cannot be hashed cannot match a jet; its law runs.
		return
	}
	pi.jet = findJet(d, k)
}

func findJet(d plan.Digest, k jetKey) *jetEntry {
	jets.mu.RLock()
	defer jets.mu.RUnlock()
	e := jets.byDigest[d]
	if e == nil || e.arity != k.arity {
		return nil
	}
	return e
}

// callJet runs the jet frame at index top. It returns the argument to
// evaluate next, or nil when the step is over (the thunk was overwritten
// and the frame popped).
func (m *machine) callJet(top int) (*node, error) {
	fr := &m.frames[top]
	base, ar := int(fr.base), int(fr.ar)
	m.jc.args = m.astack[base+1 : base+1+fr.jet.arity]
	r := fr.jet.fn(&m.jc)
	args := m.jc.args
	m.jc.args = nil
	var res *node
	switch r.kind {
	case jForce:
		if r.i < 0 || r.i >= len(args) {
			return nil, fmt.Errorf("pallas: jet %s forced argument %d of %d", fr.jet.name, r.i, len(args))
		}
		n := follow(args[r.i])
		args[r.i] = n
		if n.isWHNF() {
			// The jet would be called again with the same arguments.
			return nil, fmt.Errorf("pallas: jet %s forced argument %d, which is already evaluated", fr.jet.name, r.i)
		}
		fr.i = int32(r.i + 1)
		return n, nil
	case jArg:
		res = args[r.i]
	case jNat:
		res = m.natNode(r.nat)
	case jValue:
		res = m.wrap(r.v)
	default: // decline: run the law
		m.stats.JetCalls--
		o := fr.o
		head := m.astack[base]
		m.pop()
		o.flags &^= fBusy
		m.finishLaw(o, follow(head.x.(*pinInfo).contents).x.(*lawInfo), base, ar)
		return nil, nil
	}
	o := fr.o
	m.pop()
	m.finishStep(o, base, ar, res)
	return nil, nil
}
