package bench

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Machine describes where a run happened.
type Machine struct {
	CPU       string  `json:"cpu"`
	Cores     int     `json:"cores"`
	GoVersion string  `json:"go_version"`
	OS        string  `json:"os"`
	Kernel    string  `json:"kernel"`
	MemGB     float64 `json:"mem_gb"`
	// Load1Start/End are the 1-minute load averages at the start and end
	// of the run: above the core count means other work shared the CPU.
	Load1Start float64 `json:"load1_start"`
	Load1End   float64 `json:"load1_end"`
}

// ReadMachine fills in what it can; missing facts are left empty.
func ReadMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			m.MemGB = math.Round(kb/1024/1024*10) / 10
		}
	}
	m.Load1Start = load1()
	return m
}

func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// Stat is the summary of repeated measurements.
type Stat struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	N      int       `json:"n"`
	Values []float64 `json:"values"`
}

// Summarize returns the median, min and max of vs (the median of an even
// count is the mean of the middle two).
func Summarize(vs []float64) Stat {
	s := Stat{N: len(vs), Values: append([]float64(nil), vs...)}
	if len(vs) == 0 {
		return s
	}
	c := append([]float64(nil), vs...)
	sort.Float64s(c)
	s.Min, s.Max = c[0], c[len(c)-1]
	if len(c)%2 == 1 {
		s.Median = c[len(c)/2]
	} else {
		s.Median = (c[len(c)/2-1] + c[len(c)/2]) / 2
	}
	return s
}

// Point is one x value of one system's series.
type Point struct {
	X     float64 `json:"x"`
	Label string  `json:"label,omitempty"` // categorical figures: the bar's name
	Stat
	// Ratio is this system's median divided by pstore's at the same x (0
	// when pstore has no value there or this is pstore).
	Ratio float64 `json:"ratio,omitempty"`
	Note  string  `json:"note,omitempty"`
}

// Series is one system's line.
type Series struct {
	System string  `json:"system"`
	Points []Point `json:"points"`
}

// Figure is one measured quantity, for every system, against one x.
type Figure struct {
	ID    string `json:"id"` // file-name safe, e.g. "load-cold-open-get"
	Suite string `json:"suite"`
	Title string `json:"title"`
	// Y is what is measured and its unit ("latency", "ms").
	YLabel string `json:"y_label"`
	YUnit  string `json:"y_unit"`
	// X is what the series run against ("store size", "MB"). Categorical
	// figures (codec inputs, eval workloads) have Categorical set and
	// label their points instead.
	XLabel      string `json:"x_label"`
	XUnit       string `json:"x_unit"`
	Categorical bool   `json:"categorical,omitempty"`
	// Better is "lower" or "higher".
	Better string `json:"better"`
	// Warm is true when the OS page cache was left warm between runs;
	// otherwise the store's files were dropped from it before each run.
	Warm bool `json:"warm"`
	// Cache says in words what was cached ("cold: ..." / "warm: ...").
	Cache   string   `json:"cache"`
	Runs    int      `json:"runs"`
	Notes   []string `json:"notes,omitempty"`
	Series  []Series `json:"series"`
	Command string   `json:"command"`
	Machine Machine  `json:"machine"`
	Chart   string   `json:"chart,omitempty"` // SVG file name
}

// add appends a point to the system's series, creating it.
func (f *Figure) add(system string, p Point) {
	for i := range f.Series {
		if f.Series[i].System == system {
			f.Series[i].Points = append(f.Series[i].Points, p)
			return
		}
	}
	f.Series = append(f.Series, Series{System: system, Points: []Point{p}})
}

// Add records the measurements vs of system at x.
func (f *Figure) Add(system string, x float64, vs []float64) {
	f.add(system, Point{X: x, Stat: Summarize(vs)})
}

// AddLabel records the measurements of a categorical point.
func (f *Figure) AddLabel(system, label string, x float64, vs []float64) {
	f.add(system, Point{X: x, Label: label, Stat: Summarize(vs)})
}

// computeRatios fills Point.Ratio against pstore at the same x/label.
func (f *Figure) computeRatios() {
	var base *Series
	for i := range f.Series {
		if f.Series[i].System == "pstore" {
			base = &f.Series[i]
		}
	}
	if base == nil {
		return
	}
	for i := range f.Series {
		s := &f.Series[i]
		if s.System == "pstore" || strings.HasPrefix(s.System, "pstore-") {
			continue // pstore's own diagnostics are not compared with it
		}
		for j := range s.Points {
			p := &s.Points[j]
			for _, b := range base.Points {
				if b.X == p.X && b.Label == p.Label && b.N > 0 && p.N > 0 && b.Median != 0 {
					p.Ratio = p.Median / b.Median
				}
			}
		}
	}
}

// Report is a whole run.
type Report struct {
	Started  time.Time `json:"started"`
	Duration float64   `json:"duration_s"`
	Command  string    `json:"command"`
	Mode     string    `json:"mode"` // "quick", "full", "tiny"
	Machine  Machine   `json:"machine"`
	Systems  []SysDesc `json:"systems"`
	Suites   []string  `json:"suites"`
	Figures  []*Figure `json:"figures"`
	Errors   []string  `json:"errors,omitempty"`
}

// SysDesc names a system in the report.
type SysDesc struct {
	Name string `json:"name"`
	Desc string `json:"desc"`
}
