// Package merkle turns pins into canonical bodies and CIDs.
//
// # Canonical pin bodies
//
// A pin's CID hashes its canonical body, exactly as SEED.md section 15
// defines it:
//
//	offset  size  field
//	0       8     k, the number of child pins (u64, little-endian)
//	8       32*k  the BLAKE3-256 digest of each child pin's canonical body,
//	              in hole order (child j is hole j, j = 1..k)
//	8+32k   rest  the canonical SEED encoding (seed.EncodeBody) of the tree
//	              of the pin's contents, with numHoles = k+1: hole 0 marks a
//	              law ({n a b} is written (h0 n a b)), holes 1..k are the
//	              child pins in order of first appearance (depth first, head
//	              before tail, not entering pins); apps are cells, nats are
//	              leaves.
//
// No evaluator's opcode numbering appears in a body, so the same bytes mean
// the same value to every evaluator (ARCHITECTURE.md invariant 2). Child pins
// are never inlined: a pin's CID commits to its whole DAG through the child
// digests. Structurally equal contents give identical bytes whatever the
// in-memory sharing, because the seed encoder merges equal subtrees by
// structure.
//
// # CIDs
//
// A pin CID is CIDv1 with multicodec PinCodec (0x300001, private-use range)
// and a BLAKE3-256 multihash (code 0x1e) of the canonical body; its string
// form is base32 multibase ("b..."). A page of a large body (the page store
// splits big bodies at content-defined boundaries) has a CIDv1 with the raw
// codec (0x55) and the BLAKE3-256 multihash of the page bytes. Pin CIDs never
// depend on the chunking.
//
// # Guarantees
//
//   - A pin's digest is a function of its value alone (ARCHITECTURE.md
//     invariant 1); it is computed once per *plan.Pin and cached in it.
//   - Digest, Body and Walk never load a pin whose digest is already known
//     unless asked to (Walk's skip function), so hashing a DAG that came from
//     a store does not fault it in.
//   - Verify and CheckCanonical never trust their input; every failure wraps
//     ErrCorrupt and names the CID.
//   - DecodeBody reads a body as data: it evaluates nothing, checks neither
//     normal form nor arity (plan4 values may hold arity-0 laws). Big nats in
//     an 8-byte aligned body alias it (zero copy).
package merkle
