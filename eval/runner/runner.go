package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"pstore/eval"
	"pstore/plan"
)

// ChunkSize is the largest input chunk in bytes, newline included (PLAN4.md
// section 10). Part of the protocol.
const ChunkSize = 101

var (
	// ErrShape: the result of a step is not an app with at least two
	// arguments, or its output is not a nat.
	ErrShape = errors.New("runner: result is not (... output next-state) with a nat output")
)

// LineError is the failure of one input.
type LineError struct {
	Line  int  // 1-based line number of the input chunk
	Final bool // the failed input was the final 0
	Err   error
}

func (e *LineError) Error() string {
	if e.Final {
		return fmt.Sprintf("line %d (final input 0): %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Options control a run.
type Options struct {
	// Steps is the step budget per input (0 = unlimited).
	Steps int64
	// NoJets is passed to the evaluator.
	NoJets bool
	// Trace writes one line per input to diag: line, steps and time.
	Trace bool
	// KeepGoing reports a failed input to diag and continues with the
	// state unchanged, instead of stopping.
	KeepGoing bool
	// NoFinalInput leaves out the input 0 sent after the end of input.
	NoFinalInput bool
}

func (o Options) evalOptions(diag io.Writer) eval.Options {
	return eval.Options{Steps: o.Steps, NoJets: o.NoJets, Trace: func(s string) { fmt.Fprintln(diag, s) }}
}

// Session keeps a state machine's state inside an evaluator's own heap
// between steps. Evaluators offer it by implementing SessionMaker.
type Session interface {
	// Feed computes R = NF(state input). When R is an app with at least
	// two arguments, the state becomes R's last argument and Feed returns
	// the argument before it with ok = true. Otherwise the state is
	// unchanged and ok is false. On an error the state is unchanged.
	Feed(ctx context.Context, input plan.Value, opts eval.Options) (out plan.Value, ok bool, stats eval.Stats, err error)
	// State returns the current state as a plain value.
	State() plan.Value
}

// SessionMaker is the optional capability of an evaluator to run a
// Session.
type SessionMaker interface {
	NewSession(state plan.Value) Session
}

// Step runs one input through the state machine with e.Eval and returns
// the output and the next state (the last two arguments of the result).
func Step(ctx context.Context, e eval.Evaluator, state plan.Value, input plan.Value, opts eval.Options) (out, next plan.Value, stats eval.Stats, err error) {
	r, err := e.Eval(ctx, plan.A(state, input), opts)
	if err != nil {
		return nil, nil, r.Stats, err
	}
	out, next, ok := Split(r.Value)
	if !ok {
		return nil, nil, r.Stats, fmt.Errorf("%w: got %s", ErrShape, short(r.Value))
	}
	return out, next, r.Stats, nil
}

// Split returns the last two arguments of an app with at least two
// arguments (in the pair view): the output and the next state of a state
// machine's result. It allocates nothing when the app node itself holds
// two arguments or more.
func Split(r plan.Value) (out, next plan.Value, ok bool) {
	a, isApp := r.(*plan.App)
	if !isApp {
		return nil, nil, false
	}
	args := a.Args
	if len(args) < 2 {
		_, args = a.Spine()
		if len(args) < 2 {
			return nil, nil, false
		}
	}
	return args[len(args)-2], args[len(args)-1], true
}

func short(v plan.Value) string {
	s, err := plan.Sprint(v, plan.PrintOptions{Limit: 200})
	if err != nil {
		s += "..."
	}
	return s
}

// OutputBytes returns what an output prints (PLAN4.md section 10): for a
// nat of L >= 2 bytes its L-1 low bytes followed by a newline, otherwise
// nothing. ok is false when out is not a nat.
func OutputBytes(out plan.Value, buf []byte) ([]byte, bool) {
	n, ok := out.(plan.Nat)
	if !ok {
		return buf[:0], false
	}
	buf = n.AppendBytes(buf[:0])
	if len(buf) < 2 {
		return buf[:0], true
	}
	buf[len(buf)-1] = '\n'
	return buf, true
}

// ChunkReader splits input into protocol chunks.
type ChunkReader struct {
	r    *bufio.Reader
	line int // line of the next chunk (1-based)
	buf  [ChunkSize]byte
	eof  bool
}

// NewChunkReader reads chunks from r.
func NewChunkReader(r io.Reader) *ChunkReader {
	return &ChunkReader{r: bufio.NewReaderSize(r, 64<<10), line: 1}
}

// Next returns the next chunk and its line number. At the end of input it
// returns io.EOF (and the line number the final input gets). The chunk is
// valid until the next call.
func (c *ChunkReader) Next() (chunk []byte, line int, err error) {
	if c.eof {
		return nil, c.line, io.EOF
	}
	n := 0
	for n < ChunkSize {
		b, err := c.r.ReadByte()
		if err == io.EOF {
			c.eof = true
			break
		}
		if err != nil {
			return nil, c.line, err
		}
		c.buf[n] = b
		n++
		if b == '\n' {
			break
		}
	}
	line = c.line
	if n == 0 {
		return nil, line, io.EOF
	}
	if c.buf[n-1] == '\n' || c.eof {
		c.line++
	}
	return c.buf[:n], line, nil
}

// Run drives the state machine state with the chunks of in (PLAN4.md
// section 10), writing outputs to out and diagnostics to diag (either may
// be io.Discard). It returns the final state. The error is the first
// *LineError (nil with KeepGoing), a read or write error, or ctx's error.
func Run(ctx context.Context, e eval.Evaluator, state plan.Value, in io.Reader, out, diag io.Writer, opts Options) (final plan.Value, err error) {
	if diag == nil {
		diag = io.Discard
	}
	if out == nil {
		out = io.Discard
	}
	eo := opts.evalOptions(diag)
	var sess Session
	if sm, ok := e.(SessionMaker); ok {
		sess = sm.NewSession(state)
		defer func() { final = sess.State() }()
	}
	bw := bufio.NewWriter(out)
	defer func() {
		if ferr := bw.Flush(); err == nil && ferr != nil {
			err = ferr
		}
	}()
	cr := NewChunkReader(in)
	var obuf []byte
	for {
		chunk, line, rerr := cr.Next()
		final := rerr == io.EOF
		if rerr != nil && !final {
			return state, fmt.Errorf("runner: reading input: %w", rerr)
		}
		if final && opts.NoFinalInput {
			return state, nil
		}
		if err := ctx.Err(); err != nil {
			return state, fmt.Errorf("%w: %w", eval.ErrCanceled, err)
		}
		input := plan.NatFromBytes(chunk)
		start := time.Now()
		var o plan.Value
		var st eval.Stats
		var serr error
		if sess != nil {
			var ok bool
			o, ok, st, serr = sess.Feed(ctx, input, eo)
			if serr == nil && !ok {
				serr = fmt.Errorf("%w: got %s", ErrShape, short(o))
			}
		} else {
			var next plan.Value
			o, next, st, serr = Step(ctx, e, state, input, eo)
			if serr == nil {
				state = next
			}
		}
		if serr == nil {
			var ok bool
			obuf, ok = OutputBytes(o, obuf)
			if !ok {
				serr = fmt.Errorf("%w: output %s is not a nat", ErrShape, short(o))
			}
		}
		if opts.Trace {
			fmt.Fprintf(diag, "line %d: %d bytes in, %d steps, %d law calls (%d jets), %v\n",
				line, len(chunk), st.Steps, st.LawCalls, st.JetCalls, time.Since(start).Round(time.Microsecond))
		}
		if serr != nil {
			le := &LineError{Line: line, Final: final, Err: serr}
			if !opts.KeepGoing {
				return state, le
			}
			fmt.Fprintf(diag, "runner: %v\n", le)
		} else if len(obuf) > 0 {
			if _, err := bw.Write(obuf); err != nil {
				return state, fmt.Errorf("runner: writing output: %w", err)
			}
			// Flush per input: an interactive machine answers each line.
			if err := bw.Flush(); err != nil {
				return state, fmt.Errorf("runner: writing output: %w", err)
			}
		}
		if final {
			return state, nil
		}
	}
}
