package plan

// The printer for the PLAN text syntax (PLAN.md section 2.3). It walks the
// value with an explicit stack (no Go recursion) and counts the bytes it
// writes, so a DAG whose tree is astronomically large stops at the limit
// after about Limit bytes of work instead of hanging.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrTooLong is returned (wrapped) when the printed form exceeds the output
// limit. The output written so far is a prefix of the full text.
var ErrTooLong = errors.New("plan: printed value too long")

// DefaultPrintLimit is the output limit used when PrintOptions.Limit is 0.
const DefaultPrintLimit = 1 << 20

// PrintOptions controls Print.
type PrintOptions struct {
	// PinToken, when set, is asked about every pin before it is printed;
	// if it returns ok the pin is printed as the returned token (the
	// command line formats the pin's CID, so stored pins are not loaded
	// and inlined). Otherwise the pin is printed inline as <x>.
	PinToken func(*Pin) (string, bool)
	// Limit is the maximum number of bytes to write: 0 means
	// DefaultPrintLimit, a negative value means no limit.
	Limit int
	// Hex prints nats of 2^64 and above in hex (0x...), which is linear
	// in their size, instead of decimal. String-like nats are still
	// printed as strings.
	Hex bool
}

// Print writes the text of v to w: nats in decimal (or as "string" when the
// nat is at least 256, every byte is an ASCII letter, digit or '_', and the
// first, least significant, byte is not a digit), apps flattened along the
// head as (f a b c), laws as {name arity body}, pins as <x>. Parse reads the
// text back to an Equal value.
//
// Pins are loaded on demand (Pin.Item); a load failure stops printing and
// is returned. Exceeding the limit returns an error wrapping ErrTooLong
// after writing exactly Limit bytes.
func Print(w io.Writer, v Value, opts PrintOptions) error {
	pr := printer{opts: opts, limit: opts.Limit}
	if pr.limit == 0 {
		pr.limit = DefaultPrintLimit
	}
	var bw *bufio.Writer
	if sb, ok := w.(*strings.Builder); ok {
		pr.w = sb
	} else {
		bw = bufio.NewWriter(w)
		pr.w = bw
	}
	err := pr.print(v)
	if bw != nil {
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

// Sprint returns the text of v. On error the text so far is returned with
// the error.
func Sprint(v Value, opts PrintOptions) (string, error) {
	var sb strings.Builder
	err := Print(&sb, v, opts)
	return sb.String(), err
}

// String returns the text of v with the default options. If printing
// fails (limit reached, pin not loadable), it returns the text so far
// followed by " ...(output truncated: <reason>)".
func String(v Value) string {
	s, err := Sprint(v, PrintOptions{})
	if err != nil {
		return s + " ...(output truncated: " + err.Error() + ")"
	}
	return s
}

type stringWriter interface {
	io.Writer
	WriteString(string) (int, error)
}

// printItem is one pending piece of output: a value, a literal, or the
// remaining arguments of one app node (each printed after a space).
type printItem struct {
	v    Value
	lit  string
	args []Value
}

type printer struct {
	opts  PrintOptions
	w     stringWriter
	limit int // < 0: none
	n     int // bytes written
	werr  error
	stack []printItem
	// scratch formats small nats without allocating.
	scratch []byte
}

// emit writes s, or the part of it that fits under the limit.
func (pr *printer) emit(s string) error {
	if pr.werr != nil {
		return pr.werr
	}
	if pr.limit >= 0 && pr.n+len(s) > pr.limit {
		s = s[:pr.limit-pr.n]
		pr.write(s)
		if pr.werr != nil {
			return pr.werr
		}
		return fmt.Errorf("%w (limit %d bytes)", ErrTooLong, pr.limit)
	}
	pr.write(s)
	return pr.werr
}

func (pr *printer) emitBytes(b []byte) error {
	if pr.limit >= 0 && pr.n+len(b) > pr.limit {
		return pr.emit(string(b))
	}
	if pr.werr != nil {
		return pr.werr
	}
	_, err := pr.w.Write(b)
	pr.n += len(b)
	if err != nil {
		pr.werr = err
	}
	return err
}

func (pr *printer) write(s string) {
	if len(s) == 0 {
		return
	}
	_, err := pr.w.WriteString(s)
	pr.n += len(s)
	if err != nil {
		pr.werr = err
	}
}

func (pr *printer) print(v Value) error {
	pr.stack = append(pr.stack[:0], printItem{v: v})
	for len(pr.stack) > 0 {
		top := &pr.stack[len(pr.stack)-1]
		if top.args != nil {
			if len(top.args) == 0 {
				pr.stack = pr.stack[:len(pr.stack)-1]
				continue
			}
			a := top.args[0]
			top.args = top.args[1:]
			if err := pr.emit(" "); err != nil {
				return err
			}
			pr.stack = append(pr.stack, printItem{v: a})
			continue
		}
		it := *top
		pr.stack = pr.stack[:len(pr.stack)-1]
		if it.lit != "" {
			if err := pr.emit(it.lit); err != nil {
				return err
			}
			continue
		}
		if err := pr.value(it.v); err != nil {
			return err
		}
	}
	return nil
}

// value prints the start of v and pushes the rest.
func (pr *printer) value(v Value) error {
	switch x := v.(type) {
	case Nat:
		return pr.nat(x)
	case *App:
		// Walk down the function parts to the head, pushing each
		// node's arguments so the innermost node's come out first.
		pr.stack = append(pr.stack, printItem{lit: ")"})
		var head Value = x
		for {
			a, ok := head.(*App)
			if !ok {
				break
			}
			pr.stack = append(pr.stack, printItem{args: a.Args})
			head = a.Fun
		}
		pr.stack = append(pr.stack, printItem{v: head})
		return pr.emit("(")
	case *Law:
		if err := pr.emit("{"); err != nil {
			return err
		}
		if err := pr.nat(x.Name); err != nil {
			return err
		}
		if err := pr.emit(" "); err != nil {
			return err
		}
		if err := pr.nat(x.Arity); err != nil {
			return err
		}
		pr.stack = append(pr.stack, printItem{lit: "}"}, printItem{v: x.Body})
		return pr.emit(" ")
	case *Pin:
		if pr.opts.PinToken != nil {
			if tok, ok := pr.opts.PinToken(x); ok {
				return pr.emit(tok)
			}
		}
		item, err := x.Item()
		if err != nil {
			return fmt.Errorf("plan: printing pin: %w", err)
		}
		pr.stack = append(pr.stack, printItem{lit: ">"}, printItem{v: item})
		return pr.emit("<")
	case nil:
		return errors.New("plan: printing a nil value")
	}
	return fmt.Errorf("plan: printing unknown value type %T", v)
}

func (pr *printer) nat(n Nat) error {
	if u, ok := n.Uint64(); ok {
		pr.scratch = appendSmallNat(pr.scratch[:0], u)
		return pr.emitBytes(pr.scratch)
	}
	// Anything longer than what is left cannot fit in any notation
	// (decimal and hex need more characters than bytes, a string two
	// more), so do not convert a huge nat only to cut it off.
	if pr.limit >= 0 && n.ByteLen() > pr.limit-pr.n {
		return fmt.Errorf("%w (limit %d bytes, at a %d-byte nat)", ErrTooLong, pr.limit, n.ByteLen())
	}
	if s, ok := natString(n); ok {
		return pr.emit(s)
	}
	if pr.opts.Hex {
		return pr.emit("0x" + n.BigShared().Text(16))
	}
	return pr.emit(n.String())
}

// appendSmallNat appends a word-sized nat in decimal, or as a string
// literal when the printing rule says so, without allocating.
func appendSmallNat(dst []byte, u uint64) []byte {
	if u >= 256 && !isDigit(byte(u)) {
		ok := true
		for v := u; v != 0; v >>= 8 {
			if c := byte(v); !isAlnum(c) && c != '_' {
				ok = false
				break
			}
		}
		if ok {
			dst = append(dst, '"')
			for v := u; v != 0; v >>= 8 {
				dst = append(dst, byte(v))
			}
			return append(dst, '"')
		}
	}
	return strconv.AppendUint(dst, u, 10)
}

// natString returns a big nat as a "string" literal if the printing rule
// says so.
func natString(n Nat) (string, bool) {
	b := n.AppendBytes(nil)
	if isDigit(b[0]) {
		return "", false
	}
	for _, c := range b {
		if !isAlnum(c) && c != '_' {
			return "", false
		}
	}
	return `"` + string(b) + `"`, true
}
