package torrent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"pstore/merkle"
	"pstore/pagestore"
	"pstore/plan"
)

// The multi-process test re-executes the test binary as a seeder process
// (PSTORE_TORRENT_SEEDER=dir): it builds a DAG into a page store in dir,
// seeds it on 127.0.0.1, prints "magnet addr" and serves until its stdin
// closes.
func TestMain(m *testing.M) {
	if dir := os.Getenv("PSTORE_TORRENT_SEEDER"); dir != "" {
		if err := seederProcess(dir); err != nil {
			fmt.Fprintln(os.Stderr, "seeder:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// processDAG is the DAG the seeder process serves: 3000 small pins and a
// 12 MiB nat.
func processDAG() *plan.Pin {
	return plan.P(plan.A(plan.N(9), treeDAG(3000, 31), natPin(randomBytes(12<<20, 31))))
}

func seederProcess(dir string) error {
	st, err := pagestore.Open(dir, pagestore.Options{Create: true, NoSync: true})
	if err != nil {
		return err
	}
	defer st.Close()
	root, err := st.PutPin(processDAG())
	if err != nil {
		return err
	}
	s, err := Seed(context.Background(), StoreAdapter{st}, []cid.Cid{root}, testConfig())
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Printf("%s %s\n", s.Magnets()[0], s.Addr())
	io.Copy(io.Discard, os.Stdin) // serve until the parent closes stdin
	return nil
}

func TestSeparateProcesses(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PSTORE_TORRENT_SEEDER="+t.TempDir())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("seeder process: %v", err)
	}
	fields := strings.Fields(line)
	if len(fields) != 2 {
		t.Fatalf("seeder printed %q", line)
	}
	magnet := fields[0]
	dst := openStore(t)
	st := fetchT(t, StoreAdapter{dst}, magnet) // the peer comes from the magnet's x.pe
	// Same CIDs: the root is the one this process computes for the DAG.
	want, err := merkle.CID(processDAG())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Root.Equals(want) {
		t.Fatalf("fetched root %s, want %s", st.Root, want)
	}
	n := checkDAG(t, nil, StoreAdapter{dst}, want)
	if err := dst.Verify(func(p error) { t.Errorf("verify: %v", p) }); err != nil {
		t.Fatal(err)
	}
	t.Logf("fetched %d pins, %d bytes from another process in %v (metadata %v)", n, st.Fetched, st.Duration, st.MetadataTime)
}
