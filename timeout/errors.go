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
// and context.DeadlineExceeded, and says what was asked and what the work
// said.
type timeoutError struct {
	d    time.Duration // how long the work was given: the deadline, counted from its start
	work error         // the work's own error, if it says more than the deadline

	// A Timeout whose deadline Reschedule moved: it was given asked at
	// first (hasAsked), and d in the end.
	moved    bool
	asked    time.Duration
	hasAsked bool
}

func (e *timeoutError) Error() string {
	if e == ErrTimeout {
		return "timeout: deadline exceeded"
	}
	var msg string
	switch {
	case e.moved && e.hasAsked:
		msg = fmt.Sprintf("timeout: deadline exceeded, rescheduled from %v to %s", e.asked, sinceStart(e.d))
	case e.moved:
		msg = fmt.Sprintf("timeout: deadline exceeded, set by Reschedule to %s", sinceStart(e.d))
	case e.d <= 0:
		msg = fmt.Sprintf("timeout: deadline of %v exceeded: it had passed when the work began", e.d)
	default:
		msg = fmt.Sprintf("timeout: deadline of %v exceeded", e.d)
	}
	if e.work != nil {
		msg += ": " + e.work.Error()
	}
	return msg
}

// sinceStart says when a deadline d after the start of the work is.
func sinceStart(d time.Duration) string {
	if d < 0 {
		return fmt.Sprintf("%v before the work began", -d)
	}
	return fmt.Sprintf("%v after the work began", d)
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
func timedOut(d time.Duration, workErr error) *timeoutError {
	e := &timeoutError{d: d}
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
