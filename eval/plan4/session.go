package plan4

import (
	"context"

	"pstore/eval"
	"pstore/eval/runner"
	"pstore/plan"
)

// session runs a state machine with its state kept in one machine's heap
// between inputs (runner.Session): the state's laws stay compiled, its
// pins stay loaded, and normalizing each result only walks what is new.
type session struct {
	m     *machine
	state *node
}

var _ runner.SessionMaker = Evaluator{}

// NewSession implements runner.SessionMaker.
func (Evaluator) NewSession(state plan.Value) runner.Session {
	return &session{m: newMachine(eval.Options{}), state: valNode(state, false)}
}

// Feed implements runner.Session.
func (s *session) Feed(ctx context.Context, input plan.Value, opts eval.Options) (out plan.Value, ok bool, stats eval.Stats, err error) {
	m := s.m
	m.opts, m.jets = opts, !opts.NoJets
	if err := m.start(ctx); err != nil {
		return nil, false, eval.Stats{}, err
	}
	defer m.clearScratch()
	root := mkApp(s.state, []*node{valNode(input, false)})
	r, err := m.run(root, true)
	if err == errStopped {
		// No residual here: drop the stack, restoring the black holes.
		m.unwind(0)
		m.stopX, m.stopV = nil, nil
		return nil, false, m.stats, &eval.StoppedError{Cause: m.stop, Steps: m.stats.Steps}
	}
	if err != nil {
		return nil, false, m.stats, err
	}
	if r.k == kApp {
		_, args := m.pairSpine(r, nil)
		if len(args) >= 2 {
			s.state = args[len(args)-1]
			return m.export(args[len(args)-2]), true, m.stats, nil
		}
	}
	return m.export(r), false, m.stats, nil
}

// State implements runner.Session.
func (s *session) State() plan.Value { return s.m.snapshot(s.state) }
