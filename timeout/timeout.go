package timeout

import (
	"context"
	"fmt"
	"time"

	"github.com/structured-go/structured/internal/echo"
	"github.com/structured-go/structured/internal/scope"
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
	timedOut, err, _ = run(ctx, time.Now(), d, fn, opts, "MoveOnAfter")
	return timedOut, err
}

// MoveOnAt is MoveOnAfter with an absolute deadline.
func MoveOnAt(ctx context.Context, deadline time.Time, fn func(ctx context.Context) error, opts ...Option) (timedOut bool, err error) {
	now := time.Now()
	timedOut, err, _ = run(ctx, now, deadline.Sub(now), fn, opts, "MoveOnAt")
	return timedOut, err
}

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

// run runs fn under a deadline d after now and reports whether that deadline
// ended it; if so, work is what fn returned.
func run(ctx context.Context, now time.Time, d time.Duration, fn func(ctx context.Context) error, opts []Option, name string) (isTimeout bool, err, work error) {
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
	deadline := now.Add(d)
	parent := ctx
	if c.shield {
		parent = context.WithoutCancel(ctx)
	} else if pd, ok := ctx.Deadline(); ok && !pd.After(deadline) {
		if scope.Movable(ctx) {
			// The parent's deadline comes first for now, but it can move
			// later: this timeout needs a timer of its own.
			return runScoped(ctx, deadline, fn)
		}
		// The parent's fixed deadline comes first, or at the same instant
		// (the outer one wins ties): this timeout can never be the one to
		// fire.
		return false, fn(ctx), nil
	}
	tctx, stop := context.WithDeadline(parent, deadline)
	defer stop()
	err = fn(tctx)
	// tctx ends by its deadline or by the parent's cancellation; while the
	// parent is not done, it can only be the deadline. If the parent is done
	// too, the outer code handles it: the echo goes on as the parent's.
	if err != nil && tctx.Err() != nil && echo.Of(tctx, err) {
		if !c.shield && ctx.Err() == nil {
			deferToParent(ctx, deadline)
		}
		if c.shield || ctx.Err() == nil {
			return true, nil, err
		}
		if perr := ctx.Err(); !echo.Match(err, perr, context.Cause(ctx)) {
			return false, echo.Rebase(err, tctx.Err(), context.Cause(tctx), perr), nil
		}
	}
	return false, err, nil
}

// deferToParent waits, after this timeout's deadline fired, while the
// parent's deadline is no later and due: it was moved to tie with (or come
// before) this one after the work started, and ties go to the outer deadline,
// whose cancellation is on its way. Only a deadline that can move needs it.
func deferToParent(ctx context.Context, deadline time.Time) {
	if !scope.Movable(ctx) {
		return
	}
	for ctx.Err() == nil {
		pd, ok := ctx.Deadline()
		if !ok || pd.After(deadline) || time.Now().Before(pd) {
			return // the parent's deadline is later, or not yet due: this one fired first
		}
		select {
		case <-ctx.Done():
		case <-time.After(tieRecheck):
		}
	}
}

// tieRecheck is how often deferToParent looks again.
const tieRecheck = time.Millisecond

// runScoped is run under a parent whose deadline is earlier but may move: a
// scope keeps a deadline of its own while deferring to the parent's.
func runScoped(ctx context.Context, deadline time.Time, fn func(ctx context.Context) error) (isTimeout bool, err, work error) {
	var s scope.Scope
	s.SetDeadline(deadline)
	err, _ = s.Run(ctx, func(ctx context.Context) error {
		work = fn(ctx)
		return work
	})
	if err == nil && s.CancelledCaught() && s.Trigger() == scope.ByDeadline {
		return true, nil, work
	}
	return false, err, nil
}
