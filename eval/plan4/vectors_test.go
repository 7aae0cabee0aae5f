package plan4

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"pstore/eval"
	"pstore/plan"
	"pstore/seed"
)

const vectorDir = "../../../shared/vectors/plan4"

var seedCache struct {
	mu sync.Mutex
	m  map[string]plan.Value
}

// loadSeed decodes a plan-di-c seed file (one hole, <0>) and evaluates the
// tree with plan4 to its normal form (PLAN4.md section 9).
func loadSeed(path string) (plan.Value, error) {
	seedCache.mu.Lock()
	defer seedCache.mu.Unlock()
	if v, ok := seedCache.m[path]; ok {
		return v, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := LoadSeed(context.Background(), data, eval.Options{})
	if err != nil {
		return nil, err
	}
	r := eval.Result{Value: v}
	if seedCache.m == nil {
		seedCache.m = map[string]plan.Value{}
	}
	seedCache.m[path] = r.Value
	return r.Value, nil
}

func parseExpr(t testing.TB, src string) plan.Value {
	t.Helper()
	v, err := plan.ParseWith(src, plan.ParseOptions{SeedRef: func(name string) (plan.Value, error) {
		return loadSeed(filepath.Join(vectorDir, name))
	}})
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return v
}

type vcase struct {
	line           int
	expr, expected string
	marker         string
}

func readCases(t testing.TB) []vcase {
	f, err := os.Open(filepath.Join(vectorDir, "cases.tsv"))
	if err != nil {
		t.Fatal("vectors not available:", err)
	}
	defer f.Close()
	var out []vcase
	sc := bufio.NewScanner(f)
	ln := 0
	for sc.Scan() {
		ln++
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		parts := strings.Split(l, "\t")
		c := vcase{line: ln, expr: parts[0], expected: parts[1]}
		if len(parts) > 2 {
			c.marker = parts[2]
		}
		out = append(out, c)
	}
	return out
}

func TestVectors(t *testing.T) {
	for _, nojets := range []bool{false, true} {
		for _, c := range readCases(t) {
			if nojets && slowWithoutJets(c.expr) {
				continue
			}
			v := parseExpr(t, c.expr)
			want := parseExpr(t, c.expected)
			r, err := Evaluator{}.Eval(context.Background(), v, eval.Options{NoJets: nojets, Steps: 5_000_000})
			if err != nil {
				t.Errorf("line %d (nojets=%v): %s: %v", c.line, nojets, c.expr, err)
				continue
			}
			if !plan.Equal(r.Value, want) {
				t.Errorf("line %d (nojets=%v): %s\n got %s\nwant %s", c.line, nojets, c.expr, plan.String(r.Value), c.expected)
			}
		}
	}
}

// slowWithoutJets lists the vector lines the spec says need 2^22 or more
// unary steps without jets (PLAN4.md section 7).
func slowWithoutJets(expr string) bool {
	for _, s := range []string{
		"(<Mul.seed> 0x100000000 0x100000000)",
		"<Add.seed> <Sub.seed>", "<Add.seed> <Add.seed>",
		"0x10000000000000000 0xffffffffffffffff",
		"(<BitSz.seed> 0x10000000000000000)",
		"(<Sub.seed> 0x10000000000000000 0x1000",
		"(<Sub.seed> 0x100000000000000000000000000000000 1)",
		"(<Add.seed> 0xffffffffffffffff 1)",
	} {
		if strings.Contains(expr, s) {
			return true
		}
	}
	return false
}

var _ = errors.Is

func TestLoadSeedErrors(t *testing.T) {
	// Two holes: the plan-di-c loader accepts at most one.
	bad := make([]byte, 40)
	bad[0] = 2
	if _, err := LoadSeed(context.Background(), bad, eval.Options{}); !errors.Is(err, seed.ErrCorrupt) {
		t.Fatalf("two holes accepted: %v", err)
	}
	if _, err := LoadSeed(context.Background(), []byte{1, 2, 3}, eval.Options{}); !errors.Is(err, seed.ErrCorrupt) {
		t.Fatal("short file accepted")
	}
	v, err := loadSeed(filepath.Join(vectorDir, "PinItem.seed"))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := v.(*plan.Pin); !ok || p.MustItem().(*plan.Law).Arity.Cmp(plan.N(1)) != 0 {
		t.Fatalf("PinItem.seed: %s", plan.String(v))
	}
}
