package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ipfs/go-cid"
	"github.com/spf13/pflag"

	"pstore/db"
	"pstore/eval"
	"pstore/eval/suspend"
	"pstore/merkle"
	"pstore/pagestore"
	"pstore/plan"
)

// JobsRefPrefix names the store refs that hold suspended computations
// ("jobs/<cid>"), so that gc keeps them until they are resumed.
const JobsRefPrefix = "jobs/"

const suspendHelp = "--suspend: a run stopped by --steps or Ctrl-C is stored (ref jobs/CID), its CID printed, exit 3"

func init() {
	AddExitRule(suspend.ErrNotSuspended, ExitUsage)
	AddExitRule(suspend.ErrVersion, ExitUsage)
	AddExitRule(suspend.ErrNoResidual, ExitBudget)
	Register(&Command{
		Name:  "resume",
		Usage: "resume CID [--steps N] [--no-jets] [--suspend] [--stats]",
		Short: "continue a suspended computation (eval --suspend) to normal form; " + suspendHelp,
		Flags: func(fs *pflag.FlagSet) {
			AddBudgetFlags(fs)
			fs.Bool("suspend", false, "suspend again instead of failing when --steps or Ctrl-C stops it (exit 3)")
			fs.Bool("stats", false, "print evaluation statistics to stderr")
			AddPrintFlags(fs)
			AddWaitFlag(fs)
		},
		Run: runResume,
	})
	Register(&Command{
		Name:  "jobs",
		Usage: "jobs [--json]",
		Short: "list suspended computations held under roots: jobs/ refs and databases' pending inputs",
		Run:   runJobs,
	})
}

// runSuspendable runs a computation that a step budget or Ctrl-C may stop.
// from is the job it continues (cid.Undef for a fresh evaluation). It
// returns the result when the run finished. When it stopped: with keep
// (--suspend), it stores the new job under jobs/CID (replacing from's
// ref), prints its CID and returns the exit-3 error; without keep (only
// when resuming) the stop is a failure, as for eval, and from is left
// unchanged.
func runSuspendable(env *Env, sc *storeCache, from cid.Cid, keep bool, run func() (suspend.Outcome, error)) (eval.Result, error) {
	out, err := run()
	res := eval.Result{Value: out.Value, Stats: out.Stats}
	if showStats, _ := env.Flags.GetBool("stats"); showStats {
		s := out.Stats
		fmt.Fprintf(env.Stderr, "steps %d (%d over the job), law calls %d, jet calls %d, pins loaded %d\n", s.Steps, out.Steps, s.LawCalls, s.JetCalls, s.PinsLoaded)
	}
	if err != nil {
		return res, EvalError(err)
	}
	if out.Done() {
		return res, nil
	}
	if !keep {
		return res, fmt.Errorf("%w after %d steps (the job %s is unchanged; use --suspend to keep the progress)", out.Cause, out.Stats.Steps, from)
	}
	oldRef := ""
	if from.Defined() {
		oldRef = JobsRefPrefix + from.String()
	}
	c, err := storeJob(env, sc, out.Suspended, oldRef)
	if err != nil {
		return res, err
	}
	j, _ := suspend.Decode(out.Suspended.MustItem())
	if env.JSON {
		if err := json.NewEncoder(env.Stdout).Encode(map[string]any{
			"suspended": c.String(), "evaluator": j.Evaluator, "steps": j.Steps,
		}); err != nil {
			return res, err
		}
	} else {
		fmt.Fprintln(env.Stdout, c)
	}
	why := "the step budget ran out"
	if errors.Is(out.Cause, eval.ErrCanceled) {
		why = "interrupted"
	}
	return res, WithCode(ExitSuspended, fmt.Errorf("suspended (%s) after %d steps; resume with: pstore resume %s", why, out.Steps, c))
}

// storeJob stores a suspended computation under jobs/CID (replacing
// oldRef, the job it continues, if any).
func storeJob(env *Env, sc *storeCache, p *plan.Pin, oldRef string) (cid.Cid, error) {
	return storeValue(env, sc, p, func(b *pagestore.Batch, c cid.Cid) {
		name := JobsRefPrefix + c.String()
		d, _ := p.CachedDigest()
		b.SetRef(name, d)
		if oldRef != "" && oldRef != name {
			b.DeleteRef(oldRef) // a no-op if it is gone
		}
	})
}

// storeValue stores the pin p and the pins under it, with refs (if not
// nil) setting refs in the same commit, and returns p's CID. The bodies of
// the new pins are computed while the store that evaluation read from (sc)
// is still open, since loaded contents may alias its mapping; then that
// reader is closed, and the writer stores them.
func storeValue(env *Env, sc *storeCache, p *plan.Pin, refs func(b *pagestore.Batch, c cid.Cid)) (cid.Cid, error) {
	type body struct {
		d plan.Digest
		b []byte
	}
	var bodies []body
	has := func(d plan.Digest) bool { return sc.st != nil && sc.st.Has(d) }
	err := merkle.Walk(p, has, func(_ *plan.Pin, d plan.Digest, b []byte) error {
		bodies = append(bodies, body{d, b}) // b is Walk's own buffer
		return nil
	})
	if err != nil {
		return cid.Undef, err
	}
	d, _ := p.CachedDigest()
	sc.Close()
	st, err := OpenStore(env, false)
	if err != nil {
		return cid.Undef, err
	}
	defer st.Close()
	b := st.NewBatch()
	for _, x := range bodies {
		if err := b.PutBody(x.d, x.b); err != nil {
			return cid.Undef, err
		}
	}
	c := merkle.CIDOf(d)
	if refs != nil {
		refs(b, c)
	}
	return c, b.Commit()
}

func runResume(env *Env, args []string) error {
	c, err := parseCIDArg(args, "resume")
	if err != nil {
		return err
	}
	opts, err := budgetOf(env)
	if err != nil {
		return err
	}
	keep, _ := env.Flags.GetBool("suspend")
	sc := &storeCache{env: env, readOnly: true}
	defer sc.Close()
	st, err := sc.get()
	if err != nil {
		return err
	}
	job, err := jobAt(st, c)
	if err != nil {
		return err
	}
	res, err := runSuspendable(env, sc, c, keep, func() (suspend.Outcome, error) {
		return suspend.ResumeJob(env.Ctx, job, opts)
	})
	if err != nil {
		return err
	}
	// Print while the store is open (the value may alias its mapping).
	// Then drop the finished job's ref; a job fetched or imported may have
	// none, and then the store is not opened for writing.
	if err := printEvalResult(env, sc, res); err != nil {
		return err
	}
	ref := JobsRefPrefix + c.String()
	_, rerr := st.Ref(ref)
	sc.Close()
	if errors.Is(rerr, pagestore.ErrNotFound) {
		return nil
	}
	if rerr != nil {
		return rerr
	}
	w, err := OpenStore(env, false)
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.DeleteRef(ref); err != nil && !errors.Is(err, pagestore.ErrNotFound) {
		return err // not found: a concurrent resume of the job dropped it
	}
	return nil
}

// jobAt loads the suspended computation stored as pin c.
func jobAt(st *pagestore.Store, c cid.Cid) (*suspend.Job, error) {
	p, err := st.Get(c)
	if err != nil {
		return nil, err
	}
	v, err := p.Item()
	if err != nil {
		return nil, err
	}
	j, err := suspend.Decode(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c, err)
	}
	return j, nil
}

// jobInfo describes one suspended computation for `pstore jobs`.
type jobInfo struct {
	CID       string `json:"cid"`
	Ref       string `json:"ref"`
	Evaluator string `json:"evaluator"`
	Steps     int64  `json:"steps"`
}

func runJobs(env *Env, args []string) error {
	if len(args) != 0 {
		return Usagef("jobs takes no arguments")
	}
	st, err := openStoreIfAny(env)
	if err != nil {
		return err
	}
	jobs := []jobInfo{}
	if st != nil {
		defer st.Close()
		if jobs, err = listJobs(st); err != nil {
			return err
		}
	}
	if env.JSON {
		return json.NewEncoder(env.Stdout).Encode(jobs)
	}
	for _, j := range jobs {
		fmt.Fprintf(env.Stdout, "%s\t%s\t%d steps\n", j.CID, j.Evaluator, j.Steps)
	}
	return nil
}

// listJobs returns the suspended computations held under st's roots, by
// CID: jobs/ refs, and the pending inputs of databases
// (db.CreateOptions.OnBudget). A job that does not load is an error: it
// is held under a root, so the store is damaged.
func listJobs(st *pagestore.Store) ([]jobInfo, error) {
	jobs := []jobInfo{}
	add := func(ref string, c cid.Cid) error {
		j, err := jobAt(st, c)
		if err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		jobs = append(jobs, jobInfo{CID: c.String(), Ref: ref, Evaluator: j.Evaluator, Steps: j.Steps})
		return nil
	}
	refs, err := st.Refs()
	if err != nil {
		return nil, err
	}
	for name, d := range refs {
		if strings.HasPrefix(name, JobsRefPrefix) {
			if err := add(name, merkle.CIDOf(d)); err != nil {
				return nil, err
			}
		}
	}
	dbs, err := db.List(st)
	if err != nil {
		return nil, err
	}
	for _, s := range dbs {
		if s.PendingJob == "" {
			continue
		}
		c, err := merkle.ParseCID(s.PendingJob)
		if err != nil {
			return nil, err
		}
		if err := add(db.RefPrefix+s.Name, c); err != nil {
			return nil, err
		}
	}
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].CID < jobs[b].CID })
	return jobs, nil
}
