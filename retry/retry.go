package retry

import (
	"context"
	"errors"
	"time"

	"github.com/structured-go/structured/cancel"
	"github.com/structured-go/structured/timeout"
)

// Do calls fn until it succeeds, and returns nil; or until it fails in a
// way that is not retried, and returns why (see the package doc's rules).
// With no options it makes at most 4 attempts, with exponential backoff and
// full jitter in between.
//
// fn receives ctx (or, with AttemptTimeout, a context derived from it). If
// ctx is already done, Do returns ctx.Err() unchanged without calling fn; if
// it ends while Do sleeps or while an attempt runs, Do returns at once (or
// as soon as the attempt returns) with ctx.Err() unchanged if no attempt had
// failed yet, and otherwise an *Error that matches ctx.Err() and the last
// attempt's error.
//
// Do panics if ctx or fn is nil, or if an option is nil.
func Do(ctx context.Context, fn func(ctx context.Context) error, opts ...Option) error {
	if ctx == nil {
		panic("retry: Do called with a nil context")
	}
	if fn == nil {
		panic("retry: Do called with a nil function")
	}
	if len(opts) == 0 {
		// The common case: no options, first try succeeds. Nothing here
		// allocates or reads the clock.
		if err := ctx.Err(); err != nil {
			return err
		}
		err := fn(ctx)
		if err == nil {
			return nil
		}
		_, err = loop(ctx, errFunc(fn), &defaults, time.Time{}, struct{}{}, err)
		return err
	}
	var c config
	_, err := run(ctx, errFunc(fn), options(opts, "Do", &c))
	return err
}

// DoValue is Do for a function that returns a value: it returns the value
// of the attempt that succeeded; or, when it stops without success, an
// error and the value that the last attempt returned with its error (a
// response whose status failed, a partial result), as cenkalti/backoff
// does. If ctx is done before the first attempt, the value is T's zero
// value.
func DoValue[T any](ctx context.Context, fn func(ctx context.Context) (T, error), opts ...Option) (T, error) {
	if ctx == nil {
		panic("retry: DoValue called with a nil context")
	}
	if fn == nil {
		panic("retry: DoValue called with a nil function")
	}
	if len(opts) == 0 {
		var zero T
		if err := ctx.Err(); err != nil {
			return zero, err
		}
		v, err := fn(ctx)
		if err == nil {
			return v, nil
		}
		return loop(ctx, valueFunc[T](fn), &defaults, time.Time{}, v, err)
	}
	var c config
	return run(ctx, valueFunc[T](fn), options(opts, "DoValue", &c))
}

// options returns the config that opts stand for: the one of a Policy given
// alone, parsed when it was made, or else buf, set from opts.
func options(opts []Option, fn string, buf *config) *config {
	if len(opts) == 1 {
		if p, ok := opts[0].(*policy); ok {
			return &p.c // never written again
		}
	}
	parseOptions(opts, fn, buf)
	return buf
}

// A caller is fn, as Do or DoValue got it. Being a type parameter rather
// than an interface, it costs no allocation to pass around.
type caller[T any] interface {
	call(ctx context.Context) (T, error)
}

type errFunc func(context.Context) error

func (f errFunc) call(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) }

type valueFunc[T any] func(context.Context) (T, error)

func (f valueFunc[T]) call(ctx context.Context) (T, error) { return f(ctx) }

// run is Do once the options are known.
func run[T any, F caller[T]](ctx context.Context, f F, c *config) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if c.hedge && c.attempts > 1 {
		return hedge(ctx, f, c)
	}
	var start time.Time
	if c.maxElapsed > 0 {
		start = time.Now()
	}
	v, err := attempt(ctx, f, c)
	if err == nil {
		if c.budget != nil {
			c.budget.success()
		}
		return v, nil
	}
	return loop(ctx, f, c, start, v, err)
}

// loop retries f one attempt at a time, after a first attempt that failed
// with err and returned v. Giving up, it returns the value of the last
// attempt.
func loop[T any, F caller[T]](ctx context.Context, f F, c *config, start time.Time, v T, err error) (T, error) {
	var (
		h    history
		prev time.Duration // the backoff's previous delay
	)
	for n := 1; ; n++ { // n attempts made; v and err are the last one's
		if final, stop := c.failed(ctx, err, &h, n); stop {
			return v, c.giveUp(n, final)
		}
		if n >= c.attempts {
			return v, c.giveUp(n, h.error(ErrAttempts, nil, n))
		}
		d, reason := c.wait(n, err, &prev, start)
		if reason != nil {
			return v, c.giveUp(n, h.error(reason, nil, n))
		}
		if c.onRetry != nil {
			c.onRetry(n, err, d)
		}
		if cancel.Sleep(ctx, d) != nil {
			return v, c.giveUp(n, ctxError(ctx, &h, n))
		}
		if v, err = attempt(ctx, f, c); err == nil {
			if c.budget != nil {
				c.budget.success()
			}
			return v, nil
		}
	}
}

// attempt calls f once, under AttemptTimeout if there is one, through the
// Throttle and the Breaker if there are.
func attempt[T any, F caller[T]](ctx context.Context, f F, c *config) (T, error) {
	if c.breaker != nil || c.throttle != nil {
		return guard(ctx, c.breaker, c.throttle, f, func(ctx context.Context, f F) (T, error) { return once(ctx, f, c) })
	}
	return once(ctx, f, c)
}

func once[T any, F caller[T]](ctx context.Context, f F, c *config) (T, error) {
	if c.attemptTimeout > 0 {
		return timeout.Call(ctx, c.attemptTimeout, f.call)
	}
	return f.call(ctx)
}

// failed deals with err, the error of attempt n. If err must not be retried,
// it returns what Do should return and true. Otherwise err is recorded in h
// and counted against the budget.
func (c *config) failed(ctx context.Context, err error, h *history, n int) (error, bool) {
	if ctx.Err() != nil {
		// The caller's context ended: never retried. An error that only
		// echoes it is not worth keeping; a real one that raced with it is.
		if !errors.Is(err, ctx.Err()) && !errors.Is(err, context.Cause(ctx)) {
			h.add(err)
		}
		return ctxError(ctx, h, n), true
	}
	if out, ok := permanent(err); ok {
		return out, true
	}
	if c.retryIf != nil && !c.retryIf(err) {
		return err, true
	}
	h.add(err)
	if c.budget != nil && !refused(err) {
		c.budget.failure()
	}
	return nil, false
}

// wait returns how long to sleep before retry n, after an attempt that
// failed with err, or why not to retry: ErrMaxElapsed or ErrBudget.
func (c *config) wait(n int, err error, prev *time.Duration, start time.Time) (time.Duration, error) {
	d := max(c.backoff.Delay(n, *prev), 0)
	*prev = d
	var h time.Duration // the server's hint, capped; 0 if none
	if hd, ok := hint(err); ok && c.maxHint > 0 {
		h = min(hd, c.maxHint)
	}
	if c.maxElapsed > 0 {
		left := c.maxElapsed - time.Since(start)
		if d > left {
			return 0, ErrMaxElapsed // the backoff alone passes MaxElapsed
		}
		if h > left {
			// A server's hint is not a reason to give up before the
			// time is up: sleep until MaxElapsed and try once more.
			h = left
		}
	}
	d = max(d, h)
	if c.budget != nil && !c.budget.Allow() {
		return 0, ErrBudget
	}
	return d, nil
}

func (c *config) giveUp(n int, err error) error {
	if e, ok := err.(*Error); ok && c.lastError && !e.ctxEnded() {
		err = e.Err
	}
	if c.onGiveUp != nil {
		c.onGiveUp(n, err)
	}
	return err
}

// ctxError is Do's error when ctx ended after n attempts: ctx.Err() itself
// if no attempt had failed for real, else an *Error matching both.
func ctxError(ctx context.Context, h *history, n int) error {
	err := ctx.Err()
	if h.n == 0 {
		return err
	}
	cause := context.Cause(ctx)
	if cause == err {
		cause = nil
	}
	return h.error(err, cause, n)
}
