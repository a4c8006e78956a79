package timeout

import (
	"context"
	"fmt"
	"time"

	"github.com/structured-go/structured/internal/noise"
)

// ErrTimeout is matched, with errors.Is, by the error of FailAfter, FailAt,
// Call and Timeout.Run when their own deadline ended the work. It also
// matches context.DeadlineExceeded.
var ErrTimeout = noise.ErrTimeout

// An Option configures a timeout.
type Option interface {
	apply(*config)
}

type config struct {
	shield bool
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithShield runs the work shielded from the parent's cancellation and
// deadline: only the timeout's own deadline ends it. Use it for cleanup that
// must run, for a bounded time, after the work around it was cancelled (trio's
// move_on_after(..., shield=True)).
func WithShield() Option {
	return optionFunc(func(c *config) { c.shield = true })
}

// MoveOnAfter runs fn with a context that ends d from now, like trio's
// move_on_after: if that deadline is what ended fn, MoveOnAfter reports
// timedOut and drops the echo of the deadline that fn returned (ctx.Err()
// or an error wrapping it). Otherwise it returns fn's error unchanged. See the
// package doc for the rules.
func MoveOnAfter(ctx context.Context, d time.Duration, fn func(ctx context.Context) error, opts ...Option) (timedOut bool, err error) {
	return run(ctx, time.Now().Add(d), fn, opts, "MoveOnAfter")
}

// MoveOnAt is MoveOnAfter with an absolute deadline.
func MoveOnAt(ctx context.Context, deadline time.Time, fn func(ctx context.Context) error, opts ...Option) (timedOut bool, err error) {
	return run(ctx, deadline, fn, opts, "MoveOnAt")
}

// FailAfter runs fn with a context that ends d from now, like trio's
// fail_after: if that deadline is what ended fn, FailAfter returns an error
// matching ErrTimeout (and context.DeadlineExceeded) instead of the echo of
// the deadline that fn returned. Otherwise it returns fn's error unchanged.
// See the package doc for the rules.
func FailAfter(ctx context.Context, d time.Duration, fn func(ctx context.Context) error, opts ...Option) error {
	timedOut, err := run(ctx, time.Now().Add(d), fn, opts, "FailAfter")
	if timedOut {
		return timeoutAfter(d)
	}
	return err
}

// FailAt is FailAfter with an absolute deadline.
func FailAt(ctx context.Context, deadline time.Time, fn func(ctx context.Context) error, opts ...Option) error {
	timedOut, err := run(ctx, deadline, fn, opts, "FailAt")
	if timedOut {
		return errTimeout()
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
	timedOut, err := run(ctx, time.Now().Add(d), func(ctx context.Context) error {
		var err error
		v, err = fn(ctx)
		return err
	}, opts, "Call")
	if timedOut {
		var zero T
		return zero, timeoutAfter(d)
	}
	return v, err
}

// errTimeout is a new error matching ErrTimeout: each timeout reports its
// own, so that a nursery never mistakes one task's timeout for the echo of
// another's.
func errTimeout() error { return noise.Timeout(ErrTimeout.Error()) }

func timeoutAfter(d time.Duration) error {
	return noise.Timeout(fmt.Sprintf("timeout: deadline of %v exceeded", d))
}

func parseOptions(opts []Option, name string) config {
	var c config
	for _, o := range opts {
		if o == nil {
			panic("timeout: " + name + " called with a nil Option")
		}
		o.apply(&c)
	}
	return c
}

// run runs fn under deadline and reports whether the deadline ended it.
func run(ctx context.Context, deadline time.Time, fn func(ctx context.Context) error, opts []Option, name string) (bool, error) {
	if ctx == nil {
		panic("timeout: " + name + " called with a nil context")
	}
	if fn == nil {
		panic("timeout: " + name + " called with a nil function")
	}
	var c config
	if len(opts) > 0 {
		c = parseOptions(opts, name) // kept out of line: the common call allocates nothing for options
	}
	parent := ctx
	if c.shield {
		parent = context.WithoutCancel(ctx)
	} else if pd, ok := ctx.Deadline(); ok && !pd.After(deadline) {
		// The parent's deadline comes first, or at the same instant (the
		// outer one wins ties): this timeout can never be the one to fire.
		return false, fn(ctx)
	}
	tctx, stop := context.WithDeadline(parent, deadline)
	defer stop()
	err := fn(tctx)
	// tctx ends by its deadline or by the parent's cancellation; while the
	// parent is not done, it can only be the deadline. If the parent is done
	// too, the outer code handles it.
	if err != nil && tctx.Err() != nil && (c.shield || ctx.Err() == nil) && noise.Echo(tctx, err) {
		return true, nil
	}
	return false, err
}
