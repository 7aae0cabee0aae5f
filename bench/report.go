package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// WriteReport writes results.json, report.md and one SVG chart per figure
// into dir.
func WriteReport(rep *Report, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range rep.Figures {
		if len(f.Series) == 0 {
			continue
		}
		name := f.ID + ".svg"
		if err := WriteChart(f, filepath.Join(dir, name)); err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("chart %s: %v", f.ID, err))
			continue
		}
		f.Chart = name
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(Markdown(rep)), 0o644)
}

// ---- numbers -----------------------------------------------------------

// fmtNum prints v with three significant digits.
func fmtNum(v float64) string {
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func fmtRatio(r float64) string {
	if r == 0 {
		return ""
	}
	if r >= 100 {
		return fmt.Sprintf("%.0fx", r)
	}
	if r >= 10 {
		return fmt.Sprintf("%.1fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}

func (f *Figure) xName(p Point) string {
	if f.Categorical || p.Label != "" {
		return p.Label
	}
	return fmtNum(p.X) + " " + f.XUnit
}

// xs returns the figure's distinct x positions (with labels) in order.
func (f *Figure) xs() []Point {
	var out []Point
	for _, s := range f.Series {
		for _, p := range s.Points {
			dup := false
			for _, q := range out {
				if q.X == p.X && q.Label == p.Label {
					dup = true
				}
			}
			if !dup {
				out = append(out, Point{X: p.X, Label: p.Label})
			}
		}
	}
	return out
}

func (s *Series) at(x Point) (Point, bool) {
	for _, p := range s.Points {
		if p.X == x.X && p.Label == x.Label {
			return p, true
		}
	}
	return Point{}, false
}

// ---- markdown ------------------------------------------------------------

// Markdown renders the report.
func Markdown(rep *Report) string {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "# pstore bench report\n\n")
	fmt.Fprintf(&b, "- command: `%s`\n- mode: %s, started %s, took %.0f s\n", rep.Command, rep.Mode, rep.Started.Format("2006-01-02 15:04:05 UTC"), rep.Duration)
	fmt.Fprintf(&b, "- machine: %s, %d cores, %.1f GB RAM, %s, Linux %s, %s\n", m.CPU, m.Cores, m.MemGB, m.OS, m.Kernel, m.GoVersion)
	fmt.Fprintf(&b, "- load average (1 min) at start %.2f, at end %.2f", m.Load1Start, m.Load1End)
	if math.Max(m.Load1Start, m.Load1End) > float64(m.Cores) {
		fmt.Fprintf(&b, " (above the core count: other work shared the machine, so times are pessimistic)")
	}
	fmt.Fprintf(&b, "\n- every figure: median over the runs, with min and max; ratio = system / pstore (above 1 means pstore is lower)\n")
	fmt.Fprintf(&b, "- nothing is cached between runs unless the figure says warm; cold runs drop the store's files from the page cache with posix_fadvise(DONTNEED) and reopen the store\n\n")
	fmt.Fprintf(&b, "## Systems\n\n")
	for _, s := range rep.Systems {
		fmt.Fprintf(&b, "- **%s**: %s\n", s.Name, s.Desc)
	}
	if len(rep.Errors) > 0 {
		fmt.Fprintf(&b, "\n## Errors\n\n")
		for _, e := range rep.Errors {
			fmt.Fprintf(&b, "- %s\n", e)
		}
	}
	fmt.Fprintf(&b, "\n## Summary\n\n```\n%s```\n", SummaryTable(rep))
	suite := ""
	for _, f := range rep.Figures {
		if f.Suite != suite {
			suite = f.Suite
			fmt.Fprintf(&b, "\n## Suite `%s`: %s\n", suite, SuiteDesc(suite))
		}
		fmt.Fprintf(&b, "\n### %s\n\n", f.Title)
		if f.Chart != "" {
			fmt.Fprintf(&b, "![%s](%s)\n\n", f.Title, f.Chart)
		}
		fmt.Fprintf(&b, "%s in %s (%s is better); %d run(s) per point; %s.\n\n", f.YLabel, f.YUnit, f.Better, f.Runs, f.Cache)
		for _, n := range f.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		if len(f.Notes) > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "| %s |", strings.TrimSpace(f.XLabel))
		for _, s := range f.Series {
			fmt.Fprintf(&b, " %s |", s.System)
		}
		b.WriteString("\n|---|")
		for range f.Series {
			b.WriteString("---|")
		}
		b.WriteString("\n")
		for _, x := range f.xs() {
			fmt.Fprintf(&b, "| %s |", f.xName(x))
			for _, s := range f.Series {
				p, ok := s.at(x)
				if !ok || p.N == 0 {
					b.WriteString(" n/a |")
					continue
				}
				fmt.Fprintf(&b, " %s (%s–%s)", fmtNum(p.Median), fmtNum(p.Min), fmtNum(p.Max))
				if p.Ratio != 0 {
					fmt.Fprintf(&b, " **%s**", fmtRatio(p.Ratio))
				}
				b.WriteString(" |")
			}
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "\nMachine and command are recorded with every figure in results.json.\n")
	return b.String()
}

// SummaryTable is one line per figure and x: pstore's median, then every
// other series' median with its ratio to pstore.
func SummaryTable(rep *Report) string {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "figure\tat\tunit\tbetter\tpstore\tothers: median (system/pstore)\n")
	for _, f := range rep.Figures {
		xs := f.xs()
		if !f.Categorical && len(xs) > 2 {
			// The smallest and the largest size tell the trend.
			xs = []Point{xs[0], xs[len(xs)-1]}
		}
		for _, x := range xs {
			ps := "-"
			var others []string
			for _, s := range f.Series {
				p, ok := s.at(x)
				if !ok || p.N == 0 {
					continue
				}
				if s.System == "pstore" {
					ps = fmtNum(p.Median)
					continue
				}
				o := s.System + " " + fmtNum(p.Median)
				if p.Ratio != 0 {
					o += " (" + fmtRatio(p.Ratio) + ")"
				}
				others = append(others, o)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.xName(x), f.YUnit, f.Better, ps, strings.Join(others, ", "))
		}
	}
	tw.Flush()
	return buf.String()
}

// ---- charts ----------------------------------------------------------------

type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// WriteChart draws a figure as an SVG: log-log lines (one per system, with
// min-max error bars) against x, or for categorical figures points per
// category on a log y axis.
func WriteChart(f *Figure, path string) error {
	p := plot.New()
	p.Title.Text = wrap(f.Title, 64)
	p.Y.Label.Text = fmt.Sprintf("%s (%s)", f.YLabel, f.YUnit)
	if f.Categorical {
		p.X.Label.Text = f.XLabel
	} else {
		p.X.Label.Text = fmt.Sprintf("%s (%s), log scale", f.XLabel, f.XUnit)
	}
	p.Y.Label.Text += ", log scale"
	p.Legend.Top = true
	p.Legend.XOffs = -vg.Points(6)
	p.Legend.YOffs = -vg.Points(4)
	p.Add(plotter.NewGrid())

	// Log axes cannot show zero: non-positive values are drawn at a floor
	// a decade below the smallest positive value (the table has the truth).
	minPos := math.Inf(1)
	for _, s := range f.Series {
		for _, pt := range s.Points {
			for _, v := range []float64{pt.Min, pt.Median, pt.Max} {
				if v > 0 && v < minPos {
					minPos = v
				}
			}
		}
	}
	if math.IsInf(minPos, 1) {
		minPos = 1
	}
	floor := minPos / 10
	clamp := func(v float64) float64 {
		if v <= 0 || math.IsNaN(v) {
			return floor
		}
		return v
	}

	xs := f.xs()
	catIndex := func(pt Point) float64 {
		for i, x := range xs {
			if x.X == pt.X && x.Label == pt.Label {
				return float64(i)
			}
		}
		return 0
	}
	nSeries := len(f.Series)
	for i, s := range f.Series {
		if len(s.Points) == 0 {
			continue
		}
		ep := errPoints{XYs: make(plotter.XYs, len(s.Points)), YErrors: make(plotter.YErrors, len(s.Points))}
		for j, pt := range s.Points {
			x := pt.X
			if f.Categorical {
				x = catIndex(pt) + (float64(i)-float64(nSeries-1)/2)*0.12
			}
			y := clamp(pt.Median)
			ep.XYs[j] = plotter.XY{X: x, Y: y}
			ep.YErrors[j].Low = y - clamp(pt.Min)
			ep.YErrors[j].High = clamp(pt.Max) - y
		}
		c := plotutil.Color(i)
		sc, err := plotter.NewScatter(ep.XYs)
		if err != nil {
			return err
		}
		sc.GlyphStyle.Color = c
		sc.GlyphStyle.Shape = plotutil.Shape(i)
		sc.GlyphStyle.Radius = vg.Points(3)
		eb, err := plotter.NewYErrorBars(ep)
		if err != nil {
			return err
		}
		eb.LineStyle.Color = c
		eb.CapWidth = vg.Points(4)
		p.Add(eb, sc)
		if !f.Categorical && len(s.Points) > 1 {
			ln, err := plotter.NewLine(ep.XYs)
			if err != nil {
				return err
			}
			ln.LineStyle.Color = c
			ln.LineStyle.Width = vg.Points(1.5)
			ln.LineStyle.Dashes = plotutil.Dashes(i)
			p.Add(ln)
			p.Legend.Add(s.System, ln, sc)
		} else {
			p.Legend.Add(s.System, sc)
		}
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	if f.Categorical {
		names := make([]string, len(xs))
		for i, x := range xs {
			// "name (size)" on two lines, so neighbours do not overlap.
			names[i] = strings.Replace(x.Label, " (", "\n(", 1)
		}
		p.NominalX(names...)
		p.X.Min, p.X.Max = -0.5, float64(len(xs))-0.5
	} else {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
		if p.X.Min <= 0 {
			p.X.Min = floorPos(xs)
		}
		if p.X.Min == p.X.Max {
			p.X.Min, p.X.Max = p.X.Min/2, p.X.Max*2
		} else {
			// A little room so end points are not on the frame.
			p.X.Min, p.X.Max = p.X.Min/1.3, p.X.Max*1.3
		}
	}
	if p.Y.Min <= 0 {
		p.Y.Min = floor
	}
	if p.Y.Min == p.Y.Max {
		p.Y.Min, p.Y.Max = p.Y.Min/2, p.Y.Max*2
	} else {
		p.Y.Min, p.Y.Max = p.Y.Min/1.5, p.Y.Max*4 // room for the legend
	}
	w := 7 * vg.Inch
	if f.Categorical {
		w = max(w, vg.Length(2.2*float64(len(xs)))*vg.Inch)
	}
	return p.Save(w, 4.5*vg.Inch, path)
}

// wrap breaks s into lines of at most n bytes at spaces.
func wrap(s string, n int) string {
	var lines []string
	for len(s) > n {
		i := strings.LastIndexByte(s[:n], ' ')
		if i <= 0 {
			break
		}
		lines = append(lines, s[:i])
		s = s[i+1:]
	}
	return strings.Join(append(lines, s), "\n")
}

// LoadReport reads a results.json written by WriteReport.
func LoadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &rep, nil
}

func floorPos(xs []Point) float64 {
	m := math.Inf(1)
	for _, x := range xs {
		if x.X > 0 && x.X < m {
			m = x.X
		}
	}
	if math.IsInf(m, 1) {
		return 1
	}
	return m
}

// logTicks labels 1, 2 and 5 times each power of ten (plot.LogTicks labels
// only the powers, which leaves a narrow range unlabelled), with minor
// ticks at the other integers.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= min {
		return nil
	}
	var ticks []plot.Tick
	lo := math.Floor(math.Log10(min))
	hi := math.Ceil(math.Log10(max))
	decades := hi - lo
	for e := lo; e <= hi; e++ {
		base := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * base
			if v < min || v > max {
				continue
			}
			label := ""
			if m == 1 || (decades <= 3 && (m == 2 || m == 5)) {
				label = tickLabel(v)
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: label})
		}
	}
	return ticks
}

func tickLabel(v float64) string {
	switch {
	case v >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 3, 64) + "G"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
