// Package killtest runs one of a test binary's own tests as a child
// process and kills it with SIGKILL at a chosen moment. The crash tests of
// pagestore and db use it: the child prints what it has acknowledged, and
// the parent checks after the kill that all of it survived.
//
// It is a test helper, not part of pstore's API.
package killtest

import (
	"bufio"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options describe one run of the child.
type Options struct {
	// Test is the child test's name; it runs alone (-test.run=^Test$).
	Test string
	// Env is added to the parent's environment: it is how a child test
	// knows that it was started as one.
	Env []string
	// WaitReady starts the delay when the child prints the line "ready"
	// (or after 30 s without it), rather than when it is started, so
	// that kills land where the child does its work even on a machine
	// slow to start processes.
	WaitReady bool
	// Delay is how long the child runs before it is killed.
	Delay time.Duration
}

// readyTimeout bounds the wait for "ready".
const readyTimeout = 30 * time.Second

// Run starts the child, kills it after the delay, waits for it and
// returns every line it printed to standard output. The last line may be
// torn by the kill.
func Run(t testing.TB, o Options) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+o.Test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), o.Env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		lines []string
	)
	ready := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(out)
		said := false
		for sc.Scan() {
			if sc.Text() == "ready" && !said {
				close(ready)
				said = true
			}
			lines = append(lines, sc.Text())
		}
	}()
	if o.WaitReady {
		select {
		case <-ready:
		case <-time.After(readyTimeout):
		}
	}
	time.Sleep(o.Delay)
	cmd.Process.Signal(syscall.SIGKILL)
	wg.Wait()
	cmd.Wait()
	return lines
}
