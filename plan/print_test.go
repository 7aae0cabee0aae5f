package plan

import (
	"bytes"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestPrintValues(t *testing.T) {
	big64 := new(big.Int).Lsh(big.NewInt(1), 64)
	cases := []struct {
		v    Value
		want string
	}{
		{N(0), "0"},
		{N(97), "97"},
		{N(255), "255"},
		{N(25705), `"id"`},
		{N(0x3161), `"a1"`},
		{N(0x6131), "24881"},         // first byte '1' is a digit
		{N(0x2061), "8289"},          // space is not allowed
		{N(0x5f5f), `"__"`},          // underscores are
		{N(499848736628), `"toNat"`}, //
		{NatFromBig(big64), "18446744073709551616"},
		{NatFromBytes([]byte("applyTwice")), `"applyTwice"`},
		{NatFromBytes([]byte("a_very_long_name_0123456789_XYZ")), `"a_very_long_name_0123456789_XYZ"`},
		{A(N(1), N(2)), "(1 2)"},
		{A(A(N(1), N(2)), N(3)), "(1 2 3)"},
		{NewAppShared(NewAppShared(NewAppShared(N(1), []Value{N(2)}), []Value{N(3), N(4)}), []Value{N(5)}), "(1 2 3 4 5)"},
		{A(N(1), A(N(2), N(3))), "(1 (2 3))"},
		{L(N(25705), N(1), N(1)), `{"id" 1 1}`},
		{L(N(1), N(0), A(N(0), N(1))), "{1 0 (0 1)}"},
		{P(N(0)), "<0>"},
		{P(P(A(N(0), L(N(1), N(2), P(N(3)))))), "<<(0 {1 2 <3>})>>"},
		{A(P(N(4)), N(0), N(1)), "(<4> 0 1)"},
	}
	for _, c := range cases {
		got, err := Sprint(c.v, PrintOptions{})
		if err != nil || got != c.want {
			t.Errorf("Sprint = %q, %v; want %q", got, err, c.want)
		}
		if !Equal(mustParse(t, got), c.v) {
			t.Errorf("%q does not parse back", got)
		}
	}
}

func TestPrintHex(t *testing.T) {
	b, _ := new(big.Int).SetString("123456789abcdef0123456789abcdef", 16)
	got, err := Sprint(A(N(300), NatFromBig(b)), PrintOptions{Hex: true})
	if err != nil || got != "(300 0x123456789abcdef0123456789abcdef)" {
		t.Fatalf("got %q, %v", got, err)
	}
	if !Equal(mustParse(t, got), A(N(300), NatFromBig(b))) {
		t.Fatal("hex does not parse back")
	}
}

func TestPrintPinToken(t *testing.T) {
	stored := NewPinRef(Digest{1}, nil) // never loaded: the hook names it
	local := P(N(5))
	v := A(stored, local, P(stored))
	opts := PrintOptions{PinToken: func(p *Pin) (string, bool) {
		if p == stored {
			return "bafystored", true
		}
		return "", false
	}}
	got, err := Sprint(v, opts)
	if err != nil || got != "(bafystored <5> <bafystored>)" {
		t.Fatalf("got %q, %v", got, err)
	}
	if stored.Loaded() {
		t.Fatal("printing loaded a pin that PinToken named")
	}
	back, err := ParseWith(got, ParseOptions{ResolveCID: func(tok string) (Value, error) {
		if tok != "bafystored" {
			t.Fatalf("token %q", tok)
		}
		return stored, nil
	}})
	if err != nil || !Equal(back, v) {
		t.Fatalf("token does not parse back: %v", err)
	}
}

type mapLoader map[Digest]Value

func (m mapLoader) LoadPin(d Digest) (Value, error) {
	if v, ok := m[d]; ok {
		return v, nil
	}
	return nil, errBadPin
}

var errBadPin = errors.New("test: no such pin")

func TestPrintLoadsPins(t *testing.T) {
	l := mapLoader{{1}: A(N(3), N(4))}
	ok := NewPinRef(Digest{1}, l)
	if got := String(A(N(0), ok)); got != "(0 <(3 4)>)" {
		t.Fatalf("got %q", got)
	}
	bad := NewPinRef(Digest{2}, l)
	s, err := Sprint(A(N(0), bad), PrintOptions{})
	if !errors.Is(err, errBadPin) || s != "(0 " {
		t.Fatalf("got %q, %v", s, err)
	}
	if got := String(A(N(0), bad)); !strings.HasPrefix(got, "(0  ...(output truncated: ") || !strings.Contains(got, "no such pin") {
		t.Fatalf("String = %q", got)
	}
}

// A DAG of depth 60 whose tree has 2^60 leaves must stop at the limit.
func TestPrintLimitDAG(t *testing.T) {
	var v Value = N(1)
	for i := 0; i < 60; i++ {
		v = NewAppShared(v, []Value{v})
	}
	start := time.Now()
	s, err := Sprint(v, PrintOptions{})
	if !errors.Is(err, ErrTooLong) || len(s) != DefaultPrintLimit {
		t.Fatalf("len %d, err %v", len(s), err)
	}
	s, err = Sprint(v, PrintOptions{Limit: 10})
	if !errors.Is(err, ErrTooLong) || s != "(1 1 (1 1)" {
		t.Fatalf("got %q, %v", s, err)
	}
	// Same with pins and laws in the way, and with flat args.
	var w Value = N(7)
	for i := 0; i < 60; i++ {
		w = A(P(w), L(N(1), N(2), w), w)
	}
	s, err = Sprint(w, PrintOptions{Limit: 1000})
	if !errors.Is(err, ErrTooLong) || len(s) != 1000 {
		t.Fatalf("len %d, err %v", len(s), err)
	}
	if got := String(w); !strings.HasSuffix(got, "...(output truncated: plan: printed value too long (limit 1048576 bytes))") {
		t.Fatalf("String suffix: %q", got[len(got)-80:])
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	// Exactly at the limit is fine.
	s, err = Sprint(A(N(1), N(2)), PrintOptions{Limit: 5})
	if err != nil || s != "(1 2)" {
		t.Fatalf("got %q, %v", s, err)
	}
	_, err = Sprint(A(N(1), N(2)), PrintOptions{Limit: 4})
	if !errors.Is(err, ErrTooLong) {
		t.Fatal(err)
	}
}

func TestPrintHugeNatLimit(t *testing.T) {
	b := make([]byte, 4<<20)
	for i := range b {
		b[i] = byte(i*31 + 7)
	}
	n := NatFromBytes(b)
	start := time.Now()
	s, err := Sprint(A(N(1), n), PrintOptions{})
	if !errors.Is(err, ErrTooLong) || s != "(1 " {
		t.Fatalf("got %q, %v", s, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("huge nat took %v to refuse", d)
	}
}

type errWriter struct{ n int }

var errWrite = errors.New("test: write failed")

func (w *errWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return 0, errWrite
}

func TestPrintWriterError(t *testing.T) {
	args := make([]Value, 10000)
	for i := range args {
		args[i] = N(uint64(i))
	}
	for _, v := range []Value{N(1), A(N(0), args...)} {
		if err := Print(&errWriter{}, v, PrintOptions{}); !errors.Is(err, errWrite) {
			t.Errorf("got %v, want the writer's error", err)
		}
	}
	var buf bytes.Buffer
	if err := Print(&buf, A(N(0), args...), PrintOptions{}); err != nil || !strings.HasPrefix(buf.String(), "(0 0 1 2 3") {
		t.Fatalf("%v %q", err, buf.String()[:10])
	}
}
