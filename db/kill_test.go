package db

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pstore/internal/killtest"
	"pstore/pagestore"
	"pstore/plan"
)

const killEnvDir, killEnvRound = "PSTORE_DB_KILL_DIR", "PSTORE_DB_KILL_ROUND"

// TestKillChild is the child of TestKillDurability: it is skipped unless
// the parent started it. It opens (or creates) database "k", whose state
// is the list of its accepted inputs, and sends inputs from 4 goroutines,
// printing each acknowledgment after Send returns:
//
//	ack EVENT INPUT OUTPUT     accepted
//	rej EVENT INPUT            rejected (logged)
func TestKillChild(t *testing.T) {
	dir := os.Getenv(killEnvDir)
	if dir == "" {
		t.Skip("run by TestKillDurability")
	}
	round, _ := strconv.Atoi(os.Getenv(killEnvRound))
	ctx := context.Background()
	st, err := pagestore.Open(dir, pagestore.Options{Create: true, Wait: 20 * time.Second})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	d, err := Open(ctx, st, "k")
	if errors.Is(err, ErrNotFound) {
		d, err = Create(ctx, st, "k", mustParse(t, echoPallas), CreateOptions{SnapshotEvery: 40})
	}
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	print := func(s string) {
		mu.Lock()
		os.Stdout.WriteString(s)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				n := uint64(round)*1_000_000 + uint64(g)*100_000 + uint64(i)
				var in plan.Value = plan.N(n)
				if i%7 == 3 {
					in = plan.A(plan.N(5), plan.N(n)) // crashes: rejected
				}
				out, ev, err := d.Send(ctx, in)
				var rej *RejectedError
				switch {
				case err == nil:
					print(fmt.Sprintf("ack %d %d %s\n", ev, n, plan.String(out)))
				case errors.As(err, &rej):
					print(fmt.Sprintf("rej %d %d\n", ev, n))
				default:
					print(fmt.Sprintf("error %v\n", err))
					return
				}
			}
		}()
	}
	wg.Wait()
	os.Exit(1)
}

type ack struct {
	event    uint64
	input    uint64
	rejected bool
	output   string
}

func TestKillDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	dir := t.TempDir()
	rounds := 30
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	seed := rng.Int63()
	rng.Seed(seed)
	t.Logf("seed %d", seed)
	var all []ack
	totalAcked := 0
	for round := 1; round <= rounds; round++ {
		// Kill at a random moment: sometimes before or during recovery,
		// mostly while inputs are being committed.
		delay := time.Duration(rng.Intn(120)+5) * time.Millisecond
		if round%5 == 0 {
			delay = time.Duration(rng.Intn(15)) * time.Millisecond
		}
		lines := killtest.Run(t, killtest.Options{
			Test:  "TestKillChild",
			Env:   []string{killEnvDir + "=" + dir, killEnvRound + "=" + strconv.Itoa(round)},
			Delay: delay,
		})
		var acks []ack
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) == 0 {
				continue
			}
			switch f[0] {
			case "ack", "rej":
				if len(f) < 3 {
					continue // torn line at the kill
				}
				ev, err1 := strconv.ParseUint(f[1], 10, 64)
				in, err2 := strconv.ParseUint(f[2], 10, 64)
				if err1 != nil || err2 != nil {
					continue
				}
				a := ack{event: ev, input: in, rejected: f[0] == "rej"}
				if !a.rejected {
					if len(f) != 4 {
						continue
					}
					a.output = f[3]
				}
				acks = append(acks, a)
			case "error":
				t.Fatalf("round %d: child: %s", round, l)
			}
		}
		totalAcked += len(acks)
		all = append(all, acks...)
		checkAfterKill(t, dir, round, all)
	}
	t.Logf("%d rounds, %d acknowledged inputs", rounds, totalAcked)
	if totalAcked < rounds {
		t.Errorf("only %d inputs acknowledged in %d rounds", totalAcked, rounds)
	}
}

// checkAfterKill reopens the database and checks every acknowledged input
// against the log (event, input, outcome, output), that the log holds each
// input once and, per sender, a gapless prefix of what it sent (so nothing
// unacknowledged is half there), and that the state equals a fresh replay
// of exactly the logged accepted inputs.
func checkAfterKill(t *testing.T, dir string, round int, acks []ack) {
	t.Helper()
	ctx := context.Background()
	st, err := pagestore.Open(dir, pagestore.Options{Create: true, Wait: 20 * time.Second})
	if err != nil {
		t.Fatalf("round %d: reopening the store: %v", round, err)
	}
	defer st.Close()
	d, err := Open(ctx, st, "k")
	if errors.Is(err, ErrNotFound) && len(acks) == 0 {
		return // killed before the database was created
	}
	if err != nil {
		t.Fatalf("round %d: reopening the database: %v", round, err)
	}
	defer d.Close()
	logged := map[uint64]Entry{}
	seen := map[uint64]bool{}
	perSender := map[uint64]uint64{} // round*10+g -> inputs logged
	var next uint64 = 1
	for e, err := range d.Log(1) {
		if err != nil {
			t.Fatalf("round %d: reading the log: %v", round, err)
		}
		if e.Event != next {
			t.Fatalf("round %d: log event %d after %d", round, e.Event, next-1)
		}
		next++
		var n uint64
		switch in := e.Input.(type) {
		case plan.Nat:
			n, _ = in.Uint64()
		case *plan.App:
			n, _ = in.Args[len(in.Args)-1].(plan.Nat).Uint64()
		}
		if seen[n] {
			t.Fatalf("round %d: input %d logged twice", round, n)
		}
		seen[n] = true
		logged[e.Event] = e
		// Each sender sends its inputs one after another: the logged
		// inputs of one sender must be a gapless prefix 0, 1, 2, ...
		sender, i := n/100_000, n%100_000
		if i != perSender[sender] {
			t.Fatalf("round %d: sender %d: input %d logged after %d inputs", round, sender, i, perSender[sender])
		}
		perSender[sender]++
	}
	for _, a := range acks {
		e, ok := logged[a.event]
		if !ok {
			t.Fatalf("round %d: acknowledged event %d (input %d) is not in the log (%d events)", round, a.event, a.input, len(logged))
		}
		if a.rejected {
			if e.Outcome != Rejected {
				t.Fatalf("round %d: event %d acknowledged as rejected, logged %v", round, a.event, e.Outcome)
			}
			continue
		}
		if e.Outcome != Accepted || !plan.Equal(e.Input, plan.N(a.input)) || plan.String(e.Output) != a.output {
			t.Fatalf("round %d: event %d: acknowledged input %d -> %s, logged %s -> %s (%v)",
				round, a.event, a.input, a.output, plan.String(e.Input), plan.String(e.Output), e.Outcome)
		}
	}
	if _, err := d.ReplayVerify(ctx); err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
}
