package pagestore

import (
	"encoding/hex"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"pstore/internal/killtest"
	"pstore/merkle"
	"pstore/plan"
)

// The crash tests re-run this test binary as a writer child
// (TestCrashChild, selected by PSTORE_CRASH_DIR) that commits random
// batches and prints "ok <digest>" for each pin after Commit returns; the
// parent kills it with SIGKILL at a random moment, reopens the store and
// checks that every acknowledged pin is there and verifies.
//
// PSTORE_CRASH_ROUNDS overrides the number of kills (default 50, plus 8
// with GC running).

func TestCrashChild(t *testing.T) {
	dir := os.Getenv("PSTORE_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestCrash")
	}
	gc := os.Getenv("PSTORE_CRASH_GC") != ""
	seed, _ := strconv.ParseInt(os.Getenv("PSTORE_CRASH_SEED"), 10, 64)
	r := rand.New(rand.NewSource(seed))
	s, err := Open(dir, Options{Create: true, SegmentSize: 4 << 20})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	os.Stdout.WriteString("ready\n")
	var head *plan.Pin
	if d, err := s.Ref("head"); err == nil {
		head = plan.NewPinRef(d, s)
	}
	for i := 0; ; i++ {
		b := s.NewBatch()
		var leaves []plan.Value
		var acked []plan.Digest
		for j := r.Intn(20); j >= 0; j-- {
			n := 1 + r.Intn(2000)
			if r.Intn(20) == 0 {
				n = LargeThreshold + r.Intn(512<<10)
			}
			p := plan.P(plan.A(plan.N(uint64(i)), plan.NatFromBytes(append(randBytes(r, n), 1))))
			c, err := b.PutPin(p)
			if err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			d, _ := merkle.DigestOf(c)
			acked = append(acked, d)
			leaves = append(leaves, p)
		}
		if gc {
			// Keep everything acknowledged reachable from "head"; add
			// garbage for GC to reclaim.
			var prev plan.Value = plan.N(0)
			if head != nil {
				prev = head
			}
			head = plan.P(plan.A(prev, leaves...))
			c, err := b.PutPin(head)
			if err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			d, _ := merkle.DigestOf(c)
			b.SetRef("head", d)
			acked = append(acked, d)
			g := randBytes(r, 5000)
			b.PutBody(merkle.HashBytes(g), g)
		}
		// Pages stored alone (Batch.PutPage) go through the same commit:
		// acknowledged ones must survive a crash; with GC they are garbage
		// (no body lists them) and must be reclaimed without harm.
		if r.Intn(3) == 0 {
			pg := randBytes(r, 1+r.Intn(PageMax))
			pd := merkle.HashBytes(pg)
			if err := b.PutPage(pd, pg); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			if !gc {
				acked = append(acked, pd)
			}
		}
		if err := b.Commit(); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		var sb strings.Builder
		for _, d := range acked {
			sb.WriteString("ok " + hex.EncodeToString(d[:]) + "\n")
		}
		os.Stdout.WriteString(sb.String())
		if gc && i%2 == 1 {
			if _, err := s.GC(); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			os.Stdout.WriteString("gc\n")
		}
	}
}

func runCrashRounds(t *testing.T, rounds int, gc bool) {
	dir := t.TempDir()
	var acked []plan.Digest
	r := rand.New(rand.NewSource(time.Now().UnixNano()))
	seed := r.Int63()
	t.Logf("seed %d", seed)
	gcs := 0
	// Create the store first: a child killed before its Open finished
	// would otherwise leave no store to reopen.
	s0, err := Open(dir, Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	s0.Close()
	for round := 0; round < rounds; round++ {
		env := []string{"PSTORE_CRASH_DIR=" + dir, fmt.Sprintf("PSTORE_CRASH_SEED=%d", seed+int64(round))}
		if gc {
			env = append(env, "PSTORE_CRASH_GC=1")
		}
		// The delay starts once the child has opened the store (and run
		// recovery), except in one round in five, which also kills
		// children during Open and recovery (which must be idempotent).
		waitReady := r.Intn(5) != 0
		delay := 20 + r.Intn(150)
		if gc {
			delay = 50 + r.Intn(400)
		}
		lines := killtest.Run(t, killtest.Options{
			Test:      "TestCrashChild",
			Env:       env,
			WaitReady: waitReady,
			Delay:     time.Duration(delay) * time.Millisecond,
		})
		for _, l := range lines {
			switch {
			case strings.HasPrefix(l, "ok "):
				var d plan.Digest
				if _, err := hex.Decode(d[:], []byte(l[3:])); err != nil {
					t.Fatalf("child said %q", l)
				}
				acked = append(acked, d)
			case l == "gc":
				gcs++
			case strings.HasPrefix(l, "error"):
				t.Fatalf("round %d: child: %s", round, l)
			}
		}
		// Reopen as the writer (recovery runs) and check.
		s, err := Open(dir, Options{Wait: 5 * time.Second})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		// Every acknowledged pin is read back and re-hashed; the full
		// Verify (which re-hashes the whole store) runs every 5th round and
		// at the end, to keep the test fast.
		for _, d := range acked {
			b, err := s.Body(d)
			if err != nil {
				t.Fatalf("round %d: acknowledged pin %s: %v", round, merkle.CIDOf(d), err)
			}
			if merkle.HashBytes(b) != d {
				t.Fatalf("round %d: pin %s: wrong bytes", round, merkle.CIDOf(d))
			}
		}
		if round%5 == 4 || round == rounds-1 {
			if err := s.Verify(func(p error) { t.Errorf("round %d: %v", round, p) }); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		s.Close()
	}
	t.Logf("%d rounds, %d acknowledged pins, %d GCs completed; recovery cut the active segment %d times and undid %d index slots",
		rounds, len(acked), gcs, truncations.Load(), undoneSlots.Load())
	if len(acked) == 0 {
		t.Fatal("the child never committed")
	}
}

func crashRounds(def int) int {
	if n, err := strconv.Atoi(os.Getenv("PSTORE_CRASH_ROUNDS")); err == nil {
		return n
	}
	return def
}

func TestCrash(t *testing.T) {
	if os.Getenv("PSTORE_CRASH_DIR") != "" {
		t.Skip("in the child")
	}
	runCrashRounds(t, crashRounds(50), false)
}

func TestCrashDuringGC(t *testing.T) {
	if os.Getenv("PSTORE_CRASH_DIR") != "" {
		t.Skip("in the child")
	}
	runCrashRounds(t, max(10, crashRounds(50)/5), true)
}
