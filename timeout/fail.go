package timeout

import (
	"context"
	"time"
)

// FailAfter runs fn with a context that ends d from now, like trio's
// fail_after: if that deadline is what ended fn, FailAfter returns an error
// matching ErrTimeout (and context.DeadlineExceeded) instead of the echo of
// the deadline that fn returned, with fn's words in its message. Otherwise it
// returns fn's error unchanged. See the package doc for the rules.
func FailAfter(ctx context.Context, d time.Duration, fn func(ctx context.Context) error, opts ...Option) error {
	isTimeout, err, work := run(ctx, time.Now(), d, fn, opts, "FailAfter")
	if isTimeout {
		return timedOut(d, work)
	}
	return err
}

// FailAt is FailAfter with an absolute deadline.
func FailAt(ctx context.Context, deadline time.Time, fn func(ctx context.Context) error, opts ...Option) error {
	now := time.Now()
	d := deadline.Sub(now)
	isTimeout, err, work := run(ctx, now, d, fn, opts, "FailAt")
	if isTimeout {
		return timedOut(d, work)
	}
	return err
}

// Call runs fn as FailAfter does and returns its value: asyncio.wait_for. On
// a timeout, the value is the zero value of T.
func Call[T any](ctx context.Context, d time.Duration, fn func(ctx context.Context) (T, error), opts ...Option) (T, error) {
	if fn == nil {
		panic("timeout: Call called with a nil function")
	}
	var v T
	isTimeout, err, work := run(ctx, time.Now(), d, func(ctx context.Context) error {
		var err error
		v, err = fn(ctx)
		return err
	}, opts, "Call")
	if isTimeout {
		var zero T
		return zero, timedOut(d, work)
	}
	return v, err
}
