package db

import (
	"context"
	"strings"
	"testing"

	"pstore/pagestore"
	"pstore/plan"
)

// A map database in the pallas dialect whose state is a balanced binary
// tree with a pin per node. Every piece is a law written in PLAN.md
// syntax; records are Scott-encoded, so taking one apart is applying it.
//
//	N  L R k      = k L R            a node's contents are (N L R), pinned
//	K  a b = a,  KI a b = b          path steps: left, right
//	C  b rest e c = c b rest         a path is (C b (C b ... Nil))
//	Nil e c       = e
//	Get path node = path node (GetC Get node)
//	GetC self node b rest = self rest (node b)
//	Set path v node = path v (SetC Set v node)
//	SetC self v node b rest = b <N (self rest v (node K)) (node KI)>
//	                            <N (node K) (self rest v (node KI))>
//	In path v k   = k path v         an input
//	M tree input  = input (Step M tree)
//	Step self tree path v = (0 (Get path tree) (self (Set path v tree)))
var mapLaws = func() map[string]string {
	m := map[string]string{
		"N":    `{"N" 3 (0 (0 3 1) 2)}`,
		"K":    `{"K" 2 1}`,
		"KI":   `{"KI" 2 2}`,
		"C":    `{"C" 4 (0 (0 4 1) 2)}`,
		"Nil":  `{"Nil" 2 1}`,
		"GetC": `{"GetC" 4 (0 (0 1 4) (0 2 3))}`,
		"In":   `{"In" 3 (0 (0 3 1) 2)}`,
	}
	m["Get"] = `{"Get" 2 (0 (0 1 2) (0 (0 GetC 0) 2))}`
	m["SetC"] = `{"SetC" 5 (1 (0 3 K) (1 (0 3 KI) (0 (0 4 (0 (2 4) (0 (0 N (0 (0 (0 1 5) 2) 6)) 7))) (0 (2 4) (0 (0 N 6) (0 (0 (0 1 5) 2) 7))))))}`
	m["Set"] = `{"Set" 3 (0 (0 1 2) (0 (0 (0 SetC 0) 2) 3))}`
	m["Step"] = `{"Step" 4 (0 (0 (2 0) (0 (0 Get 3) 2)) (0 1 (0 (0 (0 Set 3) 4) 2)))}`
	m["M"] = `{"M" 2 (0 2 (0 (0 Step 0) 1))}`
	// Substitute the law texts for their names (names are whole words).
	order := []string{"Step", "SetC", "Set", "GetC", "Get", "N", "KI", "K", "C", "Nil", "In", "M"}
	for changed := true; changed; {
		changed = false
		for k, v := range m {
			for _, name := range order {
				nv := replaceWord(v, name, m[name])
				if nv != v && name != k {
					v, changed = nv, true
				}
			}
			m[k] = v
		}
	}
	return m
}()

// replaceWord replaces name where it stands alone (not inside a string
// literal or another word).
func replaceWord(s, name, with string) string {
	var b strings.Builder
	inStr := false
	for i := 0; i < len(s); {
		c := s[i]
		if c == '"' {
			inStr = !inStr
		}
		if !inStr && strings.HasPrefix(s[i:], name) {
			before := i == 0 || !isWordByte(s[i-1])
			j := i + len(name)
			after := j == len(s) || !isWordByte(s[j])
			if before && after {
				b.WriteString(with)
				i = j
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

type mapKit struct {
	N, K, KI, C, Nil, In, M plan.Value
}

func newMapKit(t testing.TB) *mapKit {
	k := &mapKit{}
	for name, dst := range map[string]*plan.Value{"N": &k.N, "K": &k.K, "KI": &k.KI, "C": &k.C, "Nil": &k.Nil, "In": &k.In, "M": &k.M} {
		*dst = mustParse(t, mapLaws[name])
	}
	return k
}

// tree builds a tree of depth d whose leaf i is leaf(i); it returns the
// root pin.
func (k *mapKit) tree(d int, leaf func(i int) plan.Value) plan.Value {
	level := make([]plan.Value, 1<<d)
	for i := range level {
		level[i] = leaf(i)
	}
	for len(level) > 1 {
		next := make([]plan.Value, len(level)/2)
		for i := range next {
			next[i] = plan.P(plan.A(k.N, level[2*i], level[2*i+1]))
		}
		level = next
	}
	return level[0]
}

func (k *mapKit) path(d, i int) plan.Value {
	p := k.Nil
	for bit := 0; bit < d; bit++ { // least significant bit is the last step
		b := k.K
		if i>>bit&1 == 1 {
			b = k.KI
		}
		p = plan.A(k.C, b, p)
	}
	return p
}

func (k *mapKit) input(d, i int, v plan.Value) plan.Value {
	return plan.A(k.In, k.path(d, i), v)
}

func TestMapLaws(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	k := newMapKit(t)
	const depth = 4
	root := k.tree(depth, func(i int) plan.Value { return plan.N(uint64(1000 + i)) })
	d := mustCreate(t, st, "m", plan.A(k.M, root), CreateOptions{})
	defer d.Close()
	// Each input writes entry i and outputs its previous value.
	for _, c := range []struct{ i, v, old int }{{0, 7, 1000}, {5, 8, 1005}, {15, 9, 1015}, {5, 10, 8}, {0, 11, 7}} {
		out, _ := send(t, d, k.input(depth, c.i, plan.N(uint64(c.v))))
		if nat(t, out) != uint64(c.old) {
			t.Fatalf("entry %d: old value %s, want %d", c.i, plan.String(out), c.old)
		}
	}
	if _, err := d.ReplayVerify(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotWritesLittle: a state of 16384 entries (>= 10,000) in a tree
// with a pin per node; after one entry changes, a snapshot stores under 1%
// of the state's bytes.
func TestSnapshotWritesLittle(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, false)
	k := newMapKit(t)
	const depth = 14
	root := k.tree(depth, func(i int) plan.Value { return plan.N(uint64(1_000_000 + i)) })
	rp := root.(*plan.Pin)
	if _, err := st.PutPin(rp); err != nil {
		t.Fatal(err)
	}
	full := stored(t, st)
	d := mustCreate(t, st, "m", plan.A(k.M, rp), CreateOptions{SnapshotEvery: -1, SnapshotBytes: -1})
	defer d.Close()
	for i, idx := range []int{77, 9000, 16383} {
		send(t, d, k.input(depth, idx, plan.N(uint64(i))))
		before := stored(t, st)
		if _, _, err := d.Snapshot(ctx); err != nil {
			t.Fatal(err)
		}
		w := stored(t, st) - before
		t.Logf("state %d bytes; snapshot after one change wrote %d bytes (%.3f%%)", full, w, 100*float64(w)/float64(full))
		if w*100 >= full {
			t.Fatalf("snapshot wrote %d bytes of a %d-byte state", w, full)
		}
	}
	if _, err := d.ReplayVerify(ctx); err != nil {
		t.Fatal(err)
	}
}

func stored(t testing.TB, st *pagestore.Store) uint64 {
	s, err := st.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return s.BytesStored
}
