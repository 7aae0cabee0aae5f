// Package plan is the PLAN value model and its text syntax. It is the
// bottom layer of pstore and depends on nothing above it: stores, SEED
// decoding and evaluation reach it only through small hooks (PinLoader,
// ParseOptions, PrintOptions).
//
// # Values
//
// A Value is one of four kinds (PLAN.md section 1), and the set is closed:
//
//   - Nat, a natural number of any size, held by value. Below 2^64 it is a
//     machine word (the fast path: N, Uint64, IsSmall); above, a *big.Int
//     that is never mutated after construction. NatFromBits and
//     NatFromBigNoCopy keep the caller's storage without copying, so a
//     decoder can leave a bignat in read-only mapped memory (ARCHITECTURE.md
//     "Zero copy"); NatFromBig and NatFromBytes copy.
//   - *App, an application. One node holds a function part and an argument
//     slice, standing for the left-nested chain (((Fun a1) a2) ... an), but
//     everything PLAN can observe behaves as binary pairs: Head and Arg give
//     the pair view, Equal and Compare do not depend on how a chain is split
//     into nodes, and the printer and the encoders flatten it. Fun may itself
//     be an *App (NewAppShared builds such nodes without copying shared
//     argument slices); Spine returns the head and all arguments. A
//     flattens when the function part is an app.
//   - *Law, {Name Arity Body} with Name and Arity nats. Arity 0 is
//     representable because the plan4 dialect allows it; the pallas
//     evaluator refuses to build one, and the text syntax accepts {n 0 b}.
//   - *Pin, <Item>. A pin either holds its contents or is an unloaded
//     reference known by the digest of its canonical body (NewPinRef), whose
//     contents are fetched through a PinLoader on first use (Item; a failed
//     load is sticky). A pin caches its digest once known (CachedDigest,
//     SetDigest) so hashing a DAG touches each pin once.
//
// Nothing here evaluates or normalizes: constructors and the parser build
// values exactly as given.
//
// Equal is structural equality (nats by number, apps as pairs, pins by
// contents, or by digest alone when both digests are known). Compare is the
// total order of PLAN4.md section 8: type rank nat < pin < law < app, then
// nats numerically, pins by contents, laws by name, arity, body, apps by
// function part then argument. Both walk an explicit stack, so any depth is
// fine, and both load pin contents where they must (EqualErr and Compare
// report a load failure wrapping ErrNoContents).
//
// # Text syntax
//
// Parse and ParseWith read the syntax of PLAN.md section 2: decimal nats
// (leading zeros allowed), 0x hex nats (digits in either case), string nats
// ("..." with escapes \\ \" \xHH only, UTF-8, control characters and a
// trailing 0x00 byte rejected, bytes read little-endian), apps (f x y) (one
// value alone is that value; () is invalid), laws {n a b} with n and a nat
// literals, pins <x>. Whitespace is space, tab, CR and LF, and is needed
// between atoms but not next to brackets. Exactly one value per input.
// Three further tokens are resolved through ParseOptions hooks, and without
// the hook are syntax errors naming the token:
//
//   - a bare CID (multibase base32: 'b' then letters and digits), through
//     ResolveCID; the command line resolves it to a stored pin;
//   - @path.seed, through ResolveSeed (a SEED file read with the
//     convention of the evaluator's dialect);
//   - <name.seed> with name in [A-Za-z0-9_]+, through SeedRef (the test
//     vectors' seed reference, PLAN.md 2.4). Anything else in angle
//     brackets is a pin.
//
// Errors are *SyntaxError values with a 1-based line and column (the column
// counts characters) and what was expected, e.g.
// "plan: 3:14: expected ')' or a value, found '}'". They wrap ErrSyntax, or
// the hook's error when a hook failed. The parser uses an explicit stack:
// nesting depth is bounded only by memory, and it never panics. Decimal
// literals of any length convert in subquadratic time.
//
// Print, Sprint and String write the canonical form of PLAN.md 2.3: nats in
// decimal, or as a string literal when the nat is at least 256, every byte
// is an ASCII letter, digit or '_', and the first (least significant) byte
// is not a digit; apps fully flattened along the head, (f a b c); laws
// {name arity body}; pins <x>, or a token chosen by PrintOptions.PinToken
// (the command line prints stored pins as their CID). Output stops with an
// error wrapping ErrTooLong after PrintOptions.Limit bytes (1 MiB by
// default), so a DAG with an astronomically large tree stops quickly. The
// printer also walks an explicit stack. For every value v that prints
// without error, Parse(String(v)) is Equal to v.
//
// # Bulk boxing
//
// WordBoxes boxes many word nats as Values in one allocation instead of
// one each (decoders use it); the Values are the same as
// N(x)'s. They rely on the runtime's two-word interface layout, checked
// at start-up with a fallback to ordinary boxing (box.go).
//
// # Concurrency
//
// Values are immutable once built (a pin's lazily loaded contents and
// cached digest go only from unset to set, under the pin's mutex) and may be
// shared freely between goroutines. Parse and Print keep no global state.
// A PinLoader must be safe for concurrent use.
package plan
