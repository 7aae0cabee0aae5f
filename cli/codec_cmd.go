package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"pstore/merkle"
	"pstore/plan"
	"pstore/seed"
)

func init() {
	Register(&Command{
		Name:  "decode",
		Usage: "decode [--dialect pallas|plan4] FILE.seed",
		Short: "print the tree stored in a seed file, in text syntax",
		Flags: func(fs *pflag.FlagSet) {
			AddDialectFlag(fs)
			fs.Int("limit", plan.DefaultPrintLimit, "stop printing after this many bytes (negative: no limit)")
		},
		Run: runDecode,
	})
	Register(&Command{
		Name:  "encode",
		Usage: "encode [FILE|-] [--dialect pallas|plan4] > OUT.seed",
		Short: "read a value in text syntax and write an interchange seed to stdout",
		Flags: func(fs *pflag.FlagSet) { AddDialectFlag(fs) },
		Run:   runEncode,
	})
	Register(&Command{
		Name:  "cid",
		Usage: "cid [FILE|-]",
		Short: "print the CID a value would get as a pin, without a store",
		Flags: func(fs *pflag.FlagSet) { AddDialectFlag(fs) },
		Run:   runCID,
	})
}

func runDecode(env *Env, args []string) error {
	if len(args) != 1 {
		return Usagef("decode needs exactly one seed file")
	}
	dialect, err := DialectOf(env)
	if err != nil {
		return err
	}
	data, name, err := ReadInput(env, args)
	if err != nil {
		return err
	}
	conv := seed.Pallas
	if dialect == DialectPlan4 {
		conv = seed.Plan4
	}
	tree, err := seed.Decode(data, conv, nil)
	if err != nil {
		if dialect == DialectPallas && strings.Contains(err.Error(), "hole") {
			return WithCode(ExitUsage, fmt.Errorf("%s: %w (a file with holes needs a convention that fills them, such as --dialect plan4)", name, err))
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	// The tree is printed as stored: pins (plan4's <0>) are inlined.
	return PrintValue(env, env.Stdout, tree, true)
}

func runEncode(env *Env, args []string) error {
	dialect, err := DialectOf(env)
	if err != nil {
		return err
	}
	src, _, err := ReadInput(env, args)
	if err != nil {
		return err
	}
	v, err := ParseValue(env, string(src), dialect)
	if err != nil {
		return err
	}
	conv := seed.Pallas
	if dialect == DialectPlan4 {
		conv = seed.Plan4
	}
	out, err := seed.Encode(v, conv)
	if err != nil {
		return err
	}
	_, err = env.Stdout.Write(out)
	return err
}

// asPin is the rule of `put` and `cid`: a value that is already a pin is
// that pin; any other value v becomes the pin <v>.
func asPin(v plan.Value) *plan.Pin {
	if p, ok := v.(*plan.Pin); ok {
		return p
	}
	return plan.P(v)
}

func runCID(env *Env, args []string) error {
	dialect, err := DialectOf(env)
	if err != nil {
		return err
	}
	src, _, err := ReadInput(env, args)
	if err != nil {
		return err
	}
	v, err := ParseValue(env, string(src), dialect)
	if err != nil {
		return err
	}
	c, err := merkle.CID(asPin(v))
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, c)
	return nil
}
