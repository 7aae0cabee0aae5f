package zzoldref

import (
	"errors"
	"fmt"
	"math/bits"
)

// Convention says how PLAN values map onto SEED's binary trees of nats and
// holes (SEED.md section 1). The byte format is the same for all of them.
type Convention int

const (
	// Raw: nats are leaves and apps are cells; nothing else has a tree
	// form. Holes are supplied by the caller (EncodeHoles, Decode).
	// Encoding a law, or a pin that is not one of the holes, is an error.
	Raw Convention = iota
	// Pallas interchange files: a law {n a b} is written (0 n a b), a pin
	// <x> is written inline as (4 x). Decoding gives the raw tree; use
	// FromPallas to rebuild the value.
	Pallas
	// Plan4 interchange (plan-di-c) files: one hole h0 standing for <0>; a
	// law is written (h0 1 n a b) and a pin (h0 x). Decoding fills h0 with
	// <0> and gives the raw tree; use FromPlan4 to rebuild the value.
	Plan4
	// Body: pstore canonical pin bodies (SEED.md section 15). Hole 0 is
	// the law marker ((h0 n a b)), holes 1..k are the child pins.
	Body
)

func (c Convention) String() string {
	switch c {
	case Raw:
		return "raw"
	case Pallas:
		return "pallas"
	case Plan4:
		return "plan4"
	case Body:
		return "body"
	}
	return fmt.Sprintf("Convention(%d)", int(c))
}

var (
	// ErrCorrupt is wrapped by every error about the bytes being decoded
	// (and by FromPallas/FromPlan4 errors about a tree that does not
	// follow the convention). Test with errors.Is.
	ErrCorrupt = errors.New("seed: corrupt")
	// ErrUnrepresentable is wrapped when a value has no tree form in the
	// requested convention (a law in Raw, a pin that is not a declared
	// hole, a value too large for the encoder's 32-bit node ids).
	ErrUnrepresentable = errors.New("seed: value not representable")
	// ErrConvention is wrapped when a caller passes an unknown convention or
	// a hole list that does not fit it.
	ErrConvention = errors.New("seed: bad convention or holes")
)

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

func unrepf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnrepresentable}, args...)...)
}

// headerSize is the size of the five-word header (SEED.md section 3). Part
// of the format.
const headerSize = 40

// bitwidth is the number of bits needed to write x (bitwidth(0) = 0); the
// index width for a table of x+1 entries (SEED.md section 6.2).
func bitwidth(x uint64) uint { return uint(bits.Len64(x)) }
