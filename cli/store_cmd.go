package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/ipfs/go-cid"
	"github.com/spf13/pflag"

	"pstore/merkle"
	"pstore/mmap"
	"pstore/pagestore"
	"pstore/plan"
	"pstore/seed"
)

func init() {
	Register(&Command{
		Name:  "put",
		Usage: "put [FILE|-] [--seed [--dialect D] | --raw]",
		Short: "store a value (text syntax, a seed file, or raw bytes as a bar) and print its CID",
		Flags: func(fs *pflag.FlagSet) {
			fs.Bool("seed", false, "the input is an interchange seed file")
			fs.Bool("raw", false, "store the input's bytes as a bar (bytes followed by 0x01)")
			fs.String("ref", "", "also name the pin with this root, in the same commit (gc keeps it)")
			AddDialectFlag(fs)
			AddWaitFlag(fs)
		},
		Run: runPut,
	})
	Register(&Command{
		Name:  "get",
		Usage: "get CID [--inline | --seed [--dialect D] | --raw]",
		Short: "print a stored pin (text syntax; --seed or --raw write bytes)",
		Flags: func(fs *pflag.FlagSet) {
			AddPrintFlags(fs)
			fs.Bool("seed", false, "write an interchange seed of the whole DAG")
			fs.Bool("raw", false, "write the bytes of a bar")
			AddDialectFlag(fs)
		},
		Run: runGet,
	})
	Register(&Command{
		Name:  "refs",
		Usage: "refs [-r] CID",
		Short: "list the child pins of a pin (-r: every pin below it, depth first)",
		Flags: func(fs *pflag.FlagSet) { fs.BoolP("recursive", "r", false, "list every pin reachable from CID") },
		Run:   runRefs,
	})
	Register(&Command{
		Name:  "ref",
		Usage: "ref set NAME CID | ref rm NAME | ref list",
		Short: "manage named roots (kept by gc)",
		Flags: AddWaitFlag,
		Run:   runRef,
	})
	Register(&Command{
		Name:  "stat",
		Usage: "stat [--json]",
		Short: "show pins, pages, bytes stored and bytes deduplicated",
		Run:   runStat,
	})
	Register(&Command{
		Name:  "verify",
		Usage: "verify",
		Short: "re-hash everything in the store; exit 6 on corruption",
		Run:   runVerify,
	})
	Register(&Command{
		Name:  "gc",
		Usage: "gc",
		Short: "reclaim everything not reachable from a named root",
		Flags: AddWaitFlag,
		Run:   runGC,
	})
}

// barOf builds the Pallas bar {1 1 v} of data, where v has the bytes of data
// followed by 0x01 (PLAN.md section 10). The nat aliases a fresh word
// buffer, so a 1 GiB file costs one copy.
func barOf(data []byte) plan.Value {
	n := len(data) + 1
	buf := make([]byte, (n+7)&^7)
	copy(buf, data)
	buf[len(data)] = 1
	var v plan.Nat
	if w, ok := mmap.Words(buf); ok {
		v = plan.NatFromBits(w)
	} else {
		v = plan.NatFromBytes(buf)
	}
	return plan.L(plan.N(1), plan.N(1), v)
}

// barBytes returns the bytes of a bar {1 1 v} (or of a bare nat v with the
// same terminator convention).
func barBytes(v plan.Value) ([]byte, error) {
	if l, ok := v.(*plan.Law); ok {
		if !l.Name.Equal(plan.N(1)) || !l.Arity.Equal(plan.N(1)) {
			return nil, fmt.Errorf("not a bar: a law {%v %v ...}", l.Name, l.Arity)
		}
		v = l.Body
	}
	n, ok := v.(plan.Nat)
	if !ok {
		return nil, fmt.Errorf("not a bar: a %v", v.Kind())
	}
	var b []byte
	if raw, ok := mmap.WordBytes(n.Bits()); ok && !n.IsSmall() {
		b = raw // zero copy from the store's mapping
	} else {
		b = n.AppendBytes(nil)
	}
	end := len(b)
	for end > 0 && b[end-1] == 0 {
		end--
	}
	if end == 0 || b[end-1] != 1 {
		return nil, errors.New("not a bar: the nat has no 0x01 terminator")
	}
	return b[:end-1], nil
}

func runPut(env *Env, args []string) error {
	isSeed, _ := env.Flags.GetBool("seed")
	isRaw, _ := env.Flags.GetBool("raw")
	if isSeed && isRaw {
		return Usagef("--seed and --raw exclude each other")
	}
	dialect, err := DialectOf(env)
	if err != nil {
		return err
	}
	data, name, err := readInputProgress(env, args)
	if err != nil {
		return err
	}
	prog := NewProgress(env, "put", int64(len(data)), 4<<20)
	var v plan.Value
	switch {
	case isRaw:
		v = barOf(data)
	case isSeed:
		v, err = DecodeSeedFile(data, dialect)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	default:
		sc := &storeCache{env: env, readOnly: true}
		v, err = newParser(env, dialect, sc).parse(string(data))
		sc.Close()
		if err != nil {
			return err
		}
	}
	st, err := OpenStore(env, false)
	if err != nil {
		return err
	}
	defer st.Close()
	prog.Phase("hashing and writing")
	b := st.NewBatch()
	c, err := b.PutPin(asPin(v))
	if err != nil {
		return err
	}
	if ref, _ := env.Flags.GetString("ref"); ref != "" {
		d, _ := merkle.DigestOf(c)
		b.SetRef(ref, d)
	}
	if err := b.Commit(); err != nil {
		return err
	}
	prog.Done()
	fmt.Fprintln(env.Stdout, c)
	return nil
}

// readInputProgress is ReadInput with a progress line for big files.
func readInputProgress(env *Env, args []string) ([]byte, string, error) {
	if len(args) == 1 && args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return nil, "", err
		}
		if info.Mode().IsRegular() {
			buf := make([]byte, info.Size())
			prog := NewProgress(env, "reading "+args[0], info.Size(), 4<<20)
			var done int64
			for done < int64(len(buf)) {
				n, err := f.Read(buf[done:min(int64(len(buf)), done+16<<20)])
				done += int64(n)
				prog.Update(done)
				if err == io.EOF {
					break
				}
				if err != nil {
					return nil, "", err
				}
			}
			return buf[:done], args[0], nil
		}
	}
	return ReadInput(env, args)
}

func parseCIDArg(args []string, what string) (cid.Cid, error) {
	if len(args) != 1 {
		return cid.Undef, Usagef("%s needs exactly one CID", what)
	}
	return merkle.ParseCID(args[0])
}

func runGet(env *Env, args []string) error {
	c, err := parseCIDArg(args, "get")
	if err != nil {
		return err
	}
	isSeed, _ := env.Flags.GetBool("seed")
	isRaw, _ := env.Flags.GetBool("raw")
	inline, _ := env.Flags.GetBool("inline")
	if isSeed && isRaw {
		return Usagef("--seed and --raw exclude each other")
	}
	dialect, err := DialectOf(env)
	if err != nil {
		return err
	}
	st, err := OpenStore(env, true)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := st.Get(c)
	if err != nil {
		return err
	}
	switch {
	case isRaw:
		item, err := p.Item()
		if err != nil {
			return err
		}
		b, err := barBytes(item)
		if err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
		_, err = env.Stdout.Write(b)
		return err
	case isSeed:
		conv := seed.Pallas
		if dialect == DialectPlan4 {
			conv = seed.Plan4
		}
		out, err := seed.Encode(p, conv)
		if err != nil {
			return err
		}
		_, err = env.Stdout.Write(out)
		return err
	}
	return PrintValue(env, env.Stdout, p, inline)
}

func runRefs(env *Env, args []string) error {
	c, err := parseCIDArg(args, "refs")
	if err != nil {
		return err
	}
	rec, _ := env.Flags.GetBool("recursive")
	d, err := merkle.DigestOf(c)
	if err != nil {
		return err
	}
	st, err := OpenStore(env, true)
	if err != nil {
		return err
	}
	defer st.Close()
	// Each pin once: the children of d in hole order, or with -r every
	// pin below d, depth first (pagestore.Store.WalkDAG).
	out := []string{}
	if rec {
		err = st.WalkDAG(d, func(x plan.Digest, _ []plan.Digest) error {
			if x != d {
				out = append(out, merkle.CIDOf(x).String())
			}
			return nil
		})
	} else {
		var kids []plan.Digest
		kids, err = st.Children(d)
		seen := map[plan.Digest]bool{}
		for _, k := range kids {
			if !seen[k] {
				seen[k] = true
				out = append(out, merkle.CIDOf(k).String())
			}
		}
	}
	if err != nil {
		return err
	}
	if env.JSON {
		return json.NewEncoder(env.Stdout).Encode(out)
	}
	for _, s := range out {
		fmt.Fprintln(env.Stdout, s)
	}
	return nil
}

func runRef(env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("ref needs a verb: set, rm or list")
	}
	switch args[0] {
	case "list", "ls":
		if len(args) != 1 {
			return Usagef("ref list takes no arguments")
		}
		st, err := OpenStore(env, true)
		if err != nil {
			return err
		}
		defer st.Close()
		refs, err := st.Refs()
		if err != nil {
			return err
		}
		names := make([]string, 0, len(refs))
		for n := range refs {
			names = append(names, n)
		}
		sort.Strings(names)
		if env.JSON {
			type entry struct {
				Name string `json:"name"`
				CID  string `json:"cid"`
			}
			list := []entry{}
			for _, n := range names {
				list = append(list, entry{n, merkle.CIDOf(refs[n]).String()})
			}
			return json.NewEncoder(env.Stdout).Encode(list)
		}
		for _, n := range names {
			fmt.Fprintf(env.Stdout, "%s\t%s\n", n, merkle.CIDOf(refs[n]))
		}
		return nil
	case "set":
		if len(args) != 3 {
			return Usagef("ref set needs NAME CID")
		}
		c, err := merkle.ParseCID(args[2])
		if err != nil {
			return err
		}
		d, _ := merkle.DigestOf(c)
		st, err := OpenStore(env, false)
		if err != nil {
			return err
		}
		defer st.Close()
		if !st.Has(d) {
			return fmt.Errorf("%w: %s is not in the store", pagestore.ErrNotFound, c)
		}
		b := st.NewBatch()
		b.SetRef(args[1], d)
		return b.Commit()
	case "rm":
		if len(args) != 2 {
			return Usagef("ref rm needs NAME")
		}
		st, err := OpenStore(env, false)
		if err != nil {
			return err
		}
		defer st.Close()
		if _, err := st.Ref(args[1]); err != nil {
			return err
		}
		b := st.NewBatch()
		b.DeleteRef(args[1])
		return b.Commit()
	}
	return Usagef("unknown ref verb %q (want set, rm or list)", args[0])
}

func runStat(env *Env, args []string) error {
	if len(args) != 0 {
		return Usagef("stat takes no arguments")
	}
	st, err := OpenStore(env, true)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := st.Stat()
	if err != nil {
		return err
	}
	if env.JSON {
		return json.NewEncoder(env.Stdout).Encode(map[string]any{
			"store": env.StoreDir, "generation": s.Generation, "pins": s.Pins, "large_pins": s.LargePins,
			"pages": s.Pages, "bytes_stored": s.BytesStored, "bytes_offered": s.BytesOffered,
			"bytes_deduplicated": s.BytesDeduped, "file_bytes": s.FileBytes, "segments": s.Segments,
		})
	}
	w := env.Stdout
	fmt.Fprintf(w, "store               %s\n", env.StoreDir)
	fmt.Fprintf(w, "pins                %d (%d stored as pages)\n", s.Pins, s.LargePins)
	fmt.Fprintf(w, "pages               %d\n", s.Pages)
	fmt.Fprintf(w, "bytes stored        %d\n", s.BytesStored)
	fmt.Fprintf(w, "bytes deduplicated  %d\n", s.BytesDeduped)
	fmt.Fprintf(w, "files on disk       %d bytes in %d segments\n", s.FileBytes, s.Segments)
	return nil
}

func runVerify(env *Env, args []string) error {
	if len(args) != 0 {
		return Usagef("verify takes no arguments")
	}
	st, err := OpenStore(env, true)
	if err != nil {
		return err
	}
	defer st.Close()
	n := 0
	err = st.Verify(func(problem error) {
		n++
		fmt.Fprintf(env.Stderr, "corrupt: %v\n", problem)
	})
	if err != nil {
		if n > 0 {
			return WithCode(ExitCorrupt, fmt.Errorf("%d problems found", n))
		}
		return err
	}
	s, _ := st.Stat()
	if env.JSON {
		return json.NewEncoder(env.Stdout).Encode(map[string]any{"ok": true, "pins": s.Pins, "pages": s.Pages})
	}
	fmt.Fprintf(env.Stdout, "ok: %d pins and %d pages verified\n", s.Pins, s.Pages)
	return nil
}

func runGC(env *Env, args []string) error {
	if len(args) != 0 {
		return Usagef("gc takes no arguments")
	}
	st, err := OpenStore(env, false)
	if err != nil {
		return err
	}
	defer st.Close()
	g, err := st.GC()
	if err != nil {
		return err
	}
	if env.JSON {
		return json.NewEncoder(env.Stdout).Encode(g)
	}
	fmt.Fprintf(env.Stdout, "kept %d pins and %d pages, dropped %d entries; %d -> %d bytes on disk\n",
		g.LivePins, g.LivePages, g.DeadEntries, g.BytesBefore, g.BytesAfter)
	return nil
}
