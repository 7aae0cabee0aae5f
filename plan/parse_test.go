package plan

import (
	"bufio"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
)

func mustParse(t testing.TB, src string) Value {
	t.Helper()
	v, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return v
}

func bigNat(t testing.TB, dec string) Nat {
	t.Helper()
	b, ok := new(big.Int).SetString(dec, 10)
	if !ok {
		t.Fatalf("bad decimal %q", dec)
	}
	return NatFromBig(b)
}

func TestParseValues(t *testing.T) {
	cases := []struct {
		src  string
		want Value
	}{
		{"0", N(0)},
		{"42", N(42)},
		{"007", N(7)},
		{"0x2a", N(42)},
		{"0xFF", N(255)},
		{"0xfF", N(255)},
		{"0x000", N(0)},
		{"18446744073709551615", N(^uint64(0))},
		{"18446744073709551616", bigNat(t, "18446744073709551616")},
		{"0x10000000000000000", bigNat(t, "18446744073709551616")},
		{"00000000000000000000000000000042", N(42)},
		{`""`, N(0)},
		{`"a"`, N(97)},
		{`"id"`, N(25705)},
		{`"toNat"`, N(499848736628)},
		{`"_ToNat"`, N(127961276568671)},
		{`"_IsNat"`, N(127961276827999)},
		{`"applyTwice"`, bigNat(t, "478792842068908110278753")},
		{`"\\"`, N(0x5c)},
		{`"\""`, N(0x22)},
		{`"\x00a"`, N(0x6100)},
		{`"\xfF"`, N(0xff)},
		{`"é"`, N(0xa9c3)},
		{`"\x01\x02"`, N(0x0201)},
		{"(0)", N(0)},
		{"((((7))))", N(7)},
		{"(3 4)", A(N(3), N(4))},
		{"(1 2 3)", A(N(1), N(2), N(3))},
		{"((1 2) 3)", A(N(1), N(2), N(3))},
		{"(1 (2 3))", A(N(1), A(N(2), N(3)))},
		{"{1 2 3}", L(N(1), N(2), N(3))},
		{`{"id" 1 1}`, L(N(25705), N(1), N(1))},
		{"{0x6469 1 1}", L(N(25705), N(1), N(1))},
		{"{1 0 5}", L(N(1), N(0), N(5))},
		{"{1 2 (0 1)}", L(N(1), N(2), A(N(0), N(1)))},
		{"<0>", P(N(0))},
		{"<<0>>", P(P(N(0)))},
		{"<(0 1)>", P(A(N(0), N(1)))},
		{" \t\r\n( 1\n\t2 )\r\n ", A(N(1), N(2))},
		{"(1(2)3)", A(N(1), N(2), N(3))},
		{"(<0><1>{1 1 1})", A(P(N(0)), P(N(1)), L(N(1), N(1), N(1)))},
	}
	for _, c := range cases {
		got := mustParse(t, c.src)
		if !Equal(got, c.want) {
			t.Errorf("Parse(%q) = %s, want %s", c.src, String(got), String(c.want))
		}
	}
}

// Apps are built as one node with a flat argument slice.
func TestParseAppShape(t *testing.T) {
	v := mustParse(t, "((1 2) 3 (4 5))")
	a, ok := v.(*App)
	if !ok || len(a.Args) != 3 {
		t.Fatalf("got %#v, want one app node with 3 args", v)
	}
	if _, ok := a.Fun.(Nat); !ok {
		t.Fatalf("head %#v is not a nat", a.Fun)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		src       string
		line, col int
		msg       string // substring of the error
	}{
		{"", 1, 1, "expected a value, found end of input"},
		{"   ", 1, 4, "expected a value, found end of input"},
		{"()", 1, 2, "expected a value, found ')'"},
		{"(1 2", 1, 5, "expected ')' or a value, found end of input"},
		{"(1\n  (2 3)\n  x)", 3, 3, `expected ')' or a value, found "x"`},
		{"(1 2}", 1, 5, "expected ')' or a value, found '}'"},
		{"(0\n\t(1 2)\n\t\t\t\t\t\t\t\t\t\t\t}", 3, 12, "expected ')' or a value, found '}'"},
		{"1 2", 1, 3, "expected end of input, found \"2\""},
		{"(1) )", 1, 5, "expected end of input, found ')'"},
		{")", 1, 1, "expected a value, found ')'"},
		{"{1 2}", 1, 5, "expected a value (law body), found '}'"},
		{"{1 2 3 4}", 1, 8, "expected '}', found \"4\""},
		{"{(1) 2 3}", 1, 2, "expected a nat literal (law name), found '('"},
		{"{1 <2> 3}", 1, 4, "expected a nat literal (law arity), found '<'"},
		{"{1 @x.seed 3}", 1, 4, "expected a nat literal (law arity)"},
		{"<1 2>", 1, 4, "expected '>', found \"2\""},
		{"<>", 1, 2, "expected a value, found '>'"},
		{"abc", 1, 1, `expected a value, found "abc"`},
		{"12a", 1, 1, `invalid decimal nat "12a"`},
		{"0x", 1, 1, `invalid hex nat "0x"`},
		{"0x1g", 1, 1, `invalid hex nat "0x1g"`},
		{"0X1", 1, 1, `invalid decimal nat "0X1"`},
		{`(0"a")`, 1, 3, `expected whitespace or a bracket after 0, found '"'`},
		{`"a""b"`, 1, 4, `expected whitespace or a bracket after "a", found '"'`},
		{`"abc`, 1, 1, "unterminated string literal"},
		{`("abc\"`, 1, 2, "unterminated string literal"},
		{`"abc\`, 1, 1, "unterminated string literal"},
		{`"a\x00"`, 1, 1, "ends with a 0x00 byte"},
		{`"\x00"`, 1, 1, "ends with a 0x00 byte"},
		{`"a\n"`, 1, 3, `invalid escape \n`},
		{`"a\x4"`, 1, 3, `\x needs exactly two hex digits`},
		{`"a\x4g"`, 1, 3, `\x needs exactly two hex digits`},
		{"\"a\tb\"", 1, 3, "control character U+0009"},
		{"\"a\nb\"", 1, 3, "control character U+000A"},
		{"\"\x7f\"", 1, 2, "control character U+007F"},
		{"\"\x00\"", 1, 2, "control character U+0000"},
		{"\"\xff\"", 1, 2, "invalid UTF-8"},
		{"(\"é\" é)", 1, 6, `found "é"`},
		{"bafyabc", 1, 1, "CID bafyabc needs a store"},
		{"(0 @dir/x.seed)", 1, 4, "seed file reference @dir/x.seed needs a seed loader"},
		{"@x.sed", 1, 1, "a seed file reference is @path.seed"},
		{"<cmp.seed>", 1, 1, "seed reference <cmp.seed> needs a seed loader"},
		{"<cmp.seed >", 1, 2, `found "cmp.seed"`},
		{"((((", 1, 5, "expected a value, found end of input"},
	}
	for _, c := range cases {
		_, err := Parse(c.src)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want error", c.src)
			continue
		}
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q): %v does not wrap ErrSyntax", c.src, err)
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q): %T is not a *SyntaxError", c.src, err)
			continue
		}
		if se.Line != c.line || se.Col != c.col || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Parse(%q) = %q (line %d col %d), want %d:%d and %q", c.src, err, se.Line, se.Col, c.line, c.col, c.msg)
		}
	}
}

func TestParseErrorFormat(t *testing.T) {
	_, err := Parse("(1\n  2\n  3           }")
	want := "plan: 3:15: expected ')' or a value, found '}'"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestParseHooks(t *testing.T) {
	errMissing := errors.New("not found")
	opts := ParseOptions{
		ResolveCID: func(tok string) (Value, error) {
			if tok == "bafymissing" {
				return nil, errMissing
			}
			return A(N(1), N(uint64(len(tok)))), nil
		},
		ResolveSeed: func(path string) (Value, error) {
			if path == "missing.seed" {
				return nil, errMissing
			}
			return P(N(uint64(len(path)))), nil
		},
		SeedRef: func(name string) (Value, error) {
			if name == "missing.seed" {
				return nil, errMissing
			}
			return L(N(uint64(len(name))), N(1), N(0)), nil
		},
	}
	good := []struct {
		src  string
		want Value
	}{
		{"bafy2", A(N(1), N(5))},
		{"(0 bafkrei7)", A(N(0), A(N(1), N(8)))},
		{"<bafy2>", P(A(N(1), N(5)))},
		{"@a/b.seed", P(N(8))},
		{"(@../x y.seed)", nil}, // error: path stops at space
		{"(@./x(.seed)", nil},
		{"(1 @a.seed 2)", A(N(1), P(N(6)), N(2))},
		{"(<cmp.seed> 1)", A(L(N(8), N(1), N(0)), N(1))},
		{"<Cmp_2.seed>", L(N(10), N(1), N(0))},
		{"<<x.seed>>", P(L(N(6), N(1), N(0)))},
		{"<0>", P(N(0))},
	}
	for _, c := range good {
		v, err := ParseWith(c.src, opts)
		if c.want == nil {
			if err == nil {
				t.Errorf("ParseWith(%q) = %s, want error", c.src, String(v))
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseWith(%q): %v", c.src, err)
			continue
		}
		if !Equal(v, c.want) {
			t.Errorf("ParseWith(%q) = %s, want %s", c.src, String(v), String(c.want))
		}
	}
	for _, src := range []string{"(1 bafymissing)", "(1 @missing.seed)", "(1 <missing.seed>)"} {
		_, err := ParseWith(src, opts)
		var se *SyntaxError
		if !errors.Is(err, errMissing) || !errors.As(err, &se) || se.Col != 4 {
			t.Errorf("ParseWith(%q) = %v, want the hook's error at 1:4", src, err)
		}
	}
	// A hook returning nil with no error is an error, not a nil value.
	_, err := ParseWith("bafy", ParseOptions{ResolveCID: func(string) (Value, error) { return nil, nil }})
	if err == nil {
		t.Error("nil value from hook accepted")
	}
}

func TestParseBigDecimal(t *testing.T) {
	for _, n := range []int{20, 1999, 2000, 2001, 4001, 9000, 100000} {
		var sb strings.Builder
		for i := 0; i < n; i++ {
			sb.WriteByte(byte('0' + (i*7+3)%10))
		}
		s := sb.String()
		want, _ := new(big.Int).SetString(s, 10)
		got := mustParse(t, s).(Nat)
		if got.BigShared().Cmp(want) != 0 {
			t.Fatalf("%d digits: wrong value", n)
		}
		// and in hex
		h := "0x" + want.Text(16)
		if !Equal(mustParse(t, h), got) {
			t.Fatalf("%d digits: hex differs", n)
		}
	}
}

func TestParseDeepNesting(t *testing.T) {
	const depth = 1_000_000
	// Unclosed: a clean error at the end.
	_, err := Parse(strings.Repeat("(", depth))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Col != depth+1 {
		t.Fatalf("unclosed parens: %v", err)
	}
	// Closed: parses to the inner value.
	v := mustParse(t, strings.Repeat("(", depth)+"7"+strings.Repeat(")", depth))
	if !Equal(v, N(7)) {
		t.Fatal("deep parens: wrong value")
	}
	// Deep pins and right-nested apps build deep values.
	src := strings.Repeat("<", depth) + "1" + strings.Repeat(">", depth)
	v = mustParse(t, src)
	out, err := Sprint(v, PrintOptions{Limit: -1})
	if err != nil || out != src {
		t.Fatalf("deep pins do not print back (err %v)", err)
	}
	if !Equal(mustParse(t, out), v) {
		t.Fatal("deep pins: round trip not equal")
	}
	src = strings.Repeat("(1 ", depth) + "1" + strings.Repeat(")", depth)
	v = mustParse(t, src)
	out, err = Sprint(v, PrintOptions{Limit: -1})
	if err != nil || out != src {
		t.Fatalf("deep apps do not print back (err %v)", err)
	}
}

// readCases returns the non-comment lines of a cases.tsv, split on tabs.
func readCases(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, "\t"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// seedPlaceholder stands in for a seed file in the vector tests: a pin that
// records the file name, so different files give different values.
func seedPlaceholder(name string) (Value, error) {
	return P(A(N(0), NatFromBytes([]byte(name)))), nil
}

func TestVectorsParse(t *testing.T) {
	for _, file := range []string{"testdata/pallas_cases.tsv", "testdata/plan4_cases.tsv"} {
		rows := readCases(t, file)
		if len(rows) < 90 {
			t.Fatalf("%s: only %d rows", file, len(rows))
		}
		for i, row := range rows {
			if len(row) < 2 || len(row) > 3 {
				t.Fatalf("%s row %d: %d fields", file, i+1, len(row))
			}
			for _, field := range row[:2] {
				if field == "!error" {
					continue
				}
				v, err := ParseWith(field, ParseOptions{SeedRef: seedPlaceholder})
				if err != nil {
					t.Errorf("%s row %d: %v", file, i+1, err)
					continue
				}
				// Print with seed placeholders as plain pins, then
				// parse back: Equal.
				s, err := Sprint(v, PrintOptions{})
				if err != nil {
					t.Errorf("%s row %d: print: %v", file, i+1, err)
					continue
				}
				w, err := Parse(s)
				if err != nil {
					t.Errorf("%s row %d: reparse %q: %v", file, i+1, s, err)
					continue
				}
				if !Equal(v, w) {
					t.Errorf("%s row %d: round trip differs: %q", file, i+1, s)
				}
			}
		}
	}
}

// decoded.tsv writes trees in the canonical printed form (strings by the
// rule of PLAN.md 2.3), so printing must reproduce it byte for byte.
func TestVectorsDecodedGolden(t *testing.T) {
	rows := readCases(t, "testdata/pallas_decoded.tsv")
	if len(rows) != 4 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, row := range rows {
		v := mustParse(t, row[1])
		if got := String(v); got != row[1] {
			t.Errorf("%s: printed\n%s\nwant\n%s", row[0], got, row[1])
		}
	}
}
