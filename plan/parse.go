package plan

// The reader for the PLAN text syntax (PLAN.md sections 2.1, 2.2 and 2.4),
// plus the two tokens the command line adds (a CID, @path.seed).
//
// Grammar, as accepted here:
//
//	value    = nat | app | law | pin | seedref | cid | seedpath
//	nat      = decimal | hex | string
//	decimal  = digit { digit }                ; leading zeros allowed
//	hex      = "0x" hexdigit { hexdigit }     ; digits in either case
//	string   = '"' { char | escape } '"'      ; PLAN.md 2.2
//	app      = "(" value { value } ")"        ; (x) is x; () is invalid
//	law      = "{" nat nat value "}"          ; arity 0 accepted (plan4)
//	pin      = "<" value ">"
//	seedref  = "<" filename ".seed" ">"       ; filename = [A-Za-z0-9_]+
//	cid      = "b" { letter | digit }         ; multibase base32 CID
//	seedpath = "@" { non-space non-bracket } ".seed"
//
// Whitespace is space, tab, CR and LF. After an atom (nat, cid, seedpath)
// the next character must be whitespace, a bracket or the end of input, so
// `12"a"` and `0x1g` are errors rather than two tokens.
//
// The parser is a loop over an explicit stack of open brackets whose
// elements share one value stack; it never recurses on the Go stack, so the
// nesting depth is limited only by memory (about 24 bytes per open bracket
// plus 16 per pending value).

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"
)

// ErrSyntax is wrapped by every error that is about the text itself
// (including a CID or seed token met without the hook that resolves it).
// Test with errors.Is.
var ErrSyntax = errors.New("plan: syntax error")

// SyntaxError is the error Parse returns: a position and what went wrong.
// Line and Col are 1-based; Col counts characters (runes), not bytes. When a
// hook failed, Err is the hook's error and Unwrap returns it; otherwise
// Unwrap returns ErrSyntax.
type SyntaxError struct {
	Line, Col int
	Offset    int // byte offset in the input
	Msg       string
	Err       error // hook error, or nil
}

func (e *SyntaxError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("plan: %d:%d: %s: %v", e.Line, e.Col, e.Msg, e.Err)
	}
	return fmt.Sprintf("plan: %d:%d: %s", e.Line, e.Col, e.Msg)
}

func (e *SyntaxError) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	return ErrSyntax
}

// ParseOptions carries the hooks that give meaning to the tokens plan/
// cannot resolve by itself (they need a store or a SEED decoder, which live
// above this package). A nil hook makes its token a syntax error that names
// the token. Hook errors are returned wrapped, with the token's position.
type ParseOptions struct {
	// ResolveCID resolves a bare CID token such as bafy...: a multibase
	// base32 string ('b' followed by letters and digits).
	ResolveCID func(token string) (Value, error)
	// ResolveSeed resolves @path.seed; it is given the path as written,
	// without the '@' (relative paths are relative to the working
	// directory of the caller).
	ResolveSeed func(path string) (Value, error)
	// SeedRef resolves the test-vector reference <name.seed> (PLAN.md
	// 2.4); it is given the file name including ".seed", e.g. "cmp.seed".
	SeedRef func(name string) (Value, error)
}

// Parse reads exactly one value from src, built as written (nothing is
// evaluated or normalized). CID and seed tokens are errors; use ParseWith
// to resolve them.
func Parse(src string) (Value, error) { return ParseWith(src, ParseOptions{}) }

// ParseWith is Parse with hooks for CID and seed tokens.
func ParseWith(src string, opts ParseOptions) (Value, error) {
	p := parser{src: src, opts: opts}
	return p.run()
}

const (
	frameTop = iota
	frameApp
	frameLaw
	framePin
)

// frame is an open bracket. Its elements are vals[start:].
type frame struct {
	kind  uint8
	start int
	off   int // offset of the opening bracket
}

type parser struct {
	src    string
	pos    int
	opts   ParseOptions
	frames []frame
	vals   []Value
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isBracket(c byte) bool {
	switch c {
	case '(', ')', '{', '}', '<', '>':
		return true
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// errAt builds a SyntaxError for byte offset off.
func (p *parser) errAt(off int, err error, format string, args ...any) error {
	if off > len(p.src) {
		off = len(p.src)
	}
	line, col := 1, 1
	lineStart := 0
	for i := 0; i < off; i++ {
		if p.src[i] == '\n' {
			line++
			lineStart = i + 1
		}
	}
	col += utf8.RuneCountInString(p.src[lineStart:off])
	return &SyntaxError{Line: line, Col: col, Offset: off, Msg: fmt.Sprintf(format, args...), Err: err}
}

// found describes what is at offset off, for error messages.
func (p *parser) found(off int) string {
	if off >= len(p.src) {
		return "end of input"
	}
	c := p.src[off]
	if isBracket(c) || c == '"' {
		return fmt.Sprintf("'%c'", c)
	}
	end := off
	for end < len(p.src) && !isSpace(p.src[end]) && !isBracket(p.src[end]) && p.src[end] != '"' {
		end++
	}
	w := p.src[off:end]
	if len(w) > 40 {
		w = w[:40] + "..."
	}
	return fmt.Sprintf("%q", w)
}

// expected says what the innermost open bracket wants next.
func (p *parser) expected() string {
	f := p.frames[len(p.frames)-1]
	n := len(p.vals) - f.start
	switch f.kind {
	case frameTop:
		if n == 0 {
			return "a value"
		}
		return "end of input"
	case frameApp:
		if n == 0 {
			return "a value"
		}
		return "')' or a value"
	case frameLaw:
		switch n {
		case 0:
			return "a nat literal (law name)"
		case 1:
			return "a nat literal (law arity)"
		case 2:
			return "a value (law body)"
		}
		return "'}'"
	default: // framePin
		if n == 0 {
			return "a value"
		}
		return "'>'"
	}
}

func (p *parser) unexpected(off int) error {
	return p.errAt(off, nil, "expected %s, found %s", p.expected(), p.found(off))
}

func (p *parser) run() (Value, error) {
	p.frames = append(p.frames, frame{kind: frameTop})
	for {
		for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
			p.pos++
		}
		f := &p.frames[len(p.frames)-1]
		n := len(p.vals) - f.start
		if p.pos >= len(p.src) {
			if f.kind == frameTop && n == 1 {
				return p.vals[0], nil
			}
			return nil, p.unexpected(p.pos)
		}
		// Does the innermost frame accept another value? If not, the
		// only valid input is its closing bracket.
		full := (f.kind == frameTop && n == 1) || (f.kind == frameLaw && n == 3) || (f.kind == framePin && n == 1)
		c := p.src[p.pos]
		switch {
		case c == ')' && f.kind == frameApp && n >= 1:
			p.pos++
			items := p.vals[f.start:]
			v := A(items[0], items[1:]...)
			p.closeFrame(v)
			continue
		case c == '}' && f.kind == frameLaw && n == 3:
			p.pos++
			items := p.vals[f.start:]
			v := L(items[0].(Nat), items[1].(Nat), items[2])
			p.closeFrame(v)
			continue
		case c == '>' && f.kind == framePin && n == 1:
			p.pos++
			v := P(p.vals[f.start])
			p.closeFrame(v)
			continue
		case full:
			return nil, p.unexpected(p.pos)
		}
		wantNat := f.kind == frameLaw && n < 2
		start := p.pos
		switch c {
		case '(', '{':
			if wantNat {
				return nil, p.unexpected(start)
			}
			p.pos++
			k := uint8(frameApp)
			if c == '{' {
				k = frameLaw
			}
			p.frames = append(p.frames, frame{kind: k, start: len(p.vals), off: start})
			continue
		case '<':
			if wantNat {
				return nil, p.unexpected(start)
			}
			if name, ok := p.seedRefAt(start); ok {
				if p.opts.SeedRef == nil {
					return nil, p.errAt(start, nil, "seed reference <%s> needs a seed loader", name)
				}
				v, err := p.opts.SeedRef(name)
				if err == nil && v == nil {
					err = errors.New("no value")
				}
				if err != nil {
					return nil, p.errAt(start, err, "seed reference <%s>", name)
				}
				p.pos = start + len(name) + 2
				p.vals = append(p.vals, v)
				continue
			}
			p.pos++
			p.frames = append(p.frames, frame{kind: framePin, start: len(p.vals), off: start})
			continue
		case ')', '}', '>':
			return nil, p.unexpected(start)
		}
		v, err := p.atom(wantNat)
		if err != nil {
			return nil, err
		}
		if p.pos < len(p.src) && !isSpace(p.src[p.pos]) && !isBracket(p.src[p.pos]) {
			return nil, p.errAt(p.pos, nil, "expected whitespace or a bracket after %s, found %s", p.src[start:p.pos], p.found(p.pos))
		}
		p.vals = append(p.vals, v)
	}
}

// closeFrame pops the innermost frame, replacing its elements by v, which
// becomes an element of the enclosing frame.
func (p *parser) closeFrame(v Value) {
	f := p.frames[len(p.frames)-1]
	p.frames = p.frames[:len(p.frames)-1]
	clear(p.vals[f.start:])
	p.vals = append(p.vals[:f.start], v)
}

// seedRefAt reports whether src[off:] starts with <name.seed>, and returns
// "name.seed".
func (p *parser) seedRefAt(off int) (string, bool) {
	i := off + 1
	for i < len(p.src) && (isAlnum(p.src[i]) || p.src[i] == '_') {
		i++
	}
	if i == off+1 || !strings.HasPrefix(p.src[i:], ".seed>") {
		return "", false
	}
	return p.src[off+1 : i+len(".seed")], true
}

// atom reads a nat literal, a CID token or @path.seed at p.pos. With
// wantNat only nat literals are allowed.
func (p *parser) atom(wantNat bool) (Value, error) {
	start := p.pos
	c := p.src[start]
	if c == '"' {
		return p.stringNat()
	}
	if c == '@' && !wantNat {
		end := start + 1
		for end < len(p.src) && !isSpace(p.src[end]) && !isBracket(p.src[end]) {
			end++
		}
		path := p.src[start+1 : end]
		if len(path) <= len(".seed") || !strings.HasSuffix(path, ".seed") {
			return nil, p.errAt(start, nil, "expected %s, found %s (a seed file reference is @path.seed)", p.expected(), p.found(start))
		}
		if p.opts.ResolveSeed == nil {
			return nil, p.errAt(start, nil, "seed file reference @%s needs a seed loader", path)
		}
		v, err := p.opts.ResolveSeed(path)
		if err == nil && v == nil {
			err = errors.New("no value")
		}
		if err != nil {
			return nil, p.errAt(start, err, "loading @%s", path)
		}
		p.pos = end
		return v, nil
	}
	end := start
	for end < len(p.src) && !isSpace(p.src[end]) && !isBracket(p.src[end]) && p.src[end] != '"' {
		end++
	}
	w := p.src[start:end]
	switch {
	case isDigit(c):
		if strings.HasPrefix(w, "0x") {
			n, ok := parseHex(w[2:])
			if !ok {
				return nil, p.errAt(start, nil, "invalid hex nat %s", p.found(start))
			}
			p.pos = end
			return n, nil
		}
		for i := 0; i < len(w); i++ {
			if !isDigit(w[i]) {
				return nil, p.errAt(start, nil, "invalid decimal nat %s", p.found(start))
			}
		}
		p.pos = end
		if len(w) <= 3 {
			if u, _ := parseDecimal(w).Uint64(); u < uint64(len(boxedSmall)) {
				return boxedSmall[u], nil
			}
		}
		return parseDecimal(w), nil
	case c == 'b' && !wantNat && allAlnum(w):
		if p.opts.ResolveCID == nil {
			return nil, p.errAt(start, nil, "CID %s needs a store to resolve it", w)
		}
		v, err := p.opts.ResolveCID(w)
		if err == nil && v == nil {
			err = errors.New("no value")
		}
		if err != nil {
			return nil, p.errAt(start, err, "resolving CID %s", w)
		}
		p.pos = end
		return v, nil
	}
	return nil, p.unexpected(start)
}

func allAlnum(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isAlnum(w[i]) {
			return false
		}
	}
	return true
}

// stringNat reads a string literal at p.pos (PLAN.md 2.2).
func (p *parser) stringNat() (Value, error) {
	start := p.pos
	i := start + 1
	var b []byte
	for {
		if i >= len(p.src) {
			return nil, p.errAt(start, nil, "unterminated string literal")
		}
		c := p.src[i]
		switch {
		case c == '"':
			if len(b) > 0 && b[len(b)-1] == 0 {
				return nil, p.errAt(start, nil, "string literal ends with a 0x00 byte (write the nat without it)")
			}
			p.pos = i + 1
			return NatFromBytes(b), nil
		case c == '\\':
			if i+1 >= len(p.src) {
				return nil, p.errAt(start, nil, "unterminated string literal")
			}
			switch p.src[i+1] {
			case '\\', '"':
				b = append(b, p.src[i+1])
				i += 2
			case 'x':
				if i+3 < len(p.src) {
					h, ok1 := hexVal(p.src[i+2])
					l, ok2 := hexVal(p.src[i+3])
					if ok1 && ok2 {
						b = append(b, h<<4|l)
						i += 4
						continue
					}
				}
				return nil, p.errAt(i, nil, `invalid escape: \x needs exactly two hex digits`)
			default:
				r, _ := utf8.DecodeRuneInString(p.src[i+1:])
				return nil, p.errAt(i, nil, `invalid escape \%c (only \\, \" and \xHH exist)`, r)
			}
		case c < 0x20 || c == 0x7f:
			return nil, p.errAt(i, nil, "control character %U in string literal (write it as \\x%02x)", rune(c), c)
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(p.src[i:])
			if r == utf8.RuneError && size <= 1 {
				return nil, p.errAt(i, nil, "invalid UTF-8 in string literal")
			}
			b = append(b, p.src[i:i+size]...)
			i += size
		}
	}
}

// boxedSmall holds the nats 0..255 already converted to Value, so the
// common small literals do not each allocate an interface box.
var boxedSmall = func() (t [256]Value) {
	for i := range t {
		t[i] = N(uint64(i))
	}
	return t
}()

// parseHex reads hex digits (leading zeros allowed) in linear time.
func parseHex(s string) (Nat, bool) {
	if len(s) == 0 {
		return Nat{}, false
	}
	le := make([]byte, (len(s)+1)/2)
	for i := 0; i < len(s); i++ {
		d, ok := hexVal(s[len(s)-1-i])
		if !ok {
			return Nat{}, false
		}
		le[i/2] |= d << (4 * (i % 2))
	}
	return NatFromBytes(le), true
}

// decimalCutoff is the length below which math/big's own (quadratic)
// conversion is used; above it the digits are split in halves so the cost
// follows big multiplication (Karatsuba) instead of growing quadratically.
const decimalCutoff = 2000

// parseDecimal reads a string of ASCII digits (checked by the caller).
func parseDecimal(s string) Nat {
	if len(s) <= 19 {
		var v uint64
		for i := 0; i < len(s); i++ {
			v = v*10 + uint64(s[i]-'0')
		}
		return N(v)
	}
	pows := map[int]*big.Int{}
	return NatFromBigNoCopy(decimalBig(s, pows))
}

func decimalBig(s string, pows map[int]*big.Int) *big.Int {
	if len(s) <= decimalCutoff {
		z, _ := new(big.Int).SetString(s, 10)
		return z
	}
	// Split off a low part of decimalCutoff*2^k digits, so the powers of
	// ten are few and reused. Recursion depth is O(log len(s)).
	h := decimalCutoff
	for 2*h < len(s) {
		h *= 2
	}
	pw, ok := pows[h]
	if !ok {
		pw = new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(h)), nil)
		pows[h] = pw
	}
	hi := decimalBig(s[:len(s)-h], pows)
	lo := decimalBig(s[len(s)-h:], pows)
	return hi.Mul(hi, pw).Add(hi, lo)
}
