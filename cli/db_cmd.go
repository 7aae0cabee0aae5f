package cli

// `pstore db ...`: databases (package db). The group reads its verb from
// args[0]. Writers (create, send, run, snapshot, compact, drop) open the
// store for writing and wait for its lock (--wait); readers (status, log,
// list, replay) open it read-only and see the last commit.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"pstore/db"
	"pstore/eval"
	"pstore/eval/runner"
	"pstore/pagestore"
	"pstore/plan"
)

func init() {
	AddExitRule(db.ErrNotFound, ExitNotFound)
	AddExitRule(db.ErrBadName, ExitUsage)
	AddExitRule(db.ErrExists, ExitUsage)
	AddExitRule(db.ErrBusy, ExitTimeout)
	AddExitRule(db.ErrCorrupt, ExitCorrupt)
	AddExitRule(db.ErrNondeterminism, ExitCorrupt)
	AddExitRule(db.ErrBadResult, ExitEvalFailed)
	Register(&Command{
		Name: "db",
		Usage: "db create NAME --init VALUE [--evaluator NAME] [--steps N] [--on-budget reject|suspend] | send NAME INPUT | run NAME [--keep-going] |\n" +
			"       log NAME [--from N] | status NAME | snapshot NAME | replay NAME --verify | list |\n" +
			"       compact NAME [--drop-history] | drop NAME",
		Short: "durable PLAN databases: an event log and snapshots on the store",
		Flags: func(fs *pflag.FlagSet) {
			fs.String("init", "", "create: the initial value (text, a CID or @file.seed)")
			fs.String("evaluator", "", "create: evaluator ("+eval.DefaultName+" by default)")
			fs.Int64("steps", 0, "create: per-input step budget (0: default 100000000, negative: unlimited)")
			fs.Int64("snapshot-every", 0, "create: snapshot every N events (0: default 10000, negative: never)")
			fs.String("on-budget", "reject", "create: what to do with an input that exhausts its budget: reject, or suspend (log it pending and finish it before later inputs)")
			fs.Int64("snapshot-bytes", 0, "create: snapshot every N bytes of log (0: default 16 MiB, negative: never)")
			fs.Uint64("from", 1, "log: first event to show")
			fs.Bool("verify", false, "replay: check the replayed state against the log (always on)")
			fs.Bool("drop-history", false, "compact: let gc reclaim the dropped batches (default: keep them under a db-history ref)")
			fs.Bool("keep-going", false, "run: keep reading after a rejected input")
			AddPrintFlags(fs)
			AddWaitFlag(fs)
		},
		Run: runDB,
	})
}

func runDB(env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("db needs a verb: create, send, run, log, status, snapshot, replay, list, compact, drop")
	}
	verb, rest := args[0], args[1:]
	need := func(n int, what string) error {
		if len(rest) != n {
			return Usagef("db %s takes %s", verb, what)
		}
		return nil
	}
	switch verb {
	case "create":
		if err := need(1, "NAME"); err != nil {
			return err
		}
		return dbCreate(env, rest[0])
	case "send":
		if len(rest) < 2 {
			return Usagef("db send takes NAME INPUT")
		}
		return dbSend(env, rest[0], rest[1:])
	case "run":
		if err := need(1, "NAME"); err != nil {
			return err
		}
		return dbRun(env, rest[0])
	case "log":
		if err := need(1, "NAME"); err != nil {
			return err
		}
		return dbLog(env, rest[0])
	case "status":
		if err := need(1, "NAME"); err != nil {
			return err
		}
		return dbStatus(env, rest[0])
	case "snapshot":
		if err := need(1, "NAME"); err != nil {
			return err
		}
		return withDB(env, rest[0], func(d *db.DB) error {
			ev, c, err := d.Snapshot(env.Ctx)
			if err != nil {
				return err
			}
			if env.JSON {
				return json.NewEncoder(env.Stdout).Encode(map[string]any{"event": ev, "cid": c.String()})
			}
			fmt.Fprintf(env.Stdout, "%s\n", c)
			fmt.Fprintf(env.Stderr, "snapshot of %s at event %d\n", rest[0], ev)
			return nil
		})
	case "replay":
		if err := need(1, "NAME"); err != nil {
			return err
		}
		return dbReplay(env, rest[0])
	case "list":
		if err := need(0, "no arguments"); err != nil {
			return err
		}
		return dbList(env)
	case "compact":
		if err := need(1, "NAME"); err != nil {
			return err
		}
		drop, _ := env.Flags.GetBool("drop-history")
		return withDB(env, rest[0], func(d *db.DB) error {
			before := d.Status()
			if err := d.Compact(env.Ctx, !drop); err != nil {
				return err
			}
			after := d.Status()
			fmt.Fprintf(env.Stderr, "%s: log now starts after event %d (was %d); %d batches\n", rest[0], after.BaseEvent, before.BaseEvent, after.Batches)
			return nil
		})
	case "drop":
		if err := need(1, "NAME"); err != nil {
			return err
		}
		st, err := OpenStore(env, false)
		if err != nil {
			return err
		}
		defer st.Close()
		return db.Drop(st, rest[0])
	}
	return Usagef("unknown db verb %q", verb)
}

// withDB opens the store for writing and the database, runs f, and closes
// both.
func withDB(env *Env, name string, f func(d *db.DB) error) error {
	st, err := OpenStore(env, false)
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := db.Open(env.Ctx, st, name)
	if err != nil {
		return err
	}
	ferr := f(d)
	if cerr := d.Close(); ferr == nil {
		ferr = cerr
	}
	return ferr
}

// parseWith parses text whose CID tokens resolve in the already open store
// st (the pins then load through it for as long as it is open).
func parseWith(env *Env, st *pagestore.Store, src, dialect string) (plan.Value, error) {
	return newParser(env, dialect, &storeCache{env: env, st: st}).parse(src)
}

func dbCreate(env *Env, name string) error {
	src, _ := env.Flags.GetString("init")
	if !env.Flags.Changed("init") {
		return Usagef("db create needs --init VALUE")
	}
	evName, _ := env.Flags.GetString("evaluator")
	ev, err := eval.Get(evName)
	if err != nil {
		return Usagef("%v", err)
	}
	steps, _ := env.Flags.GetInt64("steps")
	every, _ := env.Flags.GetInt64("snapshot-every")
	bytes, _ := env.Flags.GetInt64("snapshot-bytes")
	st, err := OpenStore(env, false)
	if err != nil {
		return err
	}
	defer st.Close()
	init, err := parseWith(env, st, src, ev.Dialect())
	if err != nil {
		return err
	}
	onBudget := db.OnBudgetReject
	switch ob, _ := env.Flags.GetString("on-budget"); ob {
	case "reject", "":
	case "suspend":
		onBudget = db.OnBudgetSuspend
	default:
		return Usagef("--on-budget must be reject or suspend, not %q", ob)
	}
	d, err := db.Create(env.Ctx, st, name, init, db.CreateOptions{Evaluator: ev.Name(), Steps: steps, SnapshotEvery: every, SnapshotBytes: bytes, OnBudget: onBudget})
	if err != nil {
		return EvalError(err)
	}
	s := d.Status()
	if err := d.Close(); err != nil {
		return err
	}
	if env.JSON {
		return json.NewEncoder(env.Stdout).Encode(s)
	}
	fmt.Fprintf(env.Stdout, "%s\n", s.InitCID)
	fmt.Fprintf(env.Stderr, "created database %s (evaluator %s, %s steps per input)\n", name, s.Evaluator, stepsText(s.Steps))
	return nil
}

func stepsText(n uint64) string {
	if n == 0 {
		return "unlimited"
	}
	return strconv.FormatUint(n, 10)
}

// inputError turns a rejected input into the error the command exits with
// (its exit code follows the evaluator's error: 4 crash, 5 budget).
func inputError(err error) error {
	var rej *db.RejectedError
	if errors.As(err, &rej) {
		return fmt.Errorf("event %d rejected (%s): %w", rej.Event, db.KindName(rej.Kind), EvalError(rej.Err))
	}
	return EvalError(err)
}

func dbSend(env *Env, name string, exprs []string) error {
	src := exprs[0]
	for _, e := range exprs[1:] {
		src += " " + e
	}
	inline, _ := env.Flags.GetBool("inline")
	return withDB(env, name, func(d *db.DB) error {
		in, err := parseWith(env, d.Store(), src, d.Evaluator().Dialect())
		if err != nil {
			return err
		}
		out, ev, err := d.Send(env.Ctx, in)
		if err != nil {
			return inputError(err)
		}
		if env.JSON {
			text, perr := plan.Sprint(out, plan.PrintOptions{})
			if perr != nil {
				return perr
			}
			return json.NewEncoder(env.Stdout).Encode(map[string]any{"event": ev, "output": text})
		}
		return PrintValue(env, env.Stdout, out, inline)
	})
}

// dbRun feeds stdin to the database with the line protocol of `pstore
// run`, without the final input 0 (a database outlives one stdin). Each
// output is printed, in input order, after its input is durable. Reading
// runs ahead of the answers (up to runWindow inputs), so a pipe's lines
// share group commits; the stream stops at the first rejected input unless
// --keep-going, exactly as if each line waited for the previous one: later
// lines already read are not applied.
func dbRun(env *Env, name string) error {
	keepGoing, _ := env.Flags.GetBool("keep-going")
	return withDB(env, name, func(d *db.DB) error {
		type item struct {
			line int
			r    *db.Receipt
		}
		const runWindow = 1024
		q := make(chan item, runWindow)
		stop := make(chan struct{}) // closed when the printer gives up
		readDone := make(chan error, 1)
		s := d.NewStream(!keepGoing)
		// The reader may block on a terminal; when the run stops early it
		// is abandoned there (the process is about to exit), and anything
		// it still submits is refused by the stopped stream or the closed
		// database.
		go func() {
			defer close(q)
			cr := runner.NewChunkReader(env.Stdin)
			for {
				chunk, line, err := cr.Next()
				if err == io.EOF {
					readDone <- nil
					return
				}
				if err != nil {
					readDone <- fmt.Errorf("reading stdin: %w", err)
					return
				}
				r, err := s.Submit(env.Ctx, plan.NatFromBytes(chunk))
				if err != nil {
					readDone <- fmt.Errorf("line %d: %w", line, err)
					return
				}
				select {
				case q <- item{line, r}:
				case <-stop:
					readDone <- nil
					return
				}
			}
		}()
		var failed error
		var buf []byte
		for it := range q {
			out, ev, err := it.r.Wait()
			if err != nil {
				var rej *db.RejectedError
				if !errors.As(err, &rej) {
					close(stop)
					return fmt.Errorf("line %d: %w", it.line, EvalError(err))
				}
				ierr := fmt.Errorf("line %d: %w", it.line, inputError(err))
				if !keepGoing {
					close(stop)
					return ierr
				}
				fmt.Fprintf(env.Stderr, "pstore db run: %v\n", ierr)
				if failed == nil {
					failed = ierr
				}
				continue
			}
			var ok bool
			if buf, ok = runner.OutputBytes(out, buf); !ok {
				fmt.Fprintf(env.Stderr, "pstore db run: line %d (event %d): the output is a %v, not a nat; nothing printed\n", it.line, ev, out.Kind())
				continue
			}
			if len(buf) > 0 {
				if _, err := env.Stdout.Write(buf); err != nil {
					close(stop)
					return err
				}
			}
		}
		if err := <-readDone; err != nil {
			return err
		}
		return failed
	})
}

func readStore(env *Env) (*pagestore.Store, error) { return OpenStore(env, true) }

func dbLog(env *Env, name string) error {
	from, _ := env.Flags.GetUint64("from")
	st, err := readStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	entries, err := db.ReadLog(st, name, from)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(env.Stdout)
	defer w.Flush()
	first := true
	if env.JSON {
		w.WriteString("[")
	}
	for e, err := range entries {
		if err != nil {
			return err
		}
		in, _ := plan.Sprint(e.Input, plan.PrintOptions{Limit: 4096})
		if env.JSON {
			rec := map[string]any{"event": e.Event, "input": in, "outcome": e.Outcome.String(),
				"time": time.UnixMilli(int64(e.TimeMs)).UTC().Format(time.RFC3339Nano)}
			if e.Outcome == db.Accepted {
				rec["output"], _ = plan.Sprint(e.Output, plan.PrintOptions{Limit: 4096})
			} else {
				rec["kind"], rec["error"] = db.KindName(e.Kind), e.Error
			}
			b, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if !first {
				w.WriteString(",")
			}
			w.WriteString("\n")
			w.Write(b)
		} else if e.Outcome == db.Accepted {
			out, _ := plan.Sprint(e.Output, plan.PrintOptions{Limit: 4096})
			fmt.Fprintf(w, "%d\taccepted\t%s\t-> %s\n", e.Event, in, out)
		} else {
			fmt.Fprintf(w, "%d\trejected (%s)\t%s\t%s\n", e.Event, db.KindName(e.Kind), in, e.Error)
		}
		first = false
	}
	if env.JSON {
		w.WriteString("\n]\n")
	}
	return nil
}

func dbStatus(env *Env, name string) error {
	st, err := readStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := db.Info(st, name)
	if err != nil {
		return err
	}
	stats, err := st.Stat()
	if err != nil {
		return err
	}
	if env.JSON {
		return json.NewEncoder(env.Stdout).Encode(struct {
			db.Status
			StoreFileBytes   int64  `json:"store_file_bytes"`
			StoreBytesStored uint64 `json:"store_bytes_stored"`
		}{s, stats.FileBytes, stats.BytesStored})
	}
	w := env.Stdout
	fmt.Fprintf(w, "name        %s\n", s.Name)
	fmt.Fprintf(w, "evaluator   %s (%s steps per input)\n", s.Evaluator, stepsText(s.Steps))
	fmt.Fprintf(w, "events      %d (%d batches in the log since event %d)\n", s.Events, s.Batches, s.BaseEvent)
	age := time.Since(s.SnapshotTime).Round(time.Second)
	fmt.Fprintf(w, "snapshot    event %d, %d events and ~%d log bytes ago, taken %v ago\n", s.SnapshotEvent, s.EventsSinceSnapshot, s.LogBytesSince, age)
	fmt.Fprintf(w, "            %s\n", s.SnapshotCID)
	fmt.Fprintf(w, "policy      every %s events or %s log bytes\n", policyText(s.SnapshotEvery), policyText(s.SnapshotBytes))
	fmt.Fprintf(w, "head        %s\n", s.HeadCID)
	fmt.Fprintf(w, "store       %d bytes on disk, %d bytes stored (all databases and pins)\n", stats.FileBytes, stats.BytesStored)
	return nil
}

func policyText(n uint64) string {
	if n == 0 {
		return "(never)"
	}
	return strconv.FormatUint(n, 10)
}

func dbReplay(env *Env, name string) error {
	st, err := readStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	t0 := time.Now()
	rep, err := db.Verify(env.Ctx, st, name)
	if err != nil {
		return EvalError(err)
	}
	if env.JSON {
		return json.NewEncoder(env.Stdout).Encode(rep)
	}
	fmt.Fprintf(env.Stdout, "%s\n", rep.StateCID)
	fmt.Fprintf(env.Stderr, "ok: replayed %d events after event %d (%d accepted, %d rejected and skipped), %d snapshots matched, state matches, in %v\n",
		rep.Events, rep.FromEvent, rep.Accepted, rep.Rejected, rep.Snapshots, time.Since(t0).Round(time.Millisecond))
	return nil
}

func dbList(env *Env) error {
	st, err := openStoreIfAny(env)
	if err != nil {
		return err
	}
	var list []db.Status
	if st != nil {
		defer st.Close()
		if list, err = db.List(st); err != nil {
			return err
		}
	}
	if env.JSON {
		if list == nil {
			list = []db.Status{}
		}
		return json.NewEncoder(env.Stdout).Encode(list)
	}
	for _, s := range list {
		fmt.Fprintf(env.Stdout, "%s\t%s\t%d events\tsnapshot at %d\n", s.Name, s.Evaluator, s.Events, s.SnapshotEvent)
	}
	return nil
}
