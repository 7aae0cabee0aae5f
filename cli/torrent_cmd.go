package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/spf13/pflag"

	"pstore/merkle"
	"pstore/torrent"
)

func init() {
	AddExitRule(torrent.ErrTimeout, ExitTimeout)
	AddExitRule(torrent.ErrCorrupt, ExitCorrupt)
	AddExitRule(torrent.ErrRootMismatch, ExitCorrupt)
	AddExitRule(torrent.ErrNotFound, ExitNotFound)
	AddExitRule(torrent.ErrNotPstore, ExitUsage)
	AddExitRule(torrent.ErrTooLarge, ExitCorrupt)
	netFlags := func(fs *pflag.FlagSet) {
		fs.String("listen", "", "TCP address to listen on (default 127.0.0.1:0, or :0 with --dht/--tracker)")
		fs.Bool("dht", false, "use the mainline DHT (announces only these torrents)")
		fs.StringArray("tracker", nil, "announce to this tracker URL (repeatable)")
		fs.Bool("debug", false, "log the BitTorrent client's messages to stderr")
	}
	Register(&Command{
		Name:  "seed",
		Usage: "seed CID... | seed --refs [--listen ADDR] [--torrent-file OUT] [--dht] [--tracker URL]",
		Short: "serve pin DAGs over BitTorrent until interrupted; prints their magnet links",
		Flags: func(fs *pflag.FlagSet) {
			netFlags(fs)
			fs.String("torrent-file", "", "also write the .torrent file (one CID only)")
			fs.Bool("refs", false, "seed every named root")
		},
		Run: runSeed,
	})
	Register(&Command{
		Name:  "fetch",
		Usage: "fetch MAGNET|TORRENT-FILE [--peer HOST:PORT ...] [--timeout D] [--cid CID] [--ref NAME]",
		Short: "download a pin DAG over BitTorrent into the store and print its root CID",
		Flags: func(fs *pflag.FlagSet) {
			netFlags(fs)
			fs.StringArray("peer", nil, "connect to this peer (host:port, repeatable)")
			fs.Duration("timeout", 0, "give up after this long (exit 7); 0: no limit")
			fs.String("cid", "", "the root CID expected (default: the magnet link's dn)")
			fs.String("ref", "", "name the fetched root with this ref, so gc keeps it")
			AddWaitFlag(fs)
		},
		Run: runFetch,
	})
	Register(&Command{
		Name:  "torrent",
		Usage: "torrent CID [--torrent-file OUT]",
		Short: "print the magnet link and infohash of a pin DAG without seeding",
		Flags: func(fs *pflag.FlagSet) {
			fs.String("torrent-file", "", "write the .torrent file")
		},
		Run: runTorrent,
	})
	Register(&Command{
		Name:  "export",
		Usage: "export CID FILE",
		Short: "write a pin DAG to a CARv1 file ('-' for stdout)",
		Run:   runExport,
	})
	Register(&Command{
		Name:  "import",
		Usage: "import FILE",
		Short: "verify and store the pin DAGs of a CARv1 file ('-' for stdin); prints the roots",
		Flags: AddWaitFlag,
		Run:   runImport,
	})
}

func netConfig(env *Env) torrent.Config {
	var c torrent.Config
	c.ListenAddr, _ = env.Flags.GetString("listen")
	c.DHT, _ = env.Flags.GetBool("dht")
	c.Trackers, _ = env.Flags.GetStringArray("tracker")
	c.Debug, _ = env.Flags.GetBool("debug")
	return c
}

func writeTorrentFile(path string, l *torrent.Layout) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := l.MetaInfo().Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type torrentJSON struct {
	CID      string `json:"cid"`
	Magnet   string `json:"magnet"`
	InfoHash string `json:"infohash"`
	Pins     int    `json:"pins"`
	Bytes    int64  `json:"bytes"`
	Addr     string `json:"addr,omitempty"`
}

func describeLayout(l *torrent.Layout, magnet, addr string) torrentJSON {
	ih := l.InfoHash()
	return torrentJSON{CID: l.Root.String(), Magnet: magnet, InfoHash: hex.EncodeToString(ih[:]),
		Pins: l.NumPins(), Bytes: l.Size(), Addr: addr}
}

func runSeed(env *Env, args []string) error {
	useRefs, _ := env.Flags.GetBool("refs")
	if len(args) == 0 && !useRefs {
		return Usagef("seed needs a CID or --refs")
	}
	tfile, _ := env.Flags.GetString("torrent-file")
	st, err := OpenStore(env, true)
	if err != nil {
		return err
	}
	defer st.Close()
	// Each DAG once, however many arguments or refs name it.
	var roots []cid.Cid
	seen := map[cid.Cid]bool{}
	add := func(c cid.Cid) {
		if !seen[c] {
			seen[c] = true
			roots = append(roots, c)
		}
	}
	for _, a := range args {
		c, err := merkle.ParseCID(a)
		if err != nil {
			return err
		}
		add(c)
	}
	if useRefs {
		refs, err := st.Refs()
		if err != nil {
			return err
		}
		var names []string
		for n := range refs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			add(merkle.CIDOf(refs[n]))
		}
	}
	if len(roots) == 0 {
		return fmt.Errorf("%w: no named roots to seed", torrent.ErrNotFound)
	}
	if tfile != "" && len(roots) != 1 {
		return Usagef("--torrent-file needs exactly one CID")
	}
	s, err := torrent.Seed(env.Ctx, torrent.StoreAdapter{S: st}, roots, netConfig(env))
	if err != nil {
		return err
	}
	defer s.Close()
	if tfile != "" {
		if err := writeTorrentFile(tfile, s.Layouts()[0]); err != nil {
			return err
		}
	}
	magnets := s.Magnets()
	for i, l := range s.Layouts() {
		m := magnets[i]
		if env.JSON {
			b, _ := json.Marshal(describeLayout(l, m, s.Addr()))
			fmt.Fprintln(env.Stdout, string(b))
		} else {
			fmt.Fprintln(env.Stdout, m)
		}
	}
	if !env.JSON {
		fmt.Fprintf(env.Stderr, "seeding %d DAG(s) on %s; interrupt to stop\n", len(roots), s.Addr())
	}
	<-env.Ctx.Done()
	return nil
}

type progressJSON struct {
	Phase    string  `json:"phase"`
	CID      string  `json:"cid,omitempty"`
	Bytes    int64   `json:"bytes"`
	Have     int64   `json:"have"`
	Fetched  int64   `json:"fetched"`
	WireRead int64   `json:"wire_read"`
	Rate     float64 `json:"rate"`
	Peers    int     `json:"peers"`
	Pins     int     `json:"pins"`
	PinsDone int     `json:"pins_done"`
	Elapsed  float64 `json:"elapsed"`
}

func runFetch(env *Env, args []string) error {
	if len(args) != 1 {
		return Usagef("fetch needs one magnet link or .torrent file")
	}
	opts := torrent.FetchOptions{Config: netConfig(env)}
	opts.Peers, _ = env.Flags.GetStringArray("peer")
	if s, _ := env.Flags.GetString("cid"); s != "" {
		c, err := merkle.ParseCID(s)
		if err != nil {
			return err
		}
		opts.Root = c
	}
	ctx := env.Ctx
	if d, _ := env.Flags.GetDuration("timeout"); d > 0 {
		var cancel func()
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	st, err := OpenStore(env, false)
	if err != nil {
		return err
	}
	defer st.Close()
	tty := IsTerminal(env.Stderr)
	opts.Progress = func(p torrent.Progress) {
		switch {
		case env.JSON:
			b, _ := json.Marshal(progressJSON{Phase: p.Phase, CID: cidString(p.Root), Bytes: p.Size, Have: p.Have,
				Fetched: p.Fetched, WireRead: p.WireRead, Rate: p.Rate, Peers: p.Peers, Pins: p.Pins,
				PinsDone: p.PinsDone, Elapsed: p.Elapsed.Seconds()})
			fmt.Fprintln(env.Stderr, string(b))
		case tty:
			fmt.Fprintf(env.Stderr, "\r%s", progressBar(p))
			if p.Phase == "done" {
				fmt.Fprintln(env.Stderr)
			}
		default:
			fmt.Fprintln(env.Stderr, progressText(p))
		}
	}
	if !env.JSON && !tty {
		opts.ProgressInterval = time.Second // a line a second, and the last
	}
	root, stats, err := torrent.Fetch(ctx, torrent.StoreAdapter{S: st}, args[0], opts)
	if tty && err != nil {
		fmt.Fprintln(env.Stderr)
	}
	if err != nil {
		if errors.Is(err, ctx.Err()) && ctx.Err() != nil && !errors.Is(err, torrent.ErrTimeout) {
			return WithCode(ExitTimeout, fmt.Errorf("fetch interrupted: %w", err))
		}
		return err
	}
	if ref, _ := env.Flags.GetString("ref"); ref != "" {
		d, err := merkle.DigestOf(root)
		if err != nil {
			return err
		}
		if err := st.SetRef(ref, d); err != nil {
			return fmt.Errorf("fetched %s but naming it %q failed: %w", root, ref, err)
		}
	}
	if env.JSON {
		ih := stats.InfoHash
		b, _ := json.Marshal(map[string]any{
			"cid": root.String(), "infohash": hex.EncodeToString(ih[:]), "pins": stats.Pins,
			"pins_fetched": stats.PinsFetched, "bytes": stats.Size, "have": stats.Have,
			"fetched": stats.Fetched, "wire_read": stats.WireRead,
			"metadata_seconds": stats.MetadataTime.Seconds(), "seconds": stats.Duration.Seconds(),
		})
		fmt.Fprintln(env.Stdout, string(b))
	} else {
		fmt.Fprintln(env.Stdout, root)
	}
	return nil
}

func cidString(c cid.Cid) string {
	if !c.Defined() {
		return ""
	}
	return c.String()
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func progressText(p torrent.Progress) string {
	if p.Phase == "metadata" {
		return fmt.Sprintf("fetch: waiting for metadata, %d peers, %.1fs", p.Peers, p.Elapsed.Seconds())
	}
	return fmt.Sprintf("fetch: %s: %s of %s fetched (%s held before), %d/%d pins, %.1f MB/s, %d peers, %.1fs",
		p.Phase, mb(p.Fetched), mb(p.Size-p.Have), mb(p.Have), p.PinsDone, p.Pins, p.Rate/1e6, p.Peers, p.Elapsed.Seconds())
}

func progressBar(p torrent.Progress) string {
	if p.Phase == "metadata" {
		return fmt.Sprintf("fetch: metadata... %d peers %-30s", p.Peers, "")
	}
	need := p.Size - p.Have
	frac := 1.0
	if need > 0 {
		frac = min(float64(p.Fetched)/float64(need), 1)
	}
	const width = 30
	n := int(frac * width)
	return fmt.Sprintf("fetch [%s%s] %5.1f%% %s/%s %6.1f MB/s %d peers %d/%d pins ",
		strings.Repeat("#", n), strings.Repeat(".", width-n), 100*frac, mb(p.Fetched), mb(need), p.Rate/1e6, p.Peers, p.PinsDone, p.Pins)
}

func runTorrent(env *Env, args []string) error {
	c, err := parseCIDArg(args, "torrent")
	if err != nil {
		return err
	}
	st, err := OpenStore(env, true)
	if err != nil {
		return err
	}
	defer st.Close()
	l, err := torrent.BuildTorrent(torrent.StoreAdapter{S: st}, c)
	if err != nil {
		return err
	}
	if tf, _ := env.Flags.GetString("torrent-file"); tf != "" {
		if err := writeTorrentFile(tf, l); err != nil {
			return err
		}
	}
	if env.JSON {
		b, _ := json.Marshal(describeLayout(l, l.Magnet(), ""))
		fmt.Fprintln(env.Stdout, string(b))
		return nil
	}
	ih := l.InfoHash()
	fmt.Fprintln(env.Stdout, l.Magnet())
	fmt.Fprintln(env.Stdout, hex.EncodeToString(ih[:]))
	return nil
}

func runExport(env *Env, args []string) error {
	if len(args) != 2 {
		return Usagef("export needs a CID and a file")
	}
	c, err := merkle.ParseCID(args[0])
	if err != nil {
		return err
	}
	st, err := OpenStore(env, true)
	if err != nil {
		return err
	}
	defer st.Close()
	if args[1] == "-" {
		return torrent.Export(torrent.StoreAdapter{S: st}, c, env.Stdout)
	}
	f, err := os.Create(args[1])
	if err != nil {
		return err
	}
	if err := torrent.Export(torrent.StoreAdapter{S: st}, c, f); err != nil {
		f.Close()
		os.Remove(args[1])
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func runImport(env *Env, args []string) error {
	if len(args) != 1 {
		return Usagef("import needs a file")
	}
	st, err := OpenStore(env, false)
	if err != nil {
		return err
	}
	defer st.Close()
	r := env.Stdin
	if args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	roots, err := torrent.Import(torrent.StoreAdapter{S: st}, r, torrent.Limits{})
	if err != nil {
		return err
	}
	for _, c := range roots {
		if env.JSON {
			fmt.Fprintf(env.Stdout, "{\"cid\":%q}\n", c.String())
		} else {
			fmt.Fprintln(env.Stdout, c)
		}
	}
	return nil
}
