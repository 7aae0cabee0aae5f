// Package evaltest is the conformance suite shared by pstore's evaluators.
//
// Two entry points:
//
//   - RunVectors runs a cases.tsv file of one dialect (the format of
//     vectors/pallas/README.md: expression TAB expected [TAB # derived])
//     against an evaluator. Every row must pass.
//   - RunShared checks what every evaluator must do alike, whatever its
//     dialect: laziness and sharing, deep structures and deep recursion
//     without killing the Go runtime, step budgets with resumable
//     residuals, cancellation, errors for crashes and loops, lazy pin
//     faulting from a plan.PinLoader, and concurrent use. The dialect is
//     abstracted by a Kit of expressions.
//
// The suite only uses the eval.Evaluator interface, so a new evaluator gets
// the whole suite by supplying a Kit and its vector file.
package evaltest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pstore/eval"
	"pstore/plan"
)

// Case is one row of a cases.tsv file.
type Case struct {
	Line    int
	Expr    string
	Want    string // normal form text, or "!error"
	Derived bool   // third field "# derived"
}

// ReadCases reads a cases.tsv file: UTF-8, LF, no header, one case per line.
func ReadCases(path string) ([]Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Case
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		if s == "" || strings.HasPrefix(s, "#") {
			continue // blank and comment lines (vectors/plan4 has a header)
		}
		fs := strings.Split(s, "\t")
		if len(fs) < 2 || len(fs) > 3 {
			return nil, fmt.Errorf("%s:%d: want 2 or 3 tab-separated fields, got %d", path, line, len(fs))
		}
		c := Case{Line: line, Expr: fs[0], Want: fs[1]}
		if len(fs) == 3 {
			switch fs[2] {
			case "# derived":
				c.Derived = true
			case "# lazy":
				// vectors/plan4: a case only a lazy jet finishes; it
				// must pass like any other, so the mark changes nothing.
			default:
				return nil, fmt.Errorf("%s:%d: third field must be %q or %q", path, line, "# derived", "# lazy")
			}
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// SeedDir returns a SeedRef hook that reads <name.seed> from dir and turns
// the bytes into a value with decode (for Pallas files:
// seed.Decode(data, seed.Pallas, nil), the raw tree). Results are cached.
func SeedDir(dir string, decode func(data []byte) (plan.Value, error)) func(name string) (plan.Value, error) {
	var mu sync.Mutex
	cache := map[string]plan.Value{}
	return func(name string) (plan.Value, error) {
		mu.Lock()
		defer mu.Unlock()
		if v, ok := cache[name]; ok {
			return v, nil
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		v, err := decode(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		cache[name] = v
		return v, nil
	}
}

// VectorBudget is the step budget for cases: generous for every vector, and
// what turns an endless !error case into ErrBudget.
const VectorBudget = 50_000_000

// IsEvalFailure reports whether err is one of the failures a `!error` case
// accepts: a crash, a loop or an exhausted budget.
func IsEvalFailure(err error) bool {
	return errors.Is(err, eval.ErrCrash) || errors.Is(err, eval.ErrLoop) || errors.Is(err, eval.ErrBudget)
}

// RunVectors runs every case of casesFile against e, one subtest per line.
// Both fields are parsed with plan.ParseWith and seedRef for <name.seed>.
// Expected values are compared structurally (plan.Equal), never as text.
func RunVectors(t *testing.T, e eval.Evaluator, casesFile string, seedRef func(name string) (plan.Value, error)) {
	t.Helper()
	cases, err := ReadCases(casesFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", casesFile)
	}
	popts := plan.ParseOptions{SeedRef: seedRef}
	for _, c := range cases {
		t.Run(fmt.Sprintf("line%d", c.Line), func(t *testing.T) {
			expr, err := plan.ParseWith(c.Expr, popts)
			if err != nil {
				t.Fatalf("parse %q: %v", c.Expr, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := e.Eval(ctx, expr, eval.Options{Steps: VectorBudget})
			if c.Want == "!error" {
				if err == nil {
					t.Fatalf("%s: want an error, got %s", c.Expr, plan.String(res.Value))
				}
				if !IsEvalFailure(err) {
					t.Fatalf("%s: want crash, loop or budget error, got %v", c.Expr, err)
				}
				return
			}
			want, perr := plan.ParseWith(c.Want, popts)
			if perr != nil {
				t.Fatalf("parse expected %q: %v", c.Want, perr)
			}
			if err != nil {
				t.Fatalf("%s: %v (want %s)", c.Expr, err, c.Want)
			}
			if !plan.Equal(res.Value, want) {
				t.Fatalf("%s:\n got  %s\n want %s", c.Expr, plan.String(res.Value), c.Want)
			}
		})
	}
}
