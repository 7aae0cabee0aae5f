package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"pstore/bench"
)

func init() {
	AddExitRule(bench.ErrUnknownSuite, ExitUsage)
	Register(&Command{
		Name:  "bench",
		Usage: "bench [SUITE...] [--out DIR] [--quick] [--big] [--runs N] [--json]",
		Short: "benchmark pstore against LMDB, bbolt, flatfs and full snapshots; writes a report with charts",
		Flags: func(fs *pflag.FlagSet) {
			fs.String("out", "", "output directory (default ./pstore-bench-DATE)")
			fs.Bool("quick", false, "small sizes: the whole run takes under 2 minutes")
			fs.Bool("big", false, "load suite: add a 10 GB store")
			fs.Int("runs", 0, "repeated runs per point (default 3 quick, 5 full)")
			fs.String("workdir", "", "where the stores are built (default OUT/work; removed at the end)")
			fs.String("replot", "", "redraw report.md and the charts of DIR from its results.json, without running anything")
			fs.Bool("in-process", false, "run every suite in this process (default: each suite in a fresh child process, so a crash costs one suite)")
			// Tiny sizes, for the harness's own test (also PSTORE_BENCH_TINY=1).
			fs.Bool("tiny", false, "tiny sizes (tests only)")
			_ = fs.MarkHidden("tiny")
		},
		Run: runBench,
	})
}

func runBench(env *Env, args []string) error {
	fs := env.Flags
	out, _ := fs.GetString("out")
	quick, _ := fs.GetBool("quick")
	big, _ := fs.GetBool("big")
	runs, _ := fs.GetInt("runs")
	tiny, _ := fs.GetBool("tiny")
	work, _ := fs.GetString("workdir")
	if dir, _ := fs.GetString("replot"); dir != "" {
		rep, err := bench.LoadReport(filepath.Join(dir, "results.json"))
		if err != nil {
			return err
		}
		if err := bench.WriteReport(rep, dir); err != nil {
			return err
		}
		return printBenchReport(env, rep, dir)
	}
	inProcess, _ := fs.GetBool("in-process")
	exe := ""
	if !inProcess {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("finding the pstore binary for the suites' child processes: %w (use --in-process)", err)
		}
	}
	if env.Getenv("PSTORE_BENCH_TINY") == "1" {
		tiny = true
	}
	if runs < 0 {
		return Usagef("--runs must be positive")
	}
	for _, a := range args {
		if SuiteKnown(a) {
			continue
		}
		return Usagef("unknown suite %q (suites: %s)", a, strings.Join(bench.SuiteNames(), ", "))
	}
	mode := bench.Full
	if quick {
		mode = bench.Quick
	}
	if tiny {
		mode = bench.Tiny
	}
	if out == "" {
		out = "pstore-bench-" + time.Now().UTC().Format("20060102-150405")
	}
	// The exact command, as typed (flags in their parsed form).
	cmd := []string{"pstore", "bench"}
	cmd = append(cmd, args...)
	fs.Visit(func(f *pflag.Flag) {
		if f.Value.Type() == "bool" {
			cmd = append(cmd, "--"+f.Name)
		} else {
			cmd = append(cmd, "--"+f.Name, f.Value.String())
		}
	})
	if tiny && !fs.Changed("tiny") {
		cmd = append([]string{"PSTORE_BENCH_TINY=1"}, cmd...)
	}
	rep, err := bench.Run(env.Ctx, bench.Config{
		Suites:     args,
		Out:        out,
		Mode:       mode,
		Big:        big,
		Runs:       runs,
		WorkDir:    work,
		Command:    strings.Join(cmd, " "),
		Progress:   env.Stderr,
		Executable: exe,
	})
	if err != nil {
		return err
	}
	if err := printBenchReport(env, rep, out); err != nil {
		return err
	}
	if len(rep.Errors) > 0 {
		for _, e := range rep.Errors {
			fmt.Fprintf(env.Stderr, "pstore bench: %s\n", e)
		}
		return WithCode(ExitIO, fmt.Errorf("%d suite(s) or figure(s) failed (see the report)", len(rep.Errors)))
	}
	return nil
}

// printBenchReport prints the report written to dir: the whole of it as
// JSON (--json), else the summary table and the path of report.md.
func printBenchReport(env *Env, rep *bench.Report, dir string) error {
	if env.JSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(env.Stdout, "%s\n", b)
		return err
	}
	fmt.Fprint(env.Stdout, bench.SummaryTable(rep))
	abs, _ := filepath.Abs(dir)
	_, err := fmt.Fprintf(env.Stdout, "\nreport: %s\n", filepath.Join(abs, "report.md"))
	return err
}

// SuiteKnown reports whether name is a bench suite.
func SuiteKnown(name string) bool {
	for _, s := range bench.SuiteNames() {
		if s == name {
			return true
		}
	}
	return false
}
