package db

import (
	"errors"
	"fmt"
)

// Sentinel errors, grouped by operation. Test with errors.Is.
var (
	// Names and lifecycle.
	ErrBadName  = errors.New("db: bad database name")
	ErrNotFound = errors.New("db: no such database")
	ErrExists   = errors.New("db: database already exists")
	ErrBusy     = errors.New("db: database is already open in this process")
	ErrClosed   = errors.New("db: database is closed")

	// Inputs. A rejected input is logged; the caller gets a *RejectedError
	// that matches ErrRejected and also the evaluator's error
	// (eval.ErrCrash, eval.ErrLoop, eval.ErrBudget), or ErrBadResult.
	ErrRejected  = errors.New("db: input rejected")
	ErrBadResult = errors.New("db: result is not an app with at least two arguments (output and next database)")
	// ErrStopped answers the inputs of a Stream after one of its inputs
	// failed, when the stream stops on errors: they were not applied.
	ErrStopped = errors.New("db: not applied: an earlier input of the stream failed")

	// Reading the log and the head.
	ErrCorrupt     = errors.New("db: corrupt")
	ErrVersion     = errors.New("db: unsupported format version")
	ErrUnsupported = errors.New("db: unsupported log feature")

	// Replay.
	ErrNondeterminism = errors.New("db: non-determinism")
)

// RejectedError is returned by Send for an input that was logged as
// rejected: the database kept its previous value.
type RejectedError struct {
	Event uint64 // the event number the rejection was logged under
	Kind  uint64 // KindCrash, KindLoop, KindBudget, KindShape, KindOther
	Err   error  // the evaluator's error (or ErrBadResult)
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("db: input rejected (event %d, %s): %v", e.Event, KindName(e.Kind), e.Err)
}

// Unwrap gives both ErrRejected and the cause.
func (e *RejectedError) Unwrap() []error { return []error{ErrRejected, e.Err} }

// NondeterminismError is what replay returns when re-running the log does
// not reproduce what was recorded.
type NondeterminismError struct {
	// Event is the first event at which the divergence was seen. For an
	// output mismatch it is exact; for a state mismatch found at a
	// snapshot point, the divergence happened after AfterEvent (the last
	// point known to agree) and at or before Event.
	Event      uint64
	AfterEvent uint64
	What       string // "output" or "state"
	Detail     string
}

func (e *NondeterminismError) Error() string {
	if e.What == "output" {
		return fmt.Sprintf("db: non-determinism: event %d: output differs on replay: %s", e.Event, e.Detail)
	}
	return fmt.Sprintf("db: non-determinism: state differs at event %d (last agreeing point: event %d): %s", e.Event, e.AfterEvent, e.Detail)
}

func (e *NondeterminismError) Unwrap() error { return ErrNondeterminism }
