package cli

import (
	"errors"
	"os"
	"runtime/debug"

	"github.com/spf13/pflag"

	"pstore/eval/runner"
)

func init() {
	AddExitRule(runner.ErrShape, ExitEvalFailed)
	Register(&Command{
		Name:  "run",
		Usage: "run [--evaluator NAME] [--steps N] [--trace] [--keep-going] STATE",
		Short: "drive a state machine with stdin lines (PLAN4.md section 10); outputs go to stdout",
		Flags: func(fs *pflag.FlagSet) {
			AddEvalFlags(fs)
			fs.Bool("trace", false, "print steps and timing per input to stderr")
			fs.Bool("keep-going", false, "report a failed input and go on with the state unchanged")
		},
		Run: runRun,
	})
}

// runRun feeds stdin to the state machine STATE (a CID, @file.seed or an
// expression): chunks of up to 101 bytes including the newline, as
// little-endian nats, then a final input 0 at end of input.
func runRun(env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("run needs a STATE (a CID, @file.seed or an expression)")
	}
	e, eo, err := EvaluatorOf(env)
	if err != nil {
		return err
	}
	sc := &storeCache{env: env, readOnly: true}
	defer sc.Close()
	src, err := exprArg(env, args)
	if err != nil {
		return err
	}
	state, err := newParser(env, e.Dialect(), sc).parse(src)
	if err != nil {
		return err
	}
	opts := runner.Options{Steps: eo.Steps, NoJets: eo.NoJets}
	opts.Trace, _ = env.Flags.GetBool("trace")
	opts.KeepGoing, _ = env.Flags.GetBool("keep-going")
	defer tuneGC(env)()
	_, err = runner.Run(env.Ctx, e, state, env.Stdin, env.Stdout, env.Stderr, opts)
	if err != nil {
		var le *runner.LineError
		if errors.As(err, &le) {
			return &runner.LineError{Line: le.Line, Final: le.Final, Err: EvalError(le.Err)}
		}
		return err
	}
	return nil
}

// tuneGC sets the collector for a state machine, a long-running
// allocation-heavy evaluation: collecting less often cuts CPU by a third
// to a half on compiler-like workloads (plan4 profiles), and the soft
// memory limit makes the collector work harder before the heap reaches
// it, so peak memory stays bounded. A user who set GOGC or GOMEMLIMIT
// tunes the collector themselves: then nothing changes. It returns the
// function that restores the previous settings.
func tuneGC(env *Env) (restore func()) {
	getenv := env.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gc := debug.SetGCPercent(400)
	mem := debug.SetMemoryLimit(1536 << 20)
	return func() {
		debug.SetMemoryLimit(mem)
		debug.SetGCPercent(gc)
	}
}
