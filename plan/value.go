package plan

import (
	"cmp"
	"fmt"
	"math/big"
	"math/bits"
	"sync"
)

// Kind says which of the four PLAN kinds a value is. The numeric order of the
// kinds is the type rank of the PLAN4 total order (PLAN4.md section 8):
// nat < pin < law < app.
type Kind uint8

const (
	KindNat Kind = iota
	KindPin
	KindLaw
	KindApp
)

func (k Kind) String() string {
	switch k {
	case KindNat:
		return "nat"
	case KindPin:
		return "pin"
	case KindLaw:
		return "law"
	case KindApp:
		return "app"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Value is a PLAN value: a Nat, an *App, a *Law or a *Pin. Values are
// immutable once built and may be shared freely between goroutines. The set
// of implementations is closed.
type Value interface {
	Kind() Kind
	sealed()
}

// Nat is a natural number of any size. Values below 2^64 are held in a
// machine word (the fast path); larger ones in a *big.Int that is never
// mutated after construction, so it may alias read-only memory such as an
// mmap'd file (ARCHITECTURE.md "Zero copy").
//
// The zero Nat is 0. Invariant: big is nil, or big >= 2^64.
type Nat struct {
	small uint64
	big   *big.Int
}

func (Nat) Kind() Kind { return KindNat }
func (Nat) sealed()    {}

// N returns the nat n.
func N(n uint64) Nat { return Nat{small: n} }

// NatFromBig returns the nat b. b must be non-negative; it is copied when it
// is at least 2^64, so the caller may keep mutating it.
func NatFromBig(b *big.Int) Nat {
	if b.Sign() < 0 {
		panic("plan: negative nat")
	}
	if b.IsUint64() {
		return Nat{small: b.Uint64()}
	}
	return Nat{big: new(big.Int).Set(b)}
}

// NatFromBigNoCopy is NatFromBig without the copy: b must never be mutated
// afterwards. It is how decoders keep mapped bignats in place.
func NatFromBigNoCopy(b *big.Int) Nat {
	if b.Sign() < 0 {
		panic("plan: negative nat")
	}
	if b.IsUint64() {
		return Nat{small: b.Uint64()}
	}
	return Nat{big: b}
}

// NatFromBits returns the nat whose little-endian words (math/big's
// big.Word, least significant first) are w. When the value needs more than
// 64 bits the returned nat aliases w (no copy): w must never be modified
// afterwards, which is what lets a decoder keep a mapped bignat in place.
// Leading zero words are allowed.
func NatFromBits(w []big.Word) Nat {
	for len(w) > 0 && w[len(w)-1] == 0 {
		w = w[:len(w)-1]
	}
	if len(w)*bits.UintSize <= 64 {
		var v uint64
		shift := uint(bits.UintSize)
		for i := len(w) - 1; i >= 0; i-- {
			v = v<<shift | uint64(w[i])
		}
		return Nat{small: v}
	}
	return Nat{big: new(big.Int).SetBits(w)}
}

// NatFromUint64s returns the nat whose little-endian 64-bit words are w. The
// words are copied.
func NatFromUint64s(w []uint64) Nat {
	for len(w) > 0 && w[len(w)-1] == 0 {
		w = w[:len(w)-1]
	}
	if len(w) <= 1 {
		if len(w) == 0 {
			return Nat{}
		}
		return Nat{small: w[0]}
	}
	b := make([]byte, 0, 8*len(w))
	for _, x := range w {
		for k := 0; k < 8; k++ {
			b = append(b, byte(x>>(8*k)))
		}
	}
	return NatFromBytes(b)
}

// NatFromBytes returns the nat whose little-endian bytes are b (b[0] is the
// least significant). The bytes are copied.
func NatFromBytes(b []byte) Nat {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	if len(b) <= 8 {
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		return Nat{small: v}
	}
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	return Nat{big: new(big.Int).SetBytes(be)}
}

// IsSmall reports whether n fits in a machine word.
func (n Nat) IsSmall() bool { return n.big == nil }

// Uint64 returns n and true if n < 2^64, else 0 and false.
func (n Nat) Uint64() (uint64, bool) {
	if n.big != nil {
		return 0, false
	}
	return n.small, true
}

// Big returns n as a new *big.Int that the caller owns.
func (n Nat) Big() *big.Int {
	if n.big != nil {
		return new(big.Int).Set(n.big)
	}
	return new(big.Int).SetUint64(n.small)
}

// BigShared returns n as a *big.Int that the caller must not modify. For a
// big nat it is the nat's own storage (possibly read-only mapped memory).
func (n Nat) BigShared() *big.Int {
	if n.big != nil {
		return n.big
	}
	return new(big.Int).SetUint64(n.small)
}

// IsZero reports whether n is 0.
func (n Nat) IsZero() bool { return n.big == nil && n.small == 0 }

// BitLen returns the number of bits needed to write n (0 for 0).
func (n Nat) BitLen() int {
	if n.big != nil {
		return n.big.BitLen()
	}
	return bits.Len64(n.small)
}

// ByteLen returns the number of bytes needed to write n (0 for 0).
func (n Nat) ByteLen() int { return (n.BitLen() + 7) / 8 }

// Uint64s returns n's little-endian 64-bit words, minimal (no leading zero
// word; empty for 0), as a new slice.
func (n Nat) Uint64s() []uint64 {
	if n.big == nil {
		if n.small == 0 {
			return nil
		}
		return []uint64{n.small}
	}
	ws := n.big.Bits()
	out := make([]uint64, 0, (len(ws)*bits.UintSize+63)/64)
	var cur uint64
	shift := 0
	for _, w := range ws {
		cur |= uint64(w) << shift
		shift += bits.UintSize
		if shift == 64 {
			out = append(out, cur)
			cur, shift = 0, 0
		}
	}
	if shift != 0 {
		out = append(out, cur)
	}
	for len(out) > 0 && out[len(out)-1] == 0 {
		out = out[:len(out)-1]
	}
	return out
}

// Bits returns the words of a big nat (n >= 2^64) as math/big stores them,
// least significant first, sharing n's storage (do not modify); nil for a
// small nat.
func (n Nat) Bits() []big.Word {
	if n.big == nil {
		return nil
	}
	return n.big.Bits()
}

// AppendBytes appends n's minimal little-endian byte string to dst.
func (n Nat) AppendBytes(dst []byte) []byte {
	if n.big == nil {
		for v := n.small; v != 0; v >>= 8 {
			dst = append(dst, byte(v))
		}
		return dst
	}
	w := n.Uint64s()
	for i, x := range w {
		if i == len(w)-1 {
			for ; x != 0; x >>= 8 {
				dst = append(dst, byte(x))
			}
		} else {
			for k := 0; k < 8; k++ {
				dst = append(dst, byte(x>>(8*k)))
			}
		}
	}
	return dst
}

// Cmp compares two nats numerically: -1, 0 or +1.
func (n Nat) Cmp(m Nat) int {
	switch {
	case n.big == nil && m.big == nil:
		return cmp.Compare(n.small, m.small)
	case n.big == nil:
		return -1
	case m.big == nil:
		return 1
	}
	return n.big.Cmp(m.big)
}

// Equal reports whether n == m.
func (n Nat) Equal(m Nat) bool { return n.Cmp(m) == 0 }

// Inc returns n+1.
func (n Nat) Inc() Nat {
	if n.big == nil && n.small != ^uint64(0) {
		return Nat{small: n.small + 1}
	}
	return NatFromBigNoCopy(new(big.Int).Add(n.BigShared(), big.NewInt(1)))
}

// Dec returns n-1; Dec of 0 is 0.
func (n Nat) Dec() Nat {
	if n.big == nil {
		if n.small == 0 {
			return n
		}
		return Nat{small: n.small - 1}
	}
	return NatFromBigNoCopy(new(big.Int).Sub(n.big, big.NewInt(1)))
}

// String returns n in decimal.
func (n Nat) String() string {
	if n.big != nil {
		return n.big.String()
	}
	return fmt.Sprint(n.small)
}

// App is an application. It stands for the left-nested chain
// (((Fun Args[0]) Args[1]) ... Args[n-1]): one node with an argument slice,
// but everything that PLAN can observe (Fun, Arg, equality, order, printing,
// encoding) behaves as binary pairs.
//
// Invariant: len(Args) >= 1. Fun may itself be an *App (when a function part
// is shared, flattening it would copy its arguments); use Spine to get the
// head and all arguments. The Args slice is never modified after
// construction.
type App struct {
	Fun  Value
	Args []Value
}

func (*App) Kind() Kind { return KindApp }
func (*App) sealed()    {}

// A builds the app (f a1 ... an). With no arguments it returns f. When f is
// an *App its arguments are copied into the new node, so that heads stay flat
// where that is cheap; callers that must avoid copying (decoders of shared
// structure) use NewAppShared.
func A(f Value, args ...Value) Value {
	if len(args) == 0 {
		return f
	}
	if fa, ok := f.(*App); ok {
		all := make([]Value, 0, len(fa.Args)+len(args))
		all = append(all, fa.Args...)
		all = append(all, args...)
		return &App{Fun: fa.Fun, Args: all}
	}
	a := make([]Value, len(args))
	copy(a, args)
	return &App{Fun: f, Args: a}
}

// NewAppShared returns the app of f to args without copying args (the caller
// gives up ownership) and without flattening f. len(args) must be >= 1.
func NewAppShared(f Value, args []Value) *App {
	if len(args) == 0 {
		panic("plan: app without arguments")
	}
	return &App{Fun: f, Args: args}
}

// Head returns the function part of the pair view: (f a1 ... an-1), or Fun
// itself when there is one argument. It shares storage with a (no copy).
func (a *App) Head() Value {
	if len(a.Args) == 1 {
		return a.Fun
	}
	return &App{Fun: a.Fun, Args: a.Args[: len(a.Args)-1 : len(a.Args)-1]}
}

// Arg returns the last argument: the argument of the pair view.
func (a *App) Arg() Value { return a.Args[len(a.Args)-1] }

// Spine returns the head (never an *App) and all arguments of a, left to
// right. When a.Fun is not an app the returned slice is a.Args itself and
// must not be modified.
func (a *App) Spine() (Value, []Value) {
	f, ok := a.Fun.(*App)
	if !ok {
		return a.Fun, a.Args
	}
	n := len(a.Args)
	for {
		n += len(f.Args)
		g, ok := f.Fun.(*App)
		if !ok {
			break
		}
		f = g
	}
	args := make([]Value, n)
	var head Value = a
	end := n
	for {
		app, ok := head.(*App)
		if !ok {
			break
		}
		end -= len(app.Args)
		copy(args[end:], app.Args)
		head = app.Fun
	}
	return head, args
}

// Law is the law {Name Arity Body}. Arity 0 is representable: the plan4
// dialect allows it; the pallas evaluator refuses to build one.
type Law struct {
	Name  Nat
	Arity Nat
	Body  Value
}

func (*Law) Kind() Kind { return KindLaw }
func (*Law) sealed()    {}

// L builds the law {name arity body}.
func L(name, arity Nat, body Value) *Law { return &Law{Name: name, Arity: arity, Body: body} }

// Digest is the 32-byte BLAKE3-256 digest of a pin's canonical body
// (SEED.md section 15); the merkle package turns it into a CID.
type Digest [32]byte

// PinLoader loads the contents of a stored pin from its digest. It is how a
// pin that came from a store gets its contents on first use; the page store
// implements it. A loader must be safe for concurrent use.
type PinLoader interface {
	LoadPin(d Digest) (Value, error)
}

// Pin is the pin <Item>. A pin either holds its contents (built in memory or
// already loaded) or is an unloaded reference to a stored pin, known by
// digest, whose contents are fetched through a PinLoader on first use.
//
// A pin caches its digest once computed (by the merkle package), so hashing
// a DAG touches each pin once. All methods are safe for concurrent use.
type Pin struct {
	// mu guards item, loadErr, digest and hasDigest; they only ever go from
	// unset to set.
	mu        sync.Mutex
	item      Value
	loadErr   error
	loader    PinLoader
	digest    Digest
	hasDigest bool
}

func (*Pin) Kind() Kind { return KindPin }
func (*Pin) sealed()    {}

// P builds the pin <x>. It does not normalize x: pins built from text or by
// decoders hold the value as given; evaluators normalize before pinning.
func P(x Value) *Pin { return &Pin{item: x} }

// NewPinRef returns an unloaded pin known by its digest, whose contents are
// loaded through l on first use.
func NewPinRef(d Digest, l PinLoader) *Pin {
	return &Pin{digest: d, hasDigest: true, loader: l}
}

// NewPinWithDigest returns the pin <x> whose canonical body digest the caller
// already knows (a loader that has just verified the body).
func NewPinWithDigest(x Value, d Digest) *Pin {
	return &Pin{item: x, digest: d, hasDigest: true}
}

// Loaded reports whether the pin's contents are in memory.
func (p *Pin) Loaded() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.item != nil
}

// Item returns the pin's contents, loading them on first use. The error is
// the loader's (sticky: a failed load is not retried).
func (p *Pin) Item() (Value, error) {
	p.mu.Lock()
	if p.item != nil || p.loadErr != nil {
		it, err := p.item, p.loadErr
		p.mu.Unlock()
		return it, err
	}
	l, d := p.loader, p.digest
	p.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("plan: pin %x has no contents and no loader", d[:8])
	}
	// Load without holding the lock: loading may fault in other pins.
	it, err := l.LoadPin(d)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.item == nil && p.loadErr == nil {
		if err != nil {
			p.loadErr = err
		} else if it == nil {
			p.loadErr = fmt.Errorf("plan: loader returned no value for pin %x", d[:8])
		} else {
			p.item = it
		}
	}
	return p.item, p.loadErr
}

// MustItem returns the contents of a pin that is known to be loaded (built
// in memory); it panics on a load error. Use Item for pins from a store.
func (p *Pin) MustItem() Value {
	v, err := p.Item()
	if err != nil {
		panic(err)
	}
	return v
}

// CachedDigest returns the pin's digest if it is known.
func (p *Pin) CachedDigest() (Digest, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.digest, p.hasDigest
}

// SetDigest records the digest of the pin's canonical body. Callers must
// know it is right: the merkle package (which computes it), loaders (which
// verified it), and an evaluator that has found the pin's contents
// structurally equal to a pin whose digest is known (equal values have
// equal digests; the pallas jet matcher does this). A second call with
// another digest is an invariant violation and panics.
func (p *Pin) SetDigest(d Digest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hasDigest {
		if p.digest != d {
			panic("plan: pin digest changed")
		}
		return
	}
	p.digest, p.hasDigest = d, true
}
