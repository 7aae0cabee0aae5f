package plan4

import (
	"embed"
	"runtime"
	"sync"
	"weak"

	"pstore/plan"
	"pstore/seed"
)

// Jets for laws a compiler workload calls a lot (indexing, bit length,
// equality), matched by the exact law: name and arity as for the dialect's
// jets, and then the body must equal the Sire law's own body, so a pin
// that gets one of these jets computes exactly what its law computes (the
// dialect's name-only rule, PLAN4.md section 7, applies to its eight jets
// alone). The laws are the plan-di-c kernel laws of vectors/plan4, embedded
// here as seed files.

//go:embed jetlaws/*.seed
var jetLawFiles embed.FS

type exactLaw struct {
	id   jetID
	body plan.Value
}

var exactJets struct {
	once  sync.Once
	byKey map[jetKey]exactLaw
}

func loadExactJets() {
	exactJets.byKey = map[jetKey]exactLaw{}
	for file, id := range map[string]jetID{"Ix.seed": jIx, "BitSz.seed": jBitSz, "Eql.seed": jEql} {
		data, err := jetLawFiles.ReadFile("jetlaws/" + file)
		if err != nil {
			panic("plan4: embedded jet law missing: " + file)
		}
		// Rebuild structurally (no evaluation, so no jet matching runs
		// while the table is being built).
		tree, err := seed.Decode(data, seed.Plan4, []plan.Value{plan.P(plan.N(0))})
		if err != nil {
			panic("plan4: embedded jet law " + file + ": " + err.Error())
		}
		v, err := seed.FromPlan4(tree)
		if err != nil {
			panic("plan4: embedded jet law " + file + ": " + err.Error())
		}
		l := v.(*plan.Pin).MustItem().(*plan.Law)
		k, ok := jetKeyOf(l.Name, l.Arity)
		if !ok {
			panic("plan4: embedded jet law " + file + ": name or arity too large")
		}
		exactJets.byKey[k] = exactLaw{id: id, body: l.Body}
	}
}

// exactLawFor returns the exact-law jet whose law has this name and
// arity, if there is one.
func exactLawFor(name, arity plan.Nat) (exactLaw, bool) {
	k, ok := jetKeyOf(name, arity)
	if !ok {
		return exactLaw{}, false
	}
	exactJets.once.Do(loadExactJets)
	e, ok := exactJets.byKey[k]
	return e, ok
}

// exactJet returns the exact-law jet for a law with this name and arity
// whose body (computed only if the name and arity match) is the law's.
func exactJet(name, arity plan.Nat, body func() plan.Value) jetID {
	e, ok := exactLawFor(name, arity)
	if !ok || !plan.Equal(body(), e.body) {
		return jNone
	}
	return e.id
}

// lawJetCache remembers the exact-law decision for input laws (keyed
// weakly by pointer, so it keeps no law alive): a stored pin loaded by
// many evaluations is compared with the jet's law once. Only laws whose
// name and arity match an exact jet get an entry; any other law is turned
// down by the name and arity alone, before the cache is looked at.
var lawJetCache sync.Map // weak.Pointer[plan.Law] -> jetID

func exactJetForLaw(l *plan.Law) jetID {
	e, ok := exactLawFor(l.Name, l.Arity)
	if !ok {
		return jNone
	}
	key := weak.Make(l)
	if id, ok := lawJetCache.Load(key); ok {
		return id.(jetID)
	}
	id := jNone
	if plan.Equal(l.Body, e.body) {
		id = e.id
	}
	if _, loaded := lawJetCache.LoadOrStore(key, id); !loaded {
		runtime.AddCleanup(l, func(k weak.Pointer[plan.Law]) { lawJetCache.Delete(k) }, key)
	}
	return id
}
