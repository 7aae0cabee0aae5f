// Package seed is the SEED codec: the binary format Pallas uses for PLAN
// trees (spec/SEED.md, which is the authority), with the conventions pstore
// needs to read Pallas and plan-di-c interchange files and to write its own
// canonical pin bodies.
//
// # Format
//
// A seed stores one binary tree whose leaves are nats or holes (numbered
// placeholders that the decoder supplies) and whose inner nodes are cells
// (head, tail). All integers are little-endian; a word is 64 bits.
//
//	offset  size            field
//	0       8               numHoles   holes: table indices 0 .. H-1
//	8       8               numBigs    nats >= 2^64
//	16      8               numWords   nats 256 .. 2^64-1
//	24      8               numBytes   nats 0 .. 255
//	32      8               numFrags   tree fragments
//	40      8*numBigs       width in words of each bignat (>= 1 accepted, minimal >= 2 written)
//	...     8*sum(widths)   bignat words, least significant first, one bignat after another
//	...     8*numWords      one-word nats
//	...     numBytes        one-byte nats (not padded)
//	...     bits            fragments, from the next byte, least significant bit first
//	...     0-7             zero padding to a multiple of 8 bytes
//
// The table is: holes, then the nats in file order, then one entry per
// fragment as it is decoded (L = holes + nats). Fragment i is
//
//	fragment := tree tree            ; head and tail of its root cell (its "1" is implicit)
//	tree     := "1" tree tree        ; a cell
//	          | "0" index            ; a leaf: table index in W_i bits, LSB first
//
// with W_i = bitwidth(L+i-1); an index must be below L+i. The value is the
// last fragment, or, when numFrags is 0, the last table entry (the pstore
// rule of SEED.md 6.3, which plan-di-c shares).
//
// # Canonical encoding
//
// The encoder is canonical (SEED.md 11.3): it dedups the tree by structure
// (hash-consing cells by child ids, so in-memory sharing and how plan.App
// nodes split their argument lists do not matter), stores exactly the
// distinct leaf nats in their smallest bins in strictly descending numeric
// order (not the C encoder's bignat tie quirk), makes a fragment of the root
// and of every cell with two or more incoming edges, numbered in post-order
// head first, writes no fragment when the tree is a single leaf, writes zero
// bits after the last fragment and exactly 8*ceil(e/64) bytes. It re-encodes
// the four Pallas vector files byte for byte, and the plan-di-c files up to
// their stray trailing bit.
//
// # Conventions
//
// How laws and pins become trees is a convention (SEED.md section 1):
//
//   - Raw: nats and apps only; holes are pins the caller declares
//     (EncodeHoles) or supplies (Decode). A law, or an undeclared pin, is
//     ErrUnrepresentable.
//   - Pallas: laws (0 n a b), pins inline (4 x). Decode returns the raw
//     tree; FromPallas rebuilds the value structurally (SEED.md 8, approach
//     2), rejecting non-normal spines.
//   - Plan4: one hole h0 = <0>; laws (h0 1 n a b), pins (h0 x). Decode
//     fills h0 with <0>; FromPlan4 rebuilds the value.
//   - Body: pstore canonical pin bodies (SEED.md 15): laws (h0 n a T(b)),
//     child pins are holes 1..k numbered by first appearance (head before
//     tail, not entering pins), numHoles = k+1. EncodeBody returns the
//     child pins in hole order; Decode(data, Body, holes) rebuilds laws
//     (also when a fragment holds only part of a law spine, like (h0 n a)
//     shared by two laws) and rejects any other use of hole 0.
//
// # Zero copy
//
// When the input of Decode is 8-byte aligned (a mapping, or an ordinary Go
// []byte of 8 or more bytes), bignats are not copied: they alias the input
// through mmap.Words and plan.NatFromBits, and stay valid exactly as long as
// the input does. The input must not be modified afterwards. Misaligned
// input, or a big-endian or 32-bit host, gets copies. Decoded app nodes and
// argument lists are carved out of a few large slabs (per decoding core,
// sized to the tree), all of which any of a value's nodes keeps reachable.
// Word nats are boxed in one block too (plan.WordBoxes), which any one of
// them keeps.
//
// # Errors and resource use
//
// Decode never panics on any input and never recurses on the Go stack
// (encoding and decoding use explicit stacks, so million-level values are
// fine). Every header count, bignat width and index is checked against the
// remaining length before anything is allocated for it, and the fragments
// must lie within the data; memory use is proportional to the input (the
// decoded nodes themselves, about 16 bytes per bit of tree in the worst
// case). Raw, Pallas and Plan4 decoding reserves node memory up front, as
// much as the tree could need but at most about 4.5 bytes per byte of
// input (or 16K argument slots and 16K app nodes, whichever is more, but
// never more than the tree could need), and past that grows by an eighth
// of what it has as the data proves it needs more; the fragments' root
// nodes are kept apart, in 5 KB blocks allocated as the decoder reaches
// the fragments. Bits after the last fragment are ignored (plan-di-c
// files have a 1 bit there); a store that needs canonical bytes
// re-encodes and compares.
// Errors about the bytes wrap ErrCorrupt and say what and where: a header
// byte offset, a bignat number, or a fragment number and absolute bit
// offset from the start of the data. Errors about values that have no tree
// form in a convention wrap ErrUnrepresentable.
//
// Encoders and decoders keep no shared state except scratch tables (a pool,
// plus up to two sets kept until a few seconds after the last encoding, so
// that a large encoding does not allocate them afresh each time); all
// functions are safe for concurrent use. A Raw encoding walks the root's
// last argument on a second goroutine when it is deep; every large
// encoding sorts its nats and bottom cells on two (radixSort) and writes
// the bits of the root's last argument on a second goroutine. Raw, Pallas and Plan4 decoding of a
// tree section of 1 MiB or more runs on two goroutines, splitting the tree
// inside a fragment at a tree boundary (see decode_plain.go); the value is
// the one a single goroutine builds. Encoding loads pin
// contents only where the convention inlines pins (Pallas, Plan4) or where
// two child pins without known digests must be compared (Body).
package seed
