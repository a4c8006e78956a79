// Package noise tells a real failure from the echo of a cancellation.
//
// When a nursery or a cancel scope cancels the work it owns, that work
// typically returns ctx.Err() or context.Cause(ctx). Those errors say nothing
// new: they are the echo of the cancellation, and the owner drops them. Any
// other error is real and is kept. The rule lives here because the nursery,
// cancel and timeout packages must agree on it.
package noise

import (
	"context"
	"errors"
)

// ErrTimeout is the error a timeout reports when its own deadline ended the
// work. It matches context.DeadlineExceeded, yet it is never an echo: a
// timeout that fired inside a task is that task's real failure.
var ErrTimeout error = &timeoutError{msg: "timeout: deadline exceeded"}

// Timeout returns an error with the message msg that matches ErrTimeout and
// context.DeadlineExceeded.
func Timeout(msg string) error { return &timeoutError{msg: msg} }

type timeoutError struct{ msg string }

func (e *timeoutError) Error() string { return e.msg }

// Timeout and Temporary make it a net.Error-style timeout.
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// Is makes errors.Is(err, ErrTimeout) and errors.Is(err,
// context.DeadlineExceeded) true.
func (e *timeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// IsCtxErr reports whether err is, or wraps, context.Canceled or
// context.DeadlineExceeded.
func IsCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Echo reports whether err, returned by work that ran under ctx, is only the
// echo of ctx's cancellation: ctx is done, and err wraps context.Cause(ctx) or
// is a context error. A context error that wraps ErrTimeout is not an echo
// unless it is the cause itself: it is a timeout that fired inside the work.
//
// A combined error (one with Unwrap() []error) is an echo only if all of its
// parts are: a real error is never lost for travelling with an echo.
func Echo(ctx context.Context, err error) bool {
	if err == nil || !done(ctx) {
		return false
	}
	if err == context.Canceled {
		return true // the common echo, first: thousands of tasks may return it at once
	}
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range multi.Unwrap() {
			if e != nil && !Echo(ctx, e) {
				return false
			}
		}
		return true
	}
	if errors.Is(err, context.Canceled) {
		return true
	}
	// A timeout matches DeadlineExceeded, so it would pass for the echo of
	// any deadline; it is one only if the cause is that very timeout.
	timeout := errors.Is(err, ErrTimeout)
	if cause := context.Cause(ctx); cause != nil && errors.Is(err, cause) {
		return !timeout || errors.Is(cause, ErrTimeout)
	}
	return !timeout && errors.Is(err, context.DeadlineExceeded)
}

// done reports whether ctx is done. Unlike ctx.Err(), which for the standard
// contexts receives from the closed Done channel and so takes its lock, a
// non-blocking receive from a closed channel takes none: this matters when
// thousands of cancelled tasks ask at once.
func done(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	default:
		return false
	}
}
