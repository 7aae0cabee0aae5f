package cli

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSeedFetchTorrentExportImport(t *testing.T) {
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	file := writeTemp(t, randBytes(3<<20))
	root := strings.TrimSpace(mustRun(t, a, "", "put", "--raw", file))

	// seed runs until its context ends; its first stdout line is the magnet.
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		env := func(k string) string {
			if k == "PSTORE_DIR" {
				return a
			}
			return ""
		}
		done <- Main(ctx, []string{"seed", root}, strings.NewReader(""), pw, io.Discard, env)
		pw.Close()
	}()
	defer func() { cancel(); <-done }()
	magnet, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	magnet = strings.TrimSpace(magnet)
	go io.Copy(io.Discard, pr)
	if !strings.HasPrefix(magnet, "magnet:?xt=urn:btmh:") || !strings.Contains(magnet, root) {
		t.Fatalf("seed printed %q", magnet)
	}

	got := strings.TrimSpace(mustRun(t, b, "", "fetch", magnet, "--timeout", "30s"))
	if got != root {
		t.Fatalf("fetch printed %q, want %q", got, root)
	}
	mustRun(t, b, "", "verify")
	want, _ := os.ReadFile(file)
	if out := mustRun(t, b, "", "get", "--raw", root); out != string(want) {
		t.Fatal("fetched bytes differ")
	}
	// torrent: the same infohash as the seeder's, from the fetched copy.
	tb := strings.Fields(mustRun(t, b, "", "torrent", root))
	if len(tb) != 2 || !strings.HasPrefix(magnet, tb[0]) {
		t.Fatalf("torrent printed %v; seeder's magnet %s", tb, magnet)
	}
	// A second fetch finds everything held; --json gives a summary.
	sum := mustRun(t, b, "", "fetch", magnet, "--json")
	if !strings.Contains(sum, `"fetched":0`) {
		t.Fatalf("second fetch: %s", sum)
	}
	// Wrong root: exit 6. No peer: exit 7.
	if _, _, code := pstore(t, c, "", "fetch", magnet, "--cid", "bagaybqabdyqikbdhrczcv3rlsswfegois6vzb5yaxxdzck7sqyl7o5psen4hyca", "--timeout", "10s"); code != ExitCorrupt {
		t.Fatalf("root mismatch exit %d", code)
	}
	noPeer := magnet[:strings.Index(magnet, "&")]
	if _, errs, code := pstore(t, c, "", "fetch", noPeer, "--timeout", "300ms"); code != ExitTimeout {
		t.Fatalf("no peer: exit %d (%s)", code, errs)
	}

	// CAR round trip.
	car := filepath.Join(t.TempDir(), "dag.car")
	mustRun(t, a, "", "export", root, car)
	if out := strings.TrimSpace(mustRun(t, c, "", "import", car)); out != root {
		t.Fatalf("import printed %q", out)
	}
	mustRun(t, c, "", "verify")
}
