package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ipfs/go-cid"
	"github.com/spf13/pflag"

	"pstore/eval"
	_ "pstore/eval/pallas" // registers "pallas"
	_ "pstore/eval/plan4"  // registers "plan4"
	"pstore/eval/suspend"
	"pstore/plan"
)

func init() {
	AddExitRule(eval.ErrCrash, ExitEvalFailed)
	AddExitRule(eval.ErrLoop, ExitEvalFailed)
	AddExitRule(eval.ErrBudget, ExitBudget)
	AddExitRule(eval.ErrCanceled, ExitBudget)
	AddExitRule(eval.ErrUnknown, ExitUsage)
	Register(&Command{
		Name:  "eval",
		Usage: "eval [--evaluator NAME] [--steps N] [--no-jets] [--pin] [--suspend] EXPR",
		Short: "evaluate an expression to normal form (EXPR may name stored pins by CID and seed files by @path); " + suspendHelp,
		Flags: func(fs *pflag.FlagSet) {
			AddEvalFlags(fs)
			fs.Bool("pin", false, "store the result as a pin and print its CID")
			fs.Bool("stats", false, "print evaluation statistics to stderr")
			fs.Bool("suspend", false, "store the computation instead of failing when --steps or Ctrl-C stops it; print its CID, exit 3")
			AddPrintFlags(fs)
			AddWaitFlag(fs)
		},
		Run: runEval,
	})
}

// AddEvalFlags declares --evaluator, --steps and --no-jets.
func AddEvalFlags(fs *pflag.FlagSet) {
	fs.String("evaluator", eval.DefaultName, "evaluator: "+strings.Join(eval.Names(), ", "))
	AddBudgetFlags(fs)
}

// AddBudgetFlags adds --steps and --no-jets (resume takes these without
// --evaluator: a suspended computation names its own).
func AddBudgetFlags(fs *pflag.FlagSet) {
	fs.Int64("steps", 0, "step budget for this run (0: unlimited)")
	fs.Bool("no-jets", false, "run every law's own body (no native jets)")
}

// EvaluatorOf returns the evaluator named by --evaluator and the options of
// --steps and --no-jets.
func EvaluatorOf(env *Env) (eval.Evaluator, eval.Options, error) {
	name, _ := env.Flags.GetString("evaluator")
	e, err := eval.Get(name)
	if err != nil {
		return nil, eval.Options{}, Usagef("%v", err)
	}
	opts, err := budgetOf(env)
	if err != nil {
		return nil, opts, err
	}
	return e, opts, nil
}

// budgetOf returns the options of --steps and --no-jets (AddBudgetFlags).
func budgetOf(env *Env) (eval.Options, error) {
	var opts eval.Options
	opts.Steps, _ = env.Flags.GetInt64("steps")
	if opts.Steps < 0 {
		return opts, Usagef("--steps must not be negative")
	}
	opts.NoJets, _ = env.Flags.GetBool("no-jets")
	return opts, nil
}

// exprArg joins the expression arguments, or reads stdin for "-" or none.
func exprArg(env *Env, args []string) (string, error) {
	if len(args) == 0 || (len(args) == 1 && args[0] == "-") {
		b, _, err := ReadInput(env, nil)
		return string(b), err
	}
	return strings.Join(args, " "), nil
}

// EvalError describes a failed evaluation in one line, saying how many
// steps ran when the budget or the context stopped it.
func EvalError(err error) error {
	var se *eval.StoppedError
	if errors.As(err, &se) {
		if errors.Is(err, eval.ErrBudget) {
			return fmt.Errorf("%w: stopped after %d steps (raise --steps)", eval.ErrBudget, se.Steps)
		}
		return fmt.Errorf("%w after %d steps", se.Cause, se.Steps)
	}
	return err
}

func runEval(env *Env, args []string) error {
	e, opts, err := EvaluatorOf(env)
	if err != nil {
		return err
	}
	src, err := exprArg(env, args)
	if err != nil {
		return err
	}
	sc := &storeCache{env: env, readOnly: true}
	defer sc.Close()
	v, err := newParser(env, e.Dialect(), sc).parse(src)
	if err != nil {
		return err
	}
	if susp, _ := env.Flags.GetBool("suspend"); susp {
		res, err := runSuspendable(env, sc, cid.Undef, true, func() (suspend.Outcome, error) {
			return suspend.Run(env.Ctx, e, v, opts)
		})
		if err != nil {
			return err
		}
		return printEvalResult(env, sc, res)
	}
	res, err := e.Eval(env.Ctx, v, opts)
	if showStats, _ := env.Flags.GetBool("stats"); showStats {
		s := res.Stats
		fmt.Fprintf(env.Stderr, "steps %d, law calls %d, jet calls %d, pins loaded %d\n", s.Steps, s.LawCalls, s.JetCalls, s.PinsLoaded)
	}
	if err != nil {
		return EvalError(err)
	}
	return printEvalResult(env, sc, res)
}

// printEvalResult prints a finished evaluation (or stores it, --pin).
func printEvalResult(env *Env, sc *storeCache, res eval.Result) error {
	if pin, _ := env.Flags.GetBool("pin"); pin {
		c, err := storeValue(env, sc, asPin(res.Value), nil)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, c)
		return nil
	}
	inline, _ := env.Flags.GetBool("inline")
	if env.JSON {
		text, perr := plan.Sprint(res.Value, plan.PrintOptions{})
		if perr != nil {
			return perr
		}
		return json.NewEncoder(env.Stdout).Encode(map[string]any{
			"value": text, "steps": res.Stats.Steps, "law_calls": res.Stats.LawCalls,
			"jet_calls": res.Stats.JetCalls, "pins_loaded": res.Stats.PinsLoaded,
		})
	}
	return PrintValue(env, env.Stdout, res.Value, inline)
}
