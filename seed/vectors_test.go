package seed

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pstore/plan"
)

func mustParse(t testing.TB, s string) plan.Value {
	t.Helper()
	v, err := plan.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

// TestPallasVectors decodes every Pallas seed file to exactly the tree in
// decoded.tsv and re-encodes it (raw, no holes) to the identical bytes.
func TestPallasVectors(t *testing.T) {
	tsv, err := os.ReadFile("testdata/pallas/decoded.tsv")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimRight(string(tsv), "\n"), "\n") {
		name, text, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		n++
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata/pallas", name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(data, Pallas, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := mustParse(t, text)
			if !plan.Equal(got, want) {
				t.Fatalf("decoded tree differs from decoded.tsv")
			}
			re, err := Encode(got, Raw)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(re, data) {
				t.Fatalf("re-encoding differs:\n got %x\nwant %x", re, data)
			}
			// Structural rebuild: a pin holding a law.
			v, err := FromPallas(got)
			if err != nil {
				t.Fatal(err)
			}
			p, ok := v.(*plan.Pin)
			if !ok {
				t.Fatalf("FromPallas gave a %v, want a pin", v.Kind())
			}
			if _, ok := p.MustItem().(*plan.Law); !ok {
				t.Fatalf("pin holds a %v, want a law", p.MustItem().Kind())
			}
			// Encoding the value in the Pallas convention and rebuilding
			// gives the same value back.
			pe, err := Encode(v, Pallas)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pe, data) {
				t.Fatal("the value in the Pallas convention does not give the file's bytes")
			}
			tree2, err := Decode(pe, Pallas, nil)
			if err != nil {
				t.Fatal(err)
			}
			v2, err := FromPallas(tree2)
			if err != nil {
				t.Fatal(err)
			}
			if !plan.Equal(v, v2) {
				t.Fatal("Pallas encode/decode/FromPallas does not round trip")
			}
		})
	}
	if n != 4 {
		t.Fatalf("%d vectors, want 4", n)
	}
}

// TestIsNatBytes checks SEED.md section 13 byte for byte.
func TestIsNatBytes(t *testing.T) {
	want := unhex(t, `
0000 0000 0000 0000 0000 0000 0000 0000
0100 0000 0000 0000 0500 0000 0000 0000
0400 0000 0000 0000 5f49 734e 6174 0000
0403 0201 00aa 8ca6 e20a a0d5 a30e ce08
9c19 d835 0801 0000`)
	tree := mustParse(t, `(4 (0 "_IsNat" 1 (0 (1 (0 0 1 (2 0)) (0 0 3 (2 0)) (0 0 2 (2 0)) (0 0 1 (2 1))) 1)))`)
	got, err := Encode(tree, Raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
	// The same bytes from the value in the Pallas convention.
	val := mustParse(t, `<{"_IsNat" 1 (0 (1 (0 0 1 (2 0)) (0 0 3 (2 0)) (0 0 2 (2 0)) (0 0 1 (2 1))) 1)}>`)
	got, err = Encode(val, Pallas)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Pallas convention: got %x\nwant %x", got, want)
	}
	dec, err := Decode(want, Raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Equal(dec, tree) {
		t.Fatal("decode differs")
	}
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.Join(strings.Fields(s), "")
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestApplyTwice checks SEED.md section 14: both encodings decode to the same
// tree, and the encoder produces the first.
func TestApplyTwice(t *testing.T) {
	first := unhex(t, `
0100 0000 0000 0000 0100 0000 0000 0000
0000 0000 0000 0000 0200 0000 0000 0000
0200 0000 0000 0000 0200 0000 0000 0000
6170 706c 7954 7769 6365 0000 0000 0000
0100 c626 1423 0100`)
	second := unhex(t, `
0100 0000 0000 0000 0100 0000 0000 0000
0000 0000 0000 0000 0200 0000 0000 0000
0100 0000 0000 0000 0200 0000 0000 0000
6170 706c 7954 7769 6365 0000 0000 0000
0100 5bdc d820 0000`)
	p0 := plan.P(mustParse(t, `{"f" 1 1}`))
	f0 := plan.A(plan.N(0), p0)
	tree := plan.A(plan.N(0), mustParse(t, `"applyTwice"`), plan.N(1), plan.A(f0, plan.A(f0, plan.N(1))))
	for _, data := range [][]byte{first, second} {
		got, err := Decode(data, Raw, []plan.Value{p0})
		if err != nil {
			t.Fatal(err)
		}
		if !plan.Equal(got, tree) {
			t.Fatal("decoded tree differs")
		}
	}
	enc, err := EncodeHoles(tree, Raw, []*plan.Pin{p0})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, first) {
		t.Fatalf("got  %x\nwant %x", enc, first)
	}
	// The pstore body of the same contents: (h0 "applyTwice" 1 (0 h1 (0 h1 1))).
	law := plan.L(mustParse(t, `"applyTwice"`).(plan.Nat), plan.N(1), plan.A(f0, plan.A(f0, plan.N(1))))
	body, kids, err := EncodeBody(law)
	if err != nil {
		t.Fatal(err)
	}
	if len(kids) != 1 || kids[0] != p0 {
		t.Fatalf("children = %v", kids)
	}
	back, err := Decode(body, Body, []plan.Value{nil, p0})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Equal(back, law) {
		t.Fatal("body round trip differs")
	}
}

// TestBodyExample checks SEED.md section 15.6 byte for byte.
func TestBodyExample(t *testing.T) {
	three := plan.P(plan.N(3))
	inner, kids, err := EncodeBody(plan.N(3))
	if err != nil {
		t.Fatal(err)
	}
	wantInner := unhex(t, `
0100 0000 0000 0000 0000 0000 0000 0000
0000 0000 0000 0000 0100 0000 0000 0000
0000 0000 0000 0000 0300 0000 0000 0000`)
	if !bytes.Equal(inner, wantInner) || len(kids) != 0 {
		t.Fatalf("body of <3>: %x (%d children)", inner, len(kids))
	}
	v := plan.A(plan.L(plan.N(102), plan.N(2), plan.N(1)), three)
	outer, kids, err := EncodeBody(v)
	if err != nil {
		t.Fatal(err)
	}
	wantOuter := unhex(t, `
0200 0000 0000 0000 0000 0000 0000 0000
0000 0000 0000 0000 0300 0000 0000 0000
0100 0000 0000 0000 6602 0107 3214 0000`)
	if !bytes.Equal(outer, wantOuter) {
		t.Fatalf("got  %x\nwant %x", outer, wantOuter)
	}
	if len(kids) != 1 || kids[0] != three {
		t.Fatalf("children %v", kids)
	}
	back, err := Decode(outer, Body, []plan.Value{nil, three})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Equal(back, v) {
		t.Fatal("round trip differs")
	}
	n3, err := Decode(inner, Body, []plan.Value{nil})
	if err != nil || !plan.Equal(n3, plan.N(3)) {
		t.Fatalf("decode <3> body: %v %v", n3, err)
	}
	// A body that is a single child pin: no fragment, last entry h1.
	b, kids, err := EncodeBody(three)
	if err != nil || len(kids) != 1 {
		t.Fatal(err)
	}
	got, err := Decode(b, Body, []plan.Value{nil, three})
	if err != nil || got != plan.Value(three) {
		t.Fatalf("single pin body: %v %v", got, err)
	}
	// Wrong hole count is corrupt.
	if _, err := Decode(outer, Body, []plan.Value{nil}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("hole count mismatch: %v", err)
	}
}

// TestNatOrder checks the pstore rule of SEED.md 4.2: strictly descending.
func TestNatOrder(t *testing.T) {
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	n := func(shift uint, add int64) plan.Nat {
		x := new(big.Int).Lsh(big.NewInt(1), shift)
		return plan.NatFromBig(x.Add(x, big.NewInt(add)))
	}
	_ = two64
	v := plan.A(n(64, 3), n(65, 7), n(64, 5))
	data, err := Encode(v, Raw)
	if err != nil {
		t.Fatal(err)
	}
	// header, 3 widths (2 each), then data: 2^65+7, 2^64+5, 2^64+3.
	words := []uint64{2, 2, 2, 7, 2, 5, 1, 3, 1}
	for i, w := range words {
		off := 40 + 8*i
		got := uint64(0)
		for k := 7; k >= 0; k-- {
			got = got<<8 | uint64(data[off+k])
		}
		if got != w {
			t.Fatalf("word %d at byte %d = %d, want %d\n%x", i, off, got, w, data)
		}
	}
	back, err := Decode(data, Raw, nil)
	if err != nil || !plan.Equal(back, v) {
		t.Fatalf("round trip: %v", err)
	}
}

// TestPlan4Vectors decodes the plan-di-c files (one hole, stray bit after the
// last fragment) and checks their shape.
func TestPlan4Vectors(t *testing.T) {
	files, _ := filepath.Glob("testdata/plan4/*.seed")
	if len(files) != 8 {
		t.Fatalf("%d plan4 files", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".seed")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			h0 := plan.P(plan.N(0))
			tree, err := Decode(data, Plan4, []plan.Value{h0})
			if err != nil {
				t.Fatal(err)
			}
			v, err := FromPlan4(tree)
			if err != nil {
				t.Fatal(err)
			}
			p, ok := v.(*plan.Pin)
			if !ok {
				t.Fatalf("got a %v, want a pin", v.Kind())
			}
			law, ok := p.MustItem().(*plan.Law)
			if !ok {
				t.Fatalf("pin holds a %v, want a law", p.MustItem().Kind())
			}
			if got := string(law.Name.AppendBytes(nil)); got != name {
				t.Fatalf("law name %q, want %q", got, name)
			}
			// Re-encoding the tree gives the file without its stray bit.
			re, err := EncodeHoles(tree, Raw, []*plan.Pin{h0})
			if err != nil {
				t.Fatal(err)
			}
			if len(re) != len(data) {
				t.Fatalf("re-encoded %d bytes, file has %d", len(re), len(data))
			}
			diff := 0
			for i := range re {
				x := re[i] ^ data[i]
				for ; x != 0; x &= x - 1 {
					diff++
				}
			}
			if diff != 1 {
				t.Fatalf("re-encoding differs from the file in %d bits, want exactly the stray one", diff)
			}
			// The value encoded in the plan4 convention is the same
			// tree, and reads back to the same value.
			re2, err := Encode(v, Plan4)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(re, re2) {
				t.Fatal("plan4 convention encoding differs from the file's tree")
			}
			tree2, err := Decode(re2, Plan4, nil)
			if err != nil {
				t.Fatal(err)
			}
			v2, err := FromPlan4(tree2)
			if err != nil || !plan.Equal(v, v2) {
				t.Fatalf("plan4 round trip: %v", err)
			}
		})
	}
}
