package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"pstore/merkle"
	"pstore/plan"
	"pstore/seed"
)

// Dialects name the seed interchange conventions (ARCHITECTURE.md
// "Interchange files").
const (
	DialectPallas = "pallas"
	DialectPlan4  = "plan4"
)

// AddDialectFlag declares --dialect.
func AddDialectFlag(fs *pflag.FlagSet) {
	fs.String("dialect", DialectPallas, "seed interchange convention: pallas or plan4")
}

// AddPrintFlags declares --inline and --limit.
func AddPrintFlags(fs *pflag.FlagSet) {
	fs.Bool("inline", false, "print stored child pins in full instead of as CID tokens")
	fs.Int("limit", plan.DefaultPrintLimit, "stop printing after this many bytes (negative: no limit)")
}

// DialectOf reads --dialect (default pallas) and checks it.
func DialectOf(env *Env) (string, error) {
	d := DialectPallas
	if env.Flags != nil {
		if v, err := env.Flags.GetString("dialect"); err == nil && v != "" {
			d = v
		}
	}
	switch d {
	case DialectPallas, DialectPlan4:
		return d, nil
	}
	return "", Usagef("unknown dialect %q (want pallas or plan4)", d)
}

// ReadInput reads the named file, or stdin for "-" or no argument.
func ReadInput(env *Env, args []string) ([]byte, string, error) {
	if len(args) > 1 {
		return nil, "", Usagef("expected at most one input file, got %d", len(args))
	}
	if len(args) == 0 || args[0] == "-" {
		b, err := io.ReadAll(env.Stdin)
		if err != nil {
			return nil, "", fmt.Errorf("reading stdin: %w", err)
		}
		return b, "<stdin>", nil
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return nil, "", err
	}
	return b, args[0], nil
}

// DecodeSeedFile reads an interchange seed with a dialect's convention and
// returns the value it stands for (rebuilt structurally; nothing is run).
func DecodeSeedFile(data []byte, dialect string) (plan.Value, error) {
	switch dialect {
	case DialectPlan4:
		tree, err := seed.Decode(data, seed.Plan4, nil)
		if err != nil {
			return nil, err
		}
		return seed.FromPlan4(tree)
	default:
		tree, err := seed.Decode(data, seed.Pallas, nil)
		if err != nil {
			return nil, err
		}
		return seed.FromPallas(tree)
	}
}

// parser resolves CID tokens through the store (opened on first use) and
// @path.seed through the dialect's convention.
type parser struct {
	env     *Env
	dialect string
	stores  *storeCache
}

func newParser(env *Env, dialect string, stores *storeCache) *parser {
	return &parser{env: env, dialect: dialect, stores: stores}
}

func (p *parser) parse(src string) (plan.Value, error) {
	return plan.ParseWith(src, plan.ParseOptions{
		ResolveCID: func(tok string) (plan.Value, error) {
			c, err := merkle.ParseCID(tok)
			if err != nil {
				return nil, err
			}
			st, err := p.stores.get()
			if err != nil {
				return nil, err
			}
			return st.Get(c)
		},
		ResolveSeed: func(path string) (plan.Value, error) {
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			v, err := DecodeSeedFile(b, p.dialect)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return v, nil
		},
	})
}

// ParseValue parses text with CID tokens resolved in env's store (opened
// read-only for the call) and @file.seed read with dialect.
func ParseValue(env *Env, src string, dialect string) (plan.Value, error) {
	sc := &storeCache{env: env, readOnly: true}
	defer sc.Close()
	return newParser(env, dialect, sc).parse(src)
}

// PrintValue prints v in text syntax followed by a newline. Pins that are not
// loaded (stored pins nobody has touched) print as their CID token, unless
// inline is set; loaded pins print in full. Output beyond --limit stops with
// an error.
func PrintValue(env *Env, w io.Writer, v plan.Value, inline bool) error {
	limit := plan.DefaultPrintLimit
	if env.Flags != nil {
		if l, err := env.Flags.GetInt("limit"); err == nil {
			limit = l
		}
	}
	opts := plan.PrintOptions{Limit: limit}
	if !inline {
		opts.PinToken = func(p *plan.Pin) (string, bool) {
			if p.Loaded() {
				return "", false
			}
			d, ok := p.CachedDigest()
			if !ok {
				return "", false
			}
			return merkle.CIDOf(d).String(), true
		}
	}
	var buf bytes.Buffer
	err := plan.Print(&buf, v, opts)
	buf.WriteByte('\n')
	if _, werr := w.Write(buf.Bytes()); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("printing: %w (use --limit to raise the limit)", err)
	}
	return nil
}
