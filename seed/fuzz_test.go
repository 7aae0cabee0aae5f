package seed

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"pstore/plan"
)

// fuzzHoles returns n distinct pins to stand for holes.
func fuzzHoles(n uint64) []plan.Value {
	hs := make([]plan.Value, n)
	for i := range hs {
		hs[i] = plan.P(plan.N(uint64(1000 + i)))
	}
	return hs
}

func holeCount(data []byte) (uint64, bool) {
	if len(data) < 8 {
		return 0, false
	}
	var n uint64
	for k := 7; k >= 0; k-- {
		n = n<<8 | uint64(data[k])
	}
	return n, n <= 8
}

// FuzzDecode: decoding arbitrary bytes never panics, and whatever decodes
// re-encodes, decodes again and re-encodes to the same bytes (raw and body
// conventions): decode->encode->decode gives an equal value, compared through
// the canonical encoding.
func FuzzDecode(f *testing.F) {
	for _, pat := range []string{"testdata/pallas/*.seed", "testdata/plan4/*.seed"} {
		files, _ := filepath.Glob(pat)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, ok := holeCount(data)
		if !ok {
			_, err := Decode(data, Raw, nil)
			if err == nil {
				t.Fatal("decoded a seed with a bad hole count")
			}
			return
		}
		holes := fuzzHoles(n)
		v, err := Decode(data, Raw, holes)
		// The two-core decoder must agree: same value, or an error.
		pv, perr := decodeParallel(data, Raw, holes)
		if (err == nil) != (perr == nil) {
			t.Fatalf("sequential error %v, parallel error %v", err, perr)
		}
		if err == nil && !plan.Equal(v, pv) {
			t.Fatal("the parallel decoder built a different value")
		}
		if perr != nil && !errors.Is(perr, ErrCorrupt) {
			t.Fatalf("parallel error does not wrap ErrCorrupt: %v", perr)
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
		} else {
			pins := make([]*plan.Pin, len(holes))
			for i, h := range holes {
				pins[i] = h.(*plan.Pin)
			}
			enc, err := EncodeHoles(v, Raw, pins)
			if err != nil {
				if !errors.Is(err, ErrUnrepresentable) {
					t.Fatal(err)
				}
			} else {
				v2, err := Decode(enc, Raw, holes)
				if err != nil {
					t.Fatalf("re-decode: %v", err)
				}
				enc2, err := EncodeHoles(v2, Raw, pins)
				if err != nil || string(enc2) != string(enc) {
					t.Fatalf("re-encoding is not stable: %v", err)
				}
			}
			// The interchange readers must not panic.
			_, _ = FromPallas(v)
			_, _ = FromPlan4(v)
		}
		if n >= 1 {
			holes[0] = nil
			v, err := Decode(data, Body, holes)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("body error does not wrap ErrCorrupt: %v", err)
				}
				return
			}
			enc, kids, err := EncodeBody(v)
			if err != nil {
				t.Fatalf("EncodeBody of a decoded body: %v", err)
			}
			hs := append([]plan.Value{nil}, make([]plan.Value, len(kids))...)
			for i, k := range kids {
				hs[i+1] = k
			}
			v2, err := Decode(enc, Body, hs)
			if err != nil {
				t.Fatalf("body re-decode: %v", err)
			}
			// plan.Equal is exponential on shared DAGs whose nodes are
			// not pointer-identical, so compare canonical encodings: the
			// encoder is structural (TestRoundTrip checks it against
			// plan.Equal on values of moderate size).
			enc2, kids2, err := EncodeBody(v2)
			if err != nil || string(enc2) != string(enc) || len(kids2) != len(kids) {
				t.Fatalf("body round trip differs: %v", err)
			}
		}
	})
}

// decodeParallel is Decode with the two-core decoder forced on whatever
// the size of the input (Body excepted, which never uses it), and worker 1
// given its share before worker 0 starts.
func decodeParallel(data []byte, c Convention, holes []plan.Value) (plan.Value, error) {
	d := decoder{data: data, conv: c, awaitSplit: true}
	return d.decode(holes)
}
