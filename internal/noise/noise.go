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
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string   { return "timeout: deadline exceeded" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// Is makes errors.Is(ErrTimeout, context.DeadlineExceeded) true.
func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// IsCtxErr reports whether err is, or wraps, context.Canceled or
// context.DeadlineExceeded.
func IsCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Echo reports whether err, returned by work that ran under ctx, is only the
// echo of ctx's cancellation: ctx is done, and err wraps context.Cause(ctx) or
// is a context error. A context error that wraps ErrTimeout is not an echo
// unless it is the cause itself: it is a timeout that fired inside the work.
func Echo(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() == nil {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return true
	}
	if cause := context.Cause(ctx); cause != nil && errors.Is(err, cause) {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrTimeout)
}
