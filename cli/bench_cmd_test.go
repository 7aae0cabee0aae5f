package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchQuickTiny runs `pstore bench --quick` on tiny sizes through Main,
// in process, so the harness cannot rot: every suite runs with every
// system, and report.md, results.json and one parseable SVG per figure come
// out.
func TestBenchQuickTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every bench suite (about 15 s)")
	}
	out := filepath.Join(t.TempDir(), "report")
	getenv := func(k string) string {
		if k == "PSTORE_BENCH_TINY" {
			return "1"
		}
		return os.Getenv(k)
	}
	var stdout, stderr bytes.Buffer
	// --in-process: the test binary is not pstore, so no child processes.
	code := Main(context.Background(), []string{"bench", "--quick", "--runs", "1", "--out", out, "--in-process"}, strings.NewReader(""), &stdout, &stderr, getenv)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "[snapshot] start") || !strings.Contains(stderr.String(), "[torrent] done") {
		t.Errorf("no progress on stderr:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "snapshot-bytes-written") || !strings.Contains(stdout.String(), "report.md") {
		t.Errorf("no summary table on stdout:\n%s", stdout.String())
	}

	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Command string
		Mode    string
		Machine struct {
			CPU       string `json:"cpu"`
			Cores     int    `json:"cores"`
			GoVersion string `json:"go_version"`
		}
		Errors  []string
		Figures []struct {
			ID      string
			Suite   string
			Chart   string
			Command string
			Runs    int
			Series  []struct {
				System string
				Points []struct {
					N      int
					Median float64
					Min    float64
					Max    float64
					Ratio  float64
				}
			}
		}
	}
	if err := json.Unmarshal(js, &rep); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if rep.Mode != "tiny" || !strings.Contains(rep.Command, "pstore bench") || !strings.Contains(rep.Command, "--quick") || rep.Machine.Cores == 0 || rep.Machine.GoVersion == "" {
		t.Errorf("run description incomplete: mode %q command %q machine %+v", rep.Mode, rep.Command, rep.Machine)
	}
	if len(rep.Errors) > 0 {
		t.Errorf("errors: %v", rep.Errors)
	}
	suites := map[string]bool{}
	systems := map[string]bool{}
	for _, f := range rep.Figures {
		suites[f.Suite] = true
		if f.Command != rep.Command || f.Runs < 1 {
			t.Errorf("figure %s: command %q runs %d", f.ID, f.Command, f.Runs)
		}
		for _, s := range f.Series {
			systems[s.System] = true
			for _, p := range s.Points {
				if p.N == 0 || p.Min > p.Median || p.Median > p.Max {
					t.Errorf("figure %s %s: bad point %+v", f.ID, s.System, p)
				}
				if s.System != "pstore" && f.Suite == "load" && f.ID == "load-cold" && p.Ratio == 0 {
					t.Errorf("figure %s %s: no ratio to pstore", f.ID, s.System)
				}
			}
		}
		if f.Chart == "" {
			t.Errorf("figure %s has no chart", f.ID)
			continue
		}
		svg, err := os.ReadFile(filepath.Join(out, f.Chart))
		if err != nil {
			t.Fatal(err)
		}
		if err := checkXML(svg); err != nil {
			t.Errorf("%s: not well-formed XML: %v", f.Chart, err)
		}
		if !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("%s: not an SVG", f.Chart)
		}
		if !bytes.Contains(md, []byte("]("+f.Chart+")")) {
			t.Errorf("report.md does not embed %s", f.Chart)
		}
	}
	for _, s := range []string{"snapshot", "load", "codec", "put-get", "eval", "torrent"} {
		if !suites[s] {
			t.Errorf("no figure from suite %s", s)
		}
	}
	for _, s := range []string{"pstore", "lmdb", "bbolt", "flatfs", "fullsnap"} {
		if !systems[s] {
			t.Errorf("no series for system %s", s)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "work")); !os.IsNotExist(err) {
		t.Errorf("work directory left behind: %v", err)
	}

	// --replot redraws the report; with --json it prints it as JSON.
	stdout.Reset()
	stderr.Reset()
	if code := Main(context.Background(), []string{"bench", "--replot", out, "--json"}, strings.NewReader(""), &stdout, &stderr, getenv); code != 0 {
		t.Fatalf("replot: exit %d: %s", code, stderr.String())
	}
	var replot struct{ Figures []json.RawMessage }
	if err := json.Unmarshal(stdout.Bytes(), &replot); err != nil || len(replot.Figures) != len(rep.Figures) {
		t.Errorf("replot --json: %d figures, %v:\n%s", len(replot.Figures), err, stdout.String())
	}
}

func TestBenchUnknownSuite(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"bench", "nosuch", "--out", t.TempDir()}, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
	if code != ExitUsage || !strings.Contains(stderr.String(), "unknown suite") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

// checkXML parses b completely.
func checkXML(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
