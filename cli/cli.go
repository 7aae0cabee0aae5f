package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/pflag"
)

// Version is printed by --version.
const Version = "pstore 0.1.0"

// Exit codes (ARCHITECTURE.md "Command line"), the same for every command.
const (
	ExitOK         = 0
	ExitUsage      = 1
	ExitNotFound   = 2
	ExitSuspended  = 3
	ExitEvalFailed = 4
	ExitBudget     = 5
	ExitCorrupt    = 6
	ExitTimeout    = 7
	ExitIO         = 8
)

// Env is what a command runs with: its streams, the global flags and the
// process context (canceled on SIGINT/SIGTERM).
type Env struct {
	Ctx    context.Context
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// StoreDir is --store, else $PSTORE_DIR, else ~/.pstore (resolved).
	StoreDir string
	// JSON is the global --json flag.
	JSON bool
	// Flags is the command's flag set, already parsed.
	Flags *pflag.FlagSet
	// Getenv reads the environment (tests replace it).
	Getenv func(string) string
}

// Command is one `pstore NAME ...` subcommand. Commands register themselves
// from init functions in their own files (one file per command group), so
// that adding a command touches no shared file.
type Command struct {
	Name  string // e.g. "put", or "db" for a group that reads its own verb
	Usage string // e.g. "put [FILE|-] [--seed|--raw] [--dialect D]"
	Short string // one line for the command list
	// Flags declares the command's own flags (may be nil).
	Flags func(fs *pflag.FlagSet)
	// Run does the work. Returning an error prints it as one line on
	// stderr and exits with ExitCode(err).
	Run func(env *Env, args []string) error
}

var commands struct {
	// mu guards byName.
	mu     sync.Mutex
	byName map[string]*Command
}

// Register adds a command. Called from init functions.
func Register(c *Command) {
	commands.mu.Lock()
	defer commands.mu.Unlock()
	if commands.byName == nil {
		commands.byName = map[string]*Command{}
	}
	if _, dup := commands.byName[c.Name]; dup {
		panic("cli: command registered twice: " + c.Name)
	}
	commands.byName[c.Name] = c
}

// UsageError marks an error as a usage error (exit 1).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a usage error.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ExitError carries an explicit exit code.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// WithCode wraps err so that it exits with code.
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: code, Err: err}
}

// codeRules map package sentinel errors to exit codes; packages above cli
// are not imported here, so each command file adds the rules for the
// errors it can return (see AddExitRule).
var codeRules []exitRule

type exitRule struct {
	target error
	code   int
}

// AddExitRule makes errors matching target (errors.Is) exit with code.
// Called from init functions.
func AddExitRule(target error, code int) {
	codeRules = append(codeRules, exitRule{target, code})
}

// ExitCode maps an error to the process exit status.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	for _, r := range codeRules {
		if errors.Is(err, r.target) {
			return r.code
		}
	}
	if errors.Is(err, os.ErrNotExist) {
		return ExitNotFound
	}
	return ExitIO
}

// Main runs pstore with args (without the program name) and returns the
// exit status. It never calls os.Exit, so tests drive it in-process.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if getenv == nil {
		getenv = os.Getenv
	}
	global := pflag.NewFlagSet("pstore", pflag.ContinueOnError)
	global.SetOutput(io.Discard)
	addGlobalFlags(global)
	// Find the command: the first argument that is not a flag (global flags
	// may come before it).
	cmdIdx := -1
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") {
			if (a == "--store") && i+1 < len(args) {
				i++
			}
			continue
		}
		cmdIdx = i
		break
	}
	if cmdIdx < 0 {
		global.ParseErrorsAllowlist.UnknownFlags = true
		_ = global.Parse(args)
		if v, _ := global.GetBool("version"); v {
			fmt.Fprintln(stdout, Version)
			return ExitOK
		}
		if h, _ := global.GetBool("help"); h {
			printUsage(stdout)
			return ExitOK
		}
		printUsage(stderr)
		return ExitUsage
	}
	name := args[cmdIdx]
	commands.mu.Lock()
	cmd := commands.byName[name]
	commands.mu.Unlock()
	if name == "help" {
		printUsage(stdout)
		return ExitOK
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "pstore: unknown command %q (run 'pstore help')\n", name)
		return ExitUsage
	}
	fs := pflag.NewFlagSet("pstore "+name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(true)
	addGlobalFlags(fs)
	if cmd.Flags != nil {
		cmd.Flags(fs)
	}
	rest := append(append([]string{}, args[:cmdIdx]...), args[cmdIdx+1:]...)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printCommandUsage(stdout, cmd, fs)
			return ExitOK
		}
		fmt.Fprintf(stderr, "pstore %s: %v\nusage: pstore %s\n", name, err, cmd.Usage)
		return ExitUsage
	}
	if v, _ := fs.GetBool("version"); v {
		fmt.Fprintln(stdout, Version)
		return ExitOK
	}
	if h, _ := fs.GetBool("help"); h {
		printCommandUsage(stdout, cmd, fs)
		return ExitOK
	}
	env := &Env{Ctx: ctx, Stdin: stdin, Stdout: stdout, Stderr: stderr, Flags: fs, Getenv: getenv}
	env.JSON, _ = fs.GetBool("json")
	storeFlag, _ := fs.GetString("store")
	env.StoreDir = resolveStoreDir(storeFlag, getenv)
	err := cmd.Run(env, fs.Args())
	if err != nil {
		code := ExitCode(err)
		if code != ExitSuspended || err.Error() != "" {
			msg := err.Error()
			if code == ExitUsage {
				fmt.Fprintf(stderr, "pstore %s: %s\nusage: pstore %s\n", name, msg, cmd.Usage)
			} else {
				fmt.Fprintf(stderr, "pstore %s: %s\n", name, firstLine(msg))
			}
		}
		return code
	}
	return ExitOK
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func addGlobalFlags(fs *pflag.FlagSet) {
	fs.String("store", "", "store directory (default $PSTORE_DIR, else ~/.pstore)")
	fs.Bool("json", false, "machine-readable output")
	fs.Bool("version", false, "print the version and exit")
	fs.BoolP("help", "h", false, "show help")
}

func resolveStoreDir(flag string, getenv func(string) string) string {
	if flag != "" {
		return flag
	}
	if d := getenv("PSTORE_DIR"); d != "" {
		return d
	}
	home := getenv("HOME")
	if home == "" {
		if h, err := os.UserHomeDir(); err == nil {
			home = h
		}
	}
	return filepath.Join(home, ".pstore")
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: pstore COMMAND [ARGS] [FLAGS]\n\nCommands:\n")
	commands.mu.Lock()
	var names []string
	for n := range commands.byName {
		names = append(names, n)
	}
	commands.mu.Unlock()
	sort.Strings(names)
	for _, n := range names {
		c := commands.byName[n]
		fmt.Fprintf(w, "  %-10s %s\n", n, c.Short)
	}
	fmt.Fprintf(w, "\nGlobal flags: --store DIR, --json, --version, --help\n")
	fmt.Fprintf(w, "Exit codes: 0 ok, 1 usage, 2 not found, 3 suspended, 4 evaluation failed,\n")
	fmt.Fprintf(w, "            5 budget or deadline exhausted, 6 corruption, 7 lock or network timeout, 8 I/O\n")
}

func printCommandUsage(w io.Writer, c *Command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "usage: pstore %s\n\n%s\n\nFlags:\n%s", c.Usage, c.Short, fs.FlagUsages())
}

// SignalContext returns a context canceled on SIGINT or SIGTERM.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
