package eval

import (
	"fmt"

	"github.com/ipfs/go-cid"

	"pstore/merkle"
	"pstore/plan"
)

// PinResult pins an evaluation result: it returns the pin <v> and its CID
// (merkle.CID), computing the digests of v's new pins on the way. Nothing is
// written to any store; a caller that wants the pin kept stores the
// returned pin (whose child pins already carry their digests).
//
// v should be a normal form (Result.Value of an evaluation without
// Options.WHNF): PLAN pins hold normal forms (PLAN.md 1.2), and this is what
// opcode 4 would have built.
func PinResult(v plan.Value) (*plan.Pin, cid.Cid, error) {
	if v == nil {
		return nil, cid.Undef, fmt.Errorf("eval: pin of no value")
	}
	p := plan.P(v)
	c, err := merkle.CID(p)
	if err != nil {
		return nil, cid.Undef, fmt.Errorf("eval: pinning result: %w", err)
	}
	return p, c, nil
}
