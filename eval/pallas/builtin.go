package pallas

import (
	"embed"
	"fmt"
	"math/big"
	"sync"

	"pstore/plan"
	"pstore/seed"
)

// The built-in jets: the arithmetic and comparison laws of the Pallas seed
// files in the test vectors (copied unchanged into jetlaws/). The laws are
// taken from the files themselves (decoded and rebuilt structurally with
// seed.FromPallas), so each jet is bound to exactly the pin its law lives
// in, by digest.
//
// Each jet below states the law's meaning it relies on; jets_test.go checks
// every jet against its law on random inputs (including non-nats and
// crashing arguments, to catch strictness mistakes) and against math/big.

//go:embed jetlaws/*.seed
var jetLawFiles embed.FS

var builtinOnce sync.Once

func builtinJets() { builtinOnce.Do(registerBuiltins) }

// builtin maps law names (as in the seed files) to jets. Arguments are
// 0-based.
var builtin = map[string]struct {
	arity int
	fn    JetFunc
}{
	// id x = x
	"id": {1, func(c *JetCall) JetResult { return c.Arg(0) }},
	// _ToNat x = (2 0 3 x): the nat cast.
	"_ToNat": {1, natJet(func(n plan.Nat) plan.Nat { return n })},
	// _IsNat x: 1 if x is a nat, else 0.
	"_IsNat": {1, kindTest(plan.KindNat)},
	"_IsPin": {1, kindTest(plan.KindPin)},
	"_IsLaw": {1, kindTest(plan.KindLaw)},
	// _If c t e = (2 e ({0 2 1} t) c): t when nat(c) != 0, else e.
	"_If": {3, func(c *JetCall) JetResult {
		n, ok := c.Nat(0)
		if !ok {
			return c.Force(0)
		}
		if n.IsZero() {
			return c.Arg(2)
		}
		return c.Arg(1)
	}},
	// _Not x = If x 0 1.
	"_Not": {1, natJet(func(n plan.Nat) plan.Nat { return boolNat(n.IsZero()) })},
	// _Dec x = (2 0 id x): nat(x) - 1, and 0 for 0.
	"_Dec": {1, natJet(plan.Nat.Dec)},
	// _Exec f x n applies f n times to x: x itself (unevaluated) when
	// nat(n) = 0. Only f = 3 (increment) is native: nat(x) + n. For n > 0
	// the result's head is f, so forcing f is safe.
	"_Exec": {3, func(c *JetCall) JetResult {
		n, ok := c.Nat(2)
		if !ok {
			return c.Force(2)
		}
		if n.IsZero() {
			return c.Arg(1)
		}
		k, ok := c.Kind(0)
		if !ok {
			return c.Force(0)
		}
		if f, _ := c.Nat(0); k != plan.KindNat || !isSmall(f, 3) {
			return Decline()
		}
		x, ok := c.Nat(1)
		if !ok {
			return c.Force(1)
		}
		return ReturnNat(add(x, n))
	}},
	// _Add a b = Exec 3 (ToNat a) b = nat(a) + nat(b); strict in both.
	"_Add": {2, func(c *JetCall) JetResult {
		a, b, r, ok := twoNats(c)
		if !ok {
			return r
		}
		return ReturnNat(add(a, b))
	}},
	// _Mul a b = Exec (Add a) 0 b: 0 without looking at a when nat(b) = 0.
	"_Mul": {2, func(c *JetCall) JetResult {
		b, ok := c.Nat(1)
		if !ok {
			return c.Force(1)
		}
		if b.IsZero() {
			return ReturnNat(plan.N(0))
		}
		a, ok := c.Nat(0)
		if !ok {
			return c.Force(0)
		}
		return ReturnNat(plan.NatFromBigNoCopy(new(big.Int).Mul(a.BigShared(), b.BigShared())))
	}},
	// _Sub a b = Exec Dec a b: a itself (uncast) when nat(b) = 0, else
	// max(nat(a) - nat(b), 0).
	"_Sub": {2, func(c *JetCall) JetResult {
		b, ok := c.Nat(1)
		if !ok {
			return c.Force(1)
		}
		if b.IsZero() {
			return c.Arg(0)
		}
		a, ok := c.Nat(0)
		if !ok {
			return c.Force(0)
		}
		return ReturnNat(sub(a, b))
	}},
	// natLte a b = Not (Sub a b): 1 if nat(a) <= nat(b).
	"natLte": {2, func(c *JetCall) JetResult {
		a, b, r, ok := twoNats(c)
		if !ok {
			return r
		}
		return ReturnNat(boolNat(a.Cmp(b) <= 0))
	}},
	// natMin a b = If (natLte a b) a b: the argument itself (both are
	// already forced by natLte).
	"natMin": {2, func(c *JetCall) JetResult {
		a, b, r, ok := twoNats(c)
		if !ok {
			return r
		}
		if a.Cmp(b) <= 0 {
			return c.Arg(0)
		}
		return c.Arg(1)
	}},
	// natCmp a b = natMin 2 (Sub (3 a) b): 0, 1, 2 for <, =, >.
	"natCmp": {2, func(c *JetCall) JetResult {
		a, b, r, ok := twoNats(c)
		if !ok {
			return r
		}
		return ReturnNat(cmpNat(a, b))
	}},
	// _Cmp x y forces both (every branch tests IsNat of both). Two nats:
	// natCmp; a nat and a non-nat: the nat is smaller. Other kinds run the
	// law.
	"_Cmp": {2, func(c *JetCall) JetResult {
		kx, ok := c.Kind(0)
		if !ok {
			return c.Force(0)
		}
		ky, ok := c.Kind(1)
		if !ok {
			return c.Force(1)
		}
		switch {
		case kx == plan.KindNat && ky == plan.KindNat:
			a, _ := c.Nat(0)
			b, _ := c.Nat(1)
			return ReturnNat(cmpNat(a, b))
		case kx == plan.KindNat:
			return ReturnNat(plan.N(0))
		case ky == plan.KindNat:
			return ReturnNat(plan.N(2))
		}
		return Decline()
	}},
}

func kindTest(k plan.Kind) JetFunc {
	return func(c *JetCall) JetResult {
		got, ok := c.Kind(0)
		if !ok {
			return c.Force(0)
		}
		return ReturnNat(boolNat(got == k))
	}
}

// natJet is the jet of a law of one argument, strict in it, whose result
// is f of its nat.
func natJet(f func(plan.Nat) plan.Nat) JetFunc {
	return func(c *JetCall) JetResult {
		n, ok := c.Nat(0)
		if !ok {
			return c.Force(0)
		}
		return ReturnNat(f(n))
	}
}

// cmpNat is 0, 1 or 2 as a is less than, equal to or greater than b.
func cmpNat(a, b plan.Nat) plan.Nat { return plan.N(uint64(a.Cmp(b) + 1)) }

// twoNats forces b, then a (the order of the laws), and returns their nats.
func twoNats(c *JetCall) (a, b plan.Nat, r JetResult, ok bool) {
	if b, ok = c.Nat(1); !ok {
		return a, b, c.Force(1), false
	}
	if a, ok = c.Nat(0); !ok {
		return a, b, c.Force(0), false
	}
	return a, b, r, true
}

func boolNat(b bool) plan.Nat {
	if b {
		return plan.N(1)
	}
	return plan.N(0)
}

func isSmall(n plan.Nat, k uint64) bool {
	v, ok := n.Uint64()
	return ok && v == k
}

func add(a, b plan.Nat) plan.Nat {
	x, ok1 := a.Uint64()
	y, ok2 := b.Uint64()
	if ok1 && ok2 && x+y >= x {
		return plan.N(x + y)
	}
	return plan.NatFromBigNoCopy(new(big.Int).Add(a.BigShared(), b.BigShared()))
}

func sub(a, b plan.Nat) plan.Nat {
	if a.Cmp(b) <= 0 {
		return plan.N(0)
	}
	x, ok1 := a.Uint64()
	y, ok2 := b.Uint64()
	if ok1 && ok2 {
		return plan.N(x - y)
	}
	return plan.NatFromBigNoCopy(new(big.Int).Sub(a.BigShared(), b.BigShared()))
}

// BuiltinJetPins returns the pinned laws that have built-in jets, by law
// name, as found in the embedded seed files.
func BuiltinJetPins() (map[string]*plan.Pin, error) {
	out := map[string]*plan.Pin{}
	ents, err := jetLawFiles.ReadDir("jetlaws")
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		data, err := jetLawFiles.ReadFile("jetlaws/" + e.Name())
		if err != nil {
			return nil, err
		}
		tree, err := seed.Decode(data, seed.Pallas, nil)
		if err != nil {
			return nil, fmt.Errorf("pallas: jet laws %s: %w", e.Name(), err)
		}
		v, err := seed.FromPallas(tree)
		if err != nil {
			return nil, fmt.Errorf("pallas: jet laws %s: %w", e.Name(), err)
		}
		collectPins(v, out)
	}
	return out, nil
}

// collectPins records every pinned law under v by name (keeping the first
// of each name; the seed files agree on every shared law).
func collectPins(v plan.Value, out map[string]*plan.Pin) {
	seen := map[plan.Value]bool{}
	st := []plan.Value{v}
	for len(st) > 0 {
		x := st[len(st)-1]
		st = st[:len(st)-1]
		switch x := x.(type) {
		case *plan.Pin:
			if seen[x] {
				continue
			}
			seen[x] = true
			it, err := x.Item()
			if err != nil {
				continue
			}
			if l, ok := it.(*plan.Law); ok {
				name := string(l.Name.AppendBytes(nil))
				if _, dup := out[name]; !dup {
					out[name] = x
				}
			}
			st = append(st, it)
		case *plan.Law:
			st = append(st, x.Body)
		case *plan.App:
			st = append(st, x.Fun)
			st = append(st, x.Args...)
		}
	}
}

func registerBuiltins() {
	pins, err := BuiltinJetPins()
	if err != nil {
		// The files are embedded and tested; failing here is a build bug.
		panic(err)
	}
	for name, j := range builtin {
		p, ok := pins[name]
		if !ok {
			panic("pallas: no law for built-in jet " + name)
		}
		if err := RegisterJetFor(p, name, j.arity, j.fn); err != nil {
			panic(err)
		}
	}
}
