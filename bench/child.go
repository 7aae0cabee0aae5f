package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// runChild runs one suite in a fresh `pstore bench SUITE` process and
// merges its figures into the report. A crash there (a panic in a library
// goroutine cannot be recovered) costs that suite only, and a fresh
// process carries no in-process cache from the suites before it.
func (r *runner) runChild(s Suite) error {
	childOut := filepath.Join(r.work, "child-"+s.Name)
	if err := os.RemoveAll(childOut); err != nil {
		return err
	}
	args := []string{"bench", s.Name, "--out", childOut, "--runs", strconv.Itoa(r.runs),
		"--workdir", filepath.Join(r.work, s.Name), "--in-process"}
	switch r.mode {
	case Quick:
		args = append(args, "--quick")
	case Tiny:
		args = append(args, "--tiny")
	}
	if r.cfg.Big {
		args = append(args, "--big")
	}
	cmd := exec.CommandContext(r.ctx, r.cfg.Executable, args...)
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	// Forward the child's progress and keep its last lines for the error,
	// reading to the end before Wait (which closes the pipe).
	var tail []string
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "bench ") && r.cfg.Progress != nil {
			fmt.Fprintf(r.cfg.Progress, "  (child) %s\n", line)
		}
		tail = append(tail, line)
		if len(tail) > 400 {
			tail = tail[len(tail)-200:]
		}
	}
	waitErr := cmd.Wait()
	js, rerr := os.ReadFile(filepath.Join(childOut, "results.json"))
	if rerr != nil {
		if waitErr == nil {
			waitErr = rerr
		}
		return fmt.Errorf("child process: %w%s", waitErr, crashLine(tail))
	}
	var child Report
	if err := json.Unmarshal(js, &child); err != nil {
		return fmt.Errorf("child results: %w", err)
	}
	for _, f := range child.Figures {
		f.Command = r.cfg.Command
		f.Notes = append(f.Notes, "measured in a child process (pstore bench "+s.Name+")")
		r.rep.Figures = append(r.rep.Figures, f)
	}
	if len(child.Errors) > 0 {
		return errors.New(strings.Join(child.Errors, "; "))
	}
	return nil
}

// crashLine picks the panic message and the frame that raised it from a
// crashed child's stderr.
func crashLine(tail []string) string {
	for i, l := range tail {
		if strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") {
			msg := l
			for j := i + 1; j < len(tail) && j < i+6; j++ {
				t := strings.TrimSpace(tail[j])
				if strings.Contains(t, "(") && !strings.HasPrefix(t, "goroutine") && !strings.HasPrefix(t, "panic(") {
					msg += " in " + t
					break
				}
			}
			return " (" + msg + ")"
		}
	}
	if n := len(tail); n > 0 {
		return " (" + tail[n-1] + ")"
	}
	return ""
}
