package evaltest

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pstore/eval"
	"pstore/merkle"
	"pstore/plan"
)

// Kit supplies the dialect-specific expressions RunShared needs. Every
// field is required unless marked optional. Expressions are plain
// plan.Values (apps are thunks until evaluated).
type Kit struct {
	// Nat is how a nat literal is written in expressions (usually
	// plan.N itself; a dialect could need a quote).
	Nat func(n uint64) plan.Value
	// Inc(x) increments x (x evaluates to a nat).
	Inc func(x plan.Value) plan.Value
	// Const is a law of arity 2 returning its first argument, lazy in the
	// second.
	Const plan.Value
	// Dup is a law of arity 1 whose normal form contains its argument
	// twice (e.g. a pair (x, x)); its argument must be evaluated once
	// however often it appears.
	Dup plan.Value
	// Cons(a, b) is an inert data cell holding a and b (normal form:
	// Cons(nf a, nf b)).
	Cons func(a, b plan.Value) plan.Value
	// Countdown(n) is an expression that applies a self-recursive law
	// without a jet n times and evaluates to CountdownResult. It must
	// cost O(n) steps.
	Countdown       func(n uint64) plan.Value
	CountdownResult plan.Value
	// Crash evaluates to a crash (ErrCrash).
	Crash plan.Value
	// Loop enters a black hole (ErrLoop).
	Loop plan.Value
	// Diverge reduces forever without a black hole (only a budget or a
	// context stops it).
	Diverge plan.Value
	// Forward(next, extra) is a law of arity 1 that applies the value next
	// (a pin) to its argument; extra is embedded in the law as an unused
	// constant (so a pinned Forward refers to extra's pins as children
	// without evaluation touching them). Id is a law returning its
	// argument.
	Forward func(next, extra plan.Value) plan.Value
	Id      plan.Value
	// Programs are closed expressions with their normal forms, used for
	// the stop-and-resume tests. Give some that take a few hundred steps
	// and share work.
	Programs []Program
	// NewStore makes the pin store of the lazy-loading test. Optional:
	// nil uses NewMemStore.
	NewStore func(t testing.TB) PinStore
	// NoResidual is set by an evaluator that cannot produce residuals
	// (StoppedError.Residual nil); the resume tests are then skipped.
	NoResidual bool
}

// Program is a closed expression and its normal form.
type Program struct {
	Name string
	Expr plan.Value
	Want plan.Value
}

// PinStore stores pins for the lazy-loading test and counts loads.
type PinStore interface {
	// Put stores a pin with contents v (child pins in v are references
	// returned by earlier Puts) and returns an unloaded reference to it.
	Put(v plan.Value) (*plan.Pin, error)
	// Loads is the number of pin contents loaded so far.
	Loads() int64
}

// MemStore is an in-memory PinStore and plan.PinLoader that counts its
// loads. Like the page store it keeps canonical pin bodies (merkle.Body)
// and decodes one on every load, so the children of a loaded pin are fresh
// unloaded references: loading is as lazy as from a real store, and the
// pins and digests are the same as the page store's.
type MemStore struct {
	mu     sync.Mutex
	bodies map[plan.Digest][]byte
	loads  atomic.Int64
}

// NewMemStore returns an empty MemStore.
func NewMemStore(testing.TB) PinStore { return &MemStore{bodies: map[plan.Digest][]byte{}} }

// Put implements PinStore.
func (s *MemStore) Put(v plan.Value) (*plan.Pin, error) {
	p := plan.P(v)
	d, err := merkle.Digest(p)
	if err != nil {
		return nil, err
	}
	body, _, err := merkle.Body(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.bodies[d] = body
	s.mu.Unlock()
	return plan.NewPinRef(d, s), nil
}

// LoadPin implements plan.PinLoader.
func (s *MemStore) LoadPin(d plan.Digest) (plan.Value, error) {
	s.mu.Lock()
	body, ok := s.bodies[d]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("evaltest: no pin %x", d[:8])
	}
	s.loads.Add(1)
	v, _, err := merkle.DecodeBody(body, s)
	return v, err
}

// Loads implements PinStore.
func (s *MemStore) Loads() int64 { return s.loads.Load() }

func run(e eval.Evaluator, v plan.Value, o eval.Options) (eval.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return e.Eval(ctx, v, o)
}

func mustEval(t *testing.T, e eval.Evaluator, v plan.Value, o eval.Options) eval.Result {
	t.Helper()
	r, err := run(e, v, o)
	if err != nil {
		t.Fatalf("eval %.200s: %v", plan.String(v), err)
	}
	return r
}

func wantEqual(t *testing.T, got, want plan.Value) {
	t.Helper()
	if !plan.Equal(got, want) {
		t.Fatalf("got %.300s\nwant %.300s", plan.String(got), plan.String(want))
	}
}

// RunShared runs the behaviour every evaluator must share.
func RunShared(t *testing.T, e eval.Evaluator, k Kit) {
	t.Run("Laziness", func(t *testing.T) {
		// An unused crashing argument is never evaluated.
		r := mustEval(t, e, plan.A(k.Const, k.Nat(7), k.Crash), eval.Options{})
		wantEqual(t, r.Value, plan.N(7))
		// An unused endless argument neither.
		r = mustEval(t, e, plan.A(k.Const, k.Nat(7), k.Diverge), eval.Options{Steps: 1000})
		wantEqual(t, r.Value, plan.N(7))
	})
	t.Run("Sharing", func(t *testing.T) {
		const n = 2000
		work := k.Countdown(n)
		alone := mustEval(t, e, work, eval.Options{})
		twice := mustEval(t, e, plan.A(k.Dup, work), eval.Options{})
		if twice.Stats.Steps > alone.Stats.Steps+50 {
			t.Fatalf("shared argument evaluated twice: %d steps alone, %d under Dup", alone.Stats.Steps, twice.Stats.Steps)
		}
		// The same *plan.App twice in the input is one thunk as well.
		pair := k.Cons(work, work)
		both := mustEval(t, e, pair, eval.Options{})
		if both.Stats.Steps > alone.Stats.Steps+50 {
			t.Fatalf("input sharing lost: %d steps alone, %d for a pair", alone.Stats.Steps, both.Stats.Steps)
		}
		wantEqual(t, both.Value, k.Cons(k.CountdownResult, k.CountdownResult))
	})
	t.Run("Errors", func(t *testing.T) {
		if _, err := run(e, k.Crash, eval.Options{}); !errors.Is(err, eval.ErrCrash) {
			t.Errorf("crash: got %v, want ErrCrash", err)
		}
		if _, err := run(e, k.Loop, eval.Options{}); !errors.Is(err, eval.ErrLoop) {
			t.Errorf("loop: got %v, want ErrLoop", err)
		}
		_, err := run(e, k.Diverge, eval.Options{Steps: 10000})
		if !errors.Is(err, eval.ErrBudget) {
			t.Fatalf("diverge: got %v, want ErrBudget", err)
		}
		var se *eval.StoppedError
		if !errors.As(err, &se) || se.Steps != 10000 {
			t.Fatalf("diverge: want *StoppedError after 10000 steps, got %#v", err)
		}
	})
	t.Run("DeepNesting", func(t *testing.T) {
		const n = 1_000_000
		var v plan.Value = k.Nat(0)
		for i := 0; i < n; i++ {
			v = k.Inc(v)
		}
		r := mustEval(t, e, v, eval.Options{})
		wantEqual(t, r.Value, plan.N(n))
	})
	t.Run("DeepRecursion", func(t *testing.T) {
		r := mustEval(t, e, k.Countdown(1_000_000), eval.Options{})
		wantEqual(t, r.Value, k.CountdownResult)
	})
	t.Run("DeepNormalize", func(t *testing.T) {
		const n = 300_000
		var v, want plan.Value = k.Nat(0), plan.N(0)
		for i := 0; i < n; i++ {
			v = k.Cons(k.Inc(k.Nat(0)), v)
			want = k.Cons(plan.N(1), want)
		}
		r := mustEval(t, e, v, eval.Options{})
		wantEqual(t, r.Value, want)
	})
	t.Run("Cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := e.Eval(ctx, k.Diverge, eval.Options{})
		if !errors.Is(err, eval.ErrCanceled) {
			t.Fatalf("canceled context: got %v", err)
		}
		ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		t0 := time.Now()
		_, err = e.Eval(ctx, k.Diverge, eval.Options{})
		if !errors.Is(err, eval.ErrCanceled) {
			t.Fatalf("deadline: got %v", err)
		}
		if d := time.Since(t0); d > 2*time.Second {
			t.Fatalf("deadline noticed after %v", d)
		}
		var se *eval.StoppedError
		if !errors.As(err, &se) {
			t.Fatalf("deadline: want *StoppedError, got %T", err)
		}
	})
	t.Run("Resume", func(t *testing.T) {
		if k.NoResidual {
			t.Skip("evaluator has no residuals")
		}
		rng := rand.New(rand.NewSource(1))
		for _, p := range k.Programs {
			full := mustEval(t, e, p.Expr, eval.Options{})
			wantEqual(t, full.Value, p.Want)
			total := full.Stats.Steps
			ks := []int64{}
			for s := int64(1); s <= 300 && s < total; s++ {
				ks = append(ks, s)
			}
			for i := 0; i < 20 && total > 1; i++ {
				ks = append(ks, 1+rng.Int63n(total-1))
			}
			for _, s := range ks {
				checkResume(t, e, p, []int64{s})
			}
			// Chains of several stops.
			for i := 0; i < 10 && total > 3; i++ {
				var chain []int64
				for j := 0; j < 1+rng.Intn(5); j++ {
					chain = append(chain, 1+rng.Int63n(total/2+1))
				}
				checkResume(t, e, p, chain)
			}
		}
	})
	t.Run("LazyPins", func(t *testing.T) { RunLazyPins(t, e, k) })
	t.Run("Concurrent", func(t *testing.T) {
		p := k.Countdown(5000)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := run(e, p, eval.Options{})
				if err == nil && !plan.Equal(r.Value, k.CountdownResult) {
					err = fmt.Errorf("got %s", plan.String(r.Value))
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}

// checkResume stops p after each budget in chain in turn (evaluating the
// residual of the previous stop each time), then finishes the last
// residual and compares with p.Want.
func checkResume(t *testing.T, e eval.Evaluator, p Program, chain []int64) {
	t.Helper()
	v := p.Expr
	for _, s := range chain {
		r, err := run(e, v, eval.Options{Steps: s})
		if err == nil {
			if !plan.Equal(r.Value, p.Want) {
				t.Fatalf("%s: stops %v: finished early with %s, want %s", p.Name, chain, plan.String(r.Value), plan.String(p.Want))
			}
			return
		}
		var se *eval.StoppedError
		if !errors.As(err, &se) || !errors.Is(err, eval.ErrBudget) {
			t.Fatalf("%s: stops %v: %v", p.Name, chain, err)
		}
		if se.Residual == nil {
			t.Fatalf("%s: stops %v: no residual", p.Name, chain)
		}
		v = se.Residual
	}
	r, err := run(e, v, eval.Options{})
	if err != nil {
		t.Fatalf("%s: stops %v: resuming: %v\nresidual %.500s", p.Name, chain, err, plan.String(v))
	}
	if !plan.Equal(r.Value, p.Want) {
		t.Fatalf("%s: stops %v: resumed to %s, want %s\nresidual %.500s", p.Name, chain, plan.String(r.Value), plan.String(p.Want), plan.String(v))
	}
}

// BuildPinDAG stores about total pins in st: a chain of depth pinned
// Forward laws ending in a pinned Id, where every link also refers (as an
// unused constant) to a balanced tree of other pins. Evaluating (head x)
// gives x and loads the depth+1 chain pins only. It returns the head and the
// number of pins stored. Benchmarks use it against any PinStore (the page
// store included).
func BuildPinDAG(t testing.TB, k Kit, st PinStore, total, depth int) (*plan.Pin, int) {
	t.Helper()
	perLink := (total - depth - 1) / depth
	count := 0
	put := func(v plan.Value) *plan.Pin {
		p, err := st.Put(v)
		if err != nil {
			t.Fatal(err)
		}
		count++
		return p
	}
	// A tree of n pins: leaves are pinned nats, inner pins hold Cons of
	// two children.
	tree := func(seed, n int) *plan.Pin {
		level := make([]*plan.Pin, 0, (n+1)/2)
		made := 0
		for made < (n+1)/2 {
			level = append(level, put(plan.N(uint64(seed*1_000_003+made))))
			made++
		}
		for len(level) > 1 && made < n {
			var next []*plan.Pin
			for i := 0; i < len(level); i += 2 {
				if i+1 == len(level) || made >= n {
					next = append(next, level[i])
					continue
				}
				next = append(next, put(k.Cons(level[i], level[i+1])))
				made++
			}
			level = next
		}
		for len(level) > 1 {
			level = append([]*plan.Pin{put(k.Cons(level[0], level[1]))}, level[2:]...)
		}
		return level[0]
	}
	cur := put(k.Id)
	for i := 0; i < depth; i++ {
		extra := tree(i, perLink)
		cur = put(k.Forward(cur, extra))
	}
	return cur, count
}

// RunLazyPins is the lazy-faulting part of RunShared, exported so that it
// can run against any PinStore (the page store's adapter is in
// pagestore.go): a DAG of 100,000 stored pins, of which evaluating a result
// touches 11, must load at most 10 plus a small constant, and normalizing a
// value that merely holds a stored pin must load nothing.
func RunLazyPins(t *testing.T, e eval.Evaluator, k Kit) {
	newStore := k.NewStore
	if newStore == nil {
		newStore = NewMemStore
	}
	st := newStore(t)
	head, total := BuildPinDAG(t, k, st, 100_000, 10)
	before := st.Loads()
	r := mustEval(t, e, plan.A(head, k.Nat(5)), eval.Options{})
	wantEqual(t, r.Value, plan.N(5))
	loads := st.Loads() - before
	if loads > 10+3 {
		t.Fatalf("evaluating through 10 of %d pins loaded %d", total, loads)
	}
	if r.Stats.PinsLoaded != loads {
		t.Errorf("Stats.PinsLoaded = %d, loader saw %d", r.Stats.PinsLoaded, loads)
	}
	// A result that merely contains a stored pin does not load it.
	before = st.Loads()
	mustEval(t, e, k.Cons(head, head), eval.Options{})
	if n := st.Loads() - before; n != 0 {
		t.Fatalf("normalizing a value holding a pin loaded %d pins", n)
	}
}
