package timeout

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrTimeout is matched, with errors.Is, by the error of FailAfter, FailAt,
// Call and Timeout.Run when their own deadline ended the work. It also
// matches context.DeadlineExceeded. Each timeout returns an error of its own
// that matches it, naming the deadline and keeping the words of the work's
// error (`timeout: deadline of 50ms exceeded: fetch: context deadline
// exceeded`), so that a nursery never mistakes one task's timeout for the
// echo of another's.
var ErrTimeout error = &timeoutError{}

// timeoutError is the error of a timeout that fired: it matches ErrTimeout
// and context.DeadlineExceeded, and says what the work said.
type timeoutError struct {
	d    time.Duration // how long the work was given, if known
	work error         // the work's own error, if it says more than the deadline
}

func (e *timeoutError) Error() string {
	if e == ErrTimeout {
		return "timeout: deadline exceeded"
	}
	msg := fmt.Sprintf("timeout: deadline of %v exceeded", e.d)
	if e.work != nil {
		msg += ": " + e.work.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrTimeout) and errors.Is(err,
// context.DeadlineExceeded) true.
func (e *timeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// Timeout and Temporary make it a net.Error-style timeout.
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// timedOut returns the error of a timeout that gave the work d and ended it,
// the work having returned workErr: its words are kept unless it is the bare
// context error.
func timedOut(d time.Duration, workErr error) error {
	e := &timeoutError{d: max(d, 0)}
	if workErr != nil && workErr != context.DeadlineExceeded {
		e.work = workErr
	}
	return e
}

// The errors of a Timeout used out of turn. "Entered" is asyncio's word for
// a timeout whose Run has begun.
var (
	// ErrRunTwice is returned by Run when the Timeout has already run, or
	// is running: a Timeout runs once.
	ErrRunTwice = errors.New("timeout: Run called twice; a Timeout runs once")
	// ErrNotEntered is returned by Reschedule before Run.
	ErrNotEntered = errors.New("timeout: Reschedule before Run")
	// ErrExpired is returned by Reschedule once the deadline has fired.
	ErrExpired = errors.New("timeout: Reschedule after the deadline fired")
	// ErrFinished is returned by Reschedule after Run has returned.
	ErrFinished = errors.New("timeout: Reschedule after Run returned")

	// ErrAlreadyEntered is ErrRunTwice.
	//
	// Deprecated: use ErrRunTwice, the name shared with cancel.ErrRunTwice.
	ErrAlreadyEntered = ErrRunTwice
)
