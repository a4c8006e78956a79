package ratelimit

import "context"

// A Waiter makes its callers wait until the rate allows their events. It is
// the part of a rate limiter's method set that means the same whether the
// limiter lives in this process (*Limiter) or is shared by several processes
// (the Redis-backed limiter of ratelimit/redislimit), so that code which only
// needs to slow down to a rate can take either.
//
// WaitN blocks until n events may happen and returns nil. It fails at once
// with an error wrapping ErrExceedsBurst if n is more than the burst, and
// with one wrapping ErrExceedsDeadline if the events could happen only after
// ctx's deadline. If ctx ends first it returns ctx.Err() unchanged. Wait is
// WaitN(ctx, 1). Implementations may fail in other ways too (a limiter that
// asks a server can find it down); such errors say so and wrap their cause.
type Waiter interface {
	Wait(ctx context.Context) error
	WaitN(ctx context.Context, n int) error
}

var _ Waiter = (*Limiter)(nil)
