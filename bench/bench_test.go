package bench

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"pstore/merkle"
	"pstore/plan"
)

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{5, 1, 3})
	if s.Median != 3 || s.Min != 1 || s.Max != 5 || s.N != 3 {
		t.Fatalf("odd: %+v", s)
	}
	s = Summarize([]float64{4, 1, 3, 10})
	if s.Median != 3.5 || s.Min != 1 || s.Max != 10 {
		t.Fatalf("even: %+v", s)
	}
	if s := Summarize(nil); s.N != 0 {
		t.Fatalf("empty: %+v", s)
	}
}

// Every system stores and returns the same state, across a reopen, and
// the by-digest ones hold exactly the DAG's bodies.
func TestSystemsRoundTrip(t *testing.T) {
	m := newPmap(newRand(1), 200)
	m2 := m.set(17, 99)
	for _, sys := range Systems() {
		t.Run(sys.Name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), sys.Name)
			st, err := sys.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := SaveState(st, m.root.pin); err != nil {
				t.Fatal(err)
			}
			n, err := SaveState(st, m2.root.pin)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := st.(StateSaver); !ok && n == 0 {
				t.Errorf("second snapshot put nothing")
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			if err := DropCache(dir); err != nil {
				t.Fatal(err)
			}
			st, err = sys.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if sl, ok := st.(StateLoader); ok {
				v, err := sl.LoadState()
				if err != nil {
					t.Fatal(err)
				}
				if v == nil {
					t.Fatal("no state")
				}
				return
			}
			// Walk m2's DAG from the store: every body is there and
			// verifies, and decodes to the in-memory pin's contents.
			stack := []*plan.Pin{m2.root.pin}
			count := 0
			for len(stack) > 0 {
				p := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				d, _ := merkle.Digest(p)
				body, err := st.Get(d)
				if err != nil {
					t.Fatal(err)
				}
				if err := merkle.Verify(merkle.CIDOf(d), body); err != nil {
					t.Fatal(err)
				}
				_, kids, _ := merkle.Body(p)
				stack = append(stack, kids...)
				count++
			}
			if count < 20 {
				t.Fatalf("only %d pins", count)
			}
			var missing plan.Digest
			missing[0] = 1
			if _, err := st.Get(missing); !errors.Is(err, ErrNotFound) {
				t.Fatalf("missing digest: %v", err)
			}
			alloc, apparent, err := DiskUsage(dir)
			if err != nil || alloc <= 0 || apparent <= 0 {
				t.Fatalf("disk usage %d %d %v", alloc, apparent, err)
			}
		})
	}
}

func TestMapUpdateCopiesOnePath(t *testing.T) {
	m := newPmap(newRand(3), 1<<12)
	m2 := m.set(100, 1)
	// Count pins of m2 that are not pins of m: the path from the root.
	old := map[*plan.Pin]bool{}
	var walk func(nd *mnode, f func(*mnode))
	walk = func(nd *mnode, f func(*mnode)) {
		if nd == nil {
			return
		}
		f(nd)
		walk(nd.left, f)
		walk(nd.right, f)
	}
	walk(m.root, func(nd *mnode) { old[nd.pin] = true })
	fresh := 0
	walk(m2.root, func(nd *mnode) {
		if !old[nd.pin] {
			fresh++
		}
	})
	if fresh != 9 { // 2^12/16 = 256 leaves: depth 8, 9 nodes on a path
		t.Fatalf("%d new pins, want 9", fresh)
	}
}

func TestChartIsSVG(t *testing.T) {
	f := &Figure{ID: "t", Title: "test", YLabel: "latency", YUnit: "ms", XLabel: "size", XUnit: "MB", Better: "lower"}
	f.Add("pstore", 10, []float64{1, 2, 3})
	f.Add("pstore", 100, []float64{2, 2, 2})
	f.Add("lmdb", 10, []float64{0, 4, 5}) // zero: drawn at the floor
	f.Add("lmdb", 100, []float64{8})
	f.computeRatios()
	if got := f.Series[1].Points[0].Ratio; got != 2 {
		t.Fatalf("ratio %v, want 2", got)
	}
	c := &Figure{ID: "c", Title: "cat", YLabel: "rate", YUnit: "MB/s", XLabel: "input", Categorical: true, Better: "higher"}
	c.AddLabel("pstore", "a", 0, []float64{1})
	c.AddLabel("pstore", "b", 1, []float64{100})
	dir := t.TempDir()
	for _, fig := range []*Figure{f, c} {
		p := filepath.Join(dir, fig.ID+".svg")
		if err := WriteChart(fig, p); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(bytes.NewReader(b))
		for {
			_, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
		}
	}
	rep := &Report{Figures: []*Figure{f, c}}
	if s := SummaryTable(rep); !bytes.Contains([]byte(s), []byte("2.00x")) {
		t.Fatalf("summary lacks the ratio:\n%s", s)
	}
}

// The load data set built in chunks is one DAG whose pins are all in the
// store, and pins() counts them.
func TestLoadSetChunks(t *testing.T) {
	defer func(c int) { loadChunk = c }(loadChunk)
	loadChunk = 10 * 1000
	ls := newLoadSet(1, 95*1000, 1000) // 95 data pins in 10 chunks
	if ls.chunks() != 10 {
		t.Fatalf("%d chunks", ls.chunks())
	}
	for _, sys := range Systems()[:2] {
		st, err := sys.Open(filepath.Join(t.TempDir(), sys.Name))
		if err != nil {
			t.Fatal(err)
		}
		root, err := ls.build(st, false)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := merkle.Digest(root)
		seen := map[plan.Digest]bool{d: true}
		stack := []plan.Digest{d}
		for len(stack) > 0 {
			d := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			body, err := st.Get(d)
			if err != nil {
				t.Fatalf("%s: %v", sys.Name, err)
			}
			kids, err := merkle.ChildDigests(body)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range kids {
				if !seen[k] {
					seen[k] = true
					stack = append(stack, k)
				}
			}
		}
		if len(seen) != ls.pins() {
			t.Errorf("%s: %d pins stored under the root, pins() says %d", sys.Name, len(seen), ls.pins())
		}
		st.Close()
	}
}
