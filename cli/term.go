package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// IsTerminal reports whether w is a terminal (progress bars only go to one).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// Progress prints a one-line progress indicator to stderr when stderr is a
// terminal and does nothing otherwise. Use it for work on inputs of more
// than a few MB.
type Progress struct {
	w     io.Writer
	on    bool
	what  string
	total int64
	start time.Time
	last  time.Time
	shown bool
}

// NewProgress returns a progress line for work on total bytes (0 if
// unknown). It is silent unless stderr is a terminal and total is at least
// minBytes.
func NewProgress(env *Env, what string, total, minBytes int64) *Progress {
	on := IsTerminal(env.Stderr) && total >= minBytes
	return &Progress{w: env.Stderr, on: on, what: what, total: total, start: time.Now()}
}

// Update shows done bytes, at most ten times a second.
func (p *Progress) Update(done int64) {
	if !p.on {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done < p.total {
		return
	}
	p.last = now
	p.shown = true
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(done) / el / 1e6
	}
	if p.total > 0 {
		fmt.Fprintf(p.w, "\r%s: %6.1f%%  %d / %d MB  %.0f MB/s ", p.what, 100*float64(done)/float64(p.total), done>>20, p.total>>20, rate)
	} else {
		fmt.Fprintf(p.w, "\r%s: %d MB  %.0f MB/s ", p.what, done>>20, rate)
	}
}

// Phase names a step that has no byte count.
func (p *Progress) Phase(what string) {
	if !p.on {
		return
	}
	p.shown = true
	fmt.Fprintf(p.w, "\r%s: %s...%20s", p.what, what, "")
}

// Done ends the line.
func (p *Progress) Done() {
	if p.on && p.shown {
		fmt.Fprintf(p.w, "\r%s: done in %.1fs%30s\n", p.what, time.Since(p.start).Seconds(), "")
	}
}
