package timeout

import (
	"context"
	"time"
)

// MoveOnAfter runs fn with a context that ends d from now, like trio's
// move_on_after: if that deadline is what ended fn, MoveOnAfter reports
// timedOut and drops the echo of the deadline that fn returned (ctx.Err()
// or an error wrapping it). Otherwise it returns fn's error unchanged. See the
// package doc for the rules.
func MoveOnAfter(ctx context.Context, d time.Duration, fn func(ctx context.Context) error, opts ...Option) (timedOut bool, err error) {
	timedOut, err, _ = run(ctx, time.Now(), d, fn, opts, "MoveOnAfter")
	return timedOut, err
}

// MoveOnAt is MoveOnAfter with an absolute deadline.
func MoveOnAt(ctx context.Context, deadline time.Time, fn func(ctx context.Context) error, opts ...Option) (timedOut bool, err error) {
	now := time.Now()
	timedOut, err, _ = run(ctx, now, deadline.Sub(now), fn, opts, "MoveOnAt")
	return timedOut, err
}
