package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Mode scales the sizes of every suite.
type Mode string

const (
	// Tiny is for the harness's own test: seconds, meaningless numbers.
	Tiny Mode = "tiny"
	// Quick finishes in under 2 minutes on a 2-core machine.
	Quick Mode = "quick"
	// Full finishes in under 30 minutes (without Big).
	Full Mode = "full"
)

// Config configures a run.
type Config struct {
	Suites []string // empty: all, in SuiteNames order
	Out    string   // output directory (created)
	Mode   Mode
	Big    bool // load suite: add a 10 GB store
	// Runs overrides the number of repeated runs (0: by mode).
	Runs int
	// WorkDir holds the stores built during the run (removed at the end);
	// default Out/work.
	WorkDir string
	// Command is the exact command line, recorded in every figure.
	Command string
	// Progress receives progress lines (nil: none).
	Progress io.Writer
	// Executable, when set, is the pstore binary: each suite then runs in
	// a fresh child process `Executable bench SUITE --in-process ...`
	// (see runChild). Empty: every suite runs in this process.
	Executable string
}

// Suite is one group of figures.
type Suite struct {
	Name string
	Desc string
	run  func(r *runner) error
}

var suites = []Suite{
	{"snapshot", "snapshot size of a growing pinned map, one change per snapshot", runSnapshot},
	{"load", "open the store and read one small value, cold and warm, against store size", runLoad},
	{"codec", "SEED encode/decode throughput", runCodec},
	{"put-get", "raw put/get throughput, small-pin batches, deduplication", runPutGet},
	{"eval", "evaluator steps per second and wall time, jets on and off", runEval},
	{"torrent", "loopback fetch throughput, set-up time, incremental fetch", runTorrent},
}

// SuiteNames lists the suites in run order.
func SuiteNames() []string {
	out := make([]string, len(suites))
	for i, s := range suites {
		out[i] = s.Name
	}
	return out
}

// SuiteDesc returns a suite's one-line description.
func SuiteDesc(name string) string {
	for _, s := range suites {
		if s.Name == name {
			return s.Desc
		}
	}
	return ""
}

// ErrUnknownSuite is returned for a suite name that does not exist.
var ErrUnknownSuite = errors.New("bench: unknown suite")

// runner is the state shared by a run's suites.
type runner struct {
	ctx     context.Context
	cfg     Config
	mode    Mode
	runs    int
	work    string
	rep     *Report
	start   time.Time
	suite   string
	systems []System
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Progress == nil {
		return
	}
	fmt.Fprintf(r.cfg.Progress, "bench %6.1fs [%s] %s\n", time.Since(r.start).Seconds(), r.suite, fmt.Sprintf(format, args...))
}

// dir returns a fresh empty directory under the work directory.
func (r *runner) dir(name string) (string, error) {
	d := filepath.Join(r.work, r.suite, name)
	if err := os.RemoveAll(d); err != nil {
		return "", err
	}
	return d, os.MkdirAll(filepath.Dir(d), 0o755)
}

// open opens sys in a fresh directory of the current suite, and returns
// the directory too.
func (r *runner) open(sys System) (string, PinStore, error) {
	dir, err := r.dir(sys.Name)
	if err != nil {
		return "", nil, err
	}
	st, err := sys.Open(dir)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", sys.Name, err)
	}
	return dir, st, nil
}

// figure starts a figure of the current suite.
func (r *runner) figure(f *Figure) *Figure {
	f.Suite = r.suite
	f.Command = r.cfg.Command
	f.Machine = r.rep.Machine
	if f.Runs == 0 {
		f.Runs = r.runs
	}
	r.rep.Figures = append(r.rep.Figures, f)
	return f
}

// pick returns the value for the run's mode.
func pick[T any](r *runner, tiny, quick, full T) T {
	switch r.mode {
	case Tiny:
		return tiny
	case Quick:
		return quick
	}
	return full
}

func (r *runner) canceled() error { return r.ctx.Err() }

// Run runs the suites and writes report.md, results.json and the charts
// into cfg.Out. A suite that fails is recorded in Report.Errors and the
// others still run; Run returns an error only when nothing could be
// written or the context was canceled.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Mode == "" {
		cfg.Mode = Full
	}
	names := cfg.Suites
	if len(names) == 0 {
		names = SuiteNames()
	}
	var todo []Suite
	for _, n := range names {
		found := false
		for _, s := range suites {
			if s.Name == n {
				todo = append(todo, s)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%w %q (have %s)", ErrUnknownSuite, n, strings.Join(SuiteNames(), ", "))
		}
	}
	if cfg.Out == "" {
		return nil, errors.New("bench: no output directory")
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	work := cfg.WorkDir
	if work == "" {
		work = filepath.Join(cfg.Out, "work")
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	r := &runner{ctx: ctx, cfg: cfg, mode: cfg.Mode, work: work, start: time.Now(), systems: Systems()}
	r.runs = cfg.Runs
	if r.runs <= 0 {
		r.runs = pick(r, 2, 3, 5)
	}
	r.rep = &Report{Started: r.start.UTC(), Command: cfg.Command, Mode: string(cfg.Mode), Machine: ReadMachine()}
	for _, s := range r.systems {
		r.rep.Systems = append(r.rep.Systems, SysDesc{s.Name, s.Desc})
	}
	for _, s := range todo {
		if err := ctx.Err(); err != nil {
			return r.rep, err
		}
		r.suite = s.Name
		r.rep.Suites = append(r.rep.Suites, s.Name)
		r.logf("start: %s", s.Desc)
		t0 := time.Now()
		run := s.run
		if cfg.Executable != "" {
			run = func(r *runner) error { return r.runChild(s) }
		}
		if err := run(r); err != nil {
			if ctx.Err() != nil {
				return r.rep, ctx.Err()
			}
			r.rep.Errors = append(r.rep.Errors, fmt.Sprintf("%s: %v", s.Name, err))
			r.logf("FAILED: %v", err)
		} else {
			r.logf("done in %.1fs", time.Since(t0).Seconds())
		}
		// Stores of one suite are not needed by the next.
		os.RemoveAll(filepath.Join(work, s.Name))
	}
	r.suite = "report"
	r.rep.Duration = time.Since(r.start).Seconds()
	r.rep.Machine.Load1End = load1()
	for _, f := range r.rep.Figures {
		f.Machine.Load1End = r.rep.Machine.Load1End
		f.computeRatios()
	}
	if err := WriteReport(r.rep, cfg.Out); err != nil {
		return r.rep, err
	}
	r.logf("wrote %s", cfg.Out)
	return r.rep, nil
}

// ---- small helpers -------------------------------------------------------

// procWritten returns the bytes this process has caused to be written to
// storage (/proc/self/io write_bytes minus cancelled_write_bytes), counted
// when pages are dirtied; ok is false when the kernel does not account I/O.
func procWritten() (int64, bool) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, false
	}
	var w, c int64
	var okw bool
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "write_bytes":
			w, okw = n, true
		case "cancelled_write_bytes":
			c = n
		}
	}
	return w - c, okw
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

const (
	kib = 1 << 10
	mib = 1 << 20
	mb  = 1e6
)

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
