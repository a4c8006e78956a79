package retry

import (
	"context"
	"errors"
	"time"

	"github.com/structured-go/structured/nursery"
)

// ErrAnotherSucceeded is the cause (context.Cause) of the context of an
// attempt that Hedge cancelled because another attempt succeeded first: fn
// can tell it from other cancellations, to not report it as a failure.
var ErrAnotherSucceeded = errors.New("retry: another attempt succeeded first")

// errGaveUp is the cause with which a hedged call cancels its other attempts
// once it stops without success.
var errGaveUp = errors.New("retry: the call gave up")

// hedge runs the attempts of a call with Hedge: each in a task of a nursery,
// a new one whenever the delay passes without a success, or when one fails
// while others run. The first success wins; the nursery cancels and joins
// the rest before hedge returns.
func hedge[T any, F caller[T]](ctx context.Context, f F, caller *config) (T, error) {
	// The attempts' goroutines use the config: a copy of their own keeps
	// the caller's on its stack.
	c := new(config)
	*c = *caller
	type result struct {
		v   T
		err error
		i   int // the attempt's number, from 1
	}
	var (
		out    T // the winner's value, or the last failed attempt's
		outErr error
		won    bool
	)
	start := time.Now()
	delay := c.hedgeDelay
	if c.latency != nil {
		delay = c.latency.Percentile()
	}
	results := make(chan result)
	gaveUp := 0 // the attempts started when Do gave up, if it did

	runErr := nursery.Run(ctx, func(nctx context.Context, n *nursery.Nursery) error {
		var (
			h       history
			prev    time.Duration // the backoff's previous delay
			started int
			running int
		)
		launch := func() {
			started++
			running++
			i := started
			n.Go(func(actx context.Context) error {
				v, err := attempt(actx, f, c)
				// Once the call has its outcome nobody receives: the
				// nursery's cancellation lets this task return.
				select {
				case results <- result{v, err, i}:
				case <-actx.Done():
				}
				return nil
			})
		}
		finish := func(err error) error {
			// The hook runs once Run has returned: an attempt still
			// running may yet panic, and a panic is no giving up.
			outErr, gaveUp = err, started
			n.Cancel(errGaveUp)
			return nil
		}
		// The timer starts the next attempt: a hedge when it fires while
		// others run (retrying is false), or a retry after a backoff.
		timer := time.NewTimer(delay)
		defer timer.Stop()
		hedging := true // the timer is set for a hedge
		retrying := false
		launch()
		if started >= c.attempts {
			timer.Stop()
			hedging = false
		}
		for {
			select {
			case r := <-results:
				running--
				out = r.v
				if r.err == nil {
					if c.budget != nil {
						c.budget.success()
					}
					if c.latency != nil {
						c.latency.Observe(time.Since(start))
					}
					won = true
					n.Cancel(ErrAnotherSucceeded)
					return nil
				}
				if final, stop := c.failed(ctx, r.err, &h, started); stop {
					return finish(final)
				}
				if started >= c.attempts {
					if running == 0 {
						return finish(h.error(ErrAttempts, nil, started))
					}
					continue
				}
				if retrying {
					continue // a retry is already on its way
				}
				if running > 0 {
					// Others are still running: no reason to wait, unless
					// the server asked for it.
					d := time.Duration(0)
					if hd, ok := hint(r.err); ok && c.maxHint > 0 {
						d = min(hd, c.maxHint)
					}
					if !c.mayStart(start, d) {
						timer.Stop()
						hedging = false
						continue
					}
					if c.onRetry != nil {
						c.onRetry(r.i, r.err, d)
					}
					if d == 0 {
						launch()
						timer.Reset(delay)
						hedging = started < c.attempts
						if !hedging {
							timer.Stop()
						}
						continue
					}
					timer.Reset(d)
					hedging, retrying = false, true
					continue
				}
				// Nothing is running: back off as Do does without Hedge.
				d, reason := c.wait(r.i, r.err, &prev, start)
				if reason != nil {
					return finish(h.error(reason, nil, started))
				}
				if c.onRetry != nil {
					c.onRetry(r.i, r.err, d)
				}
				timer.Reset(d)
				hedging, retrying = false, true

			case <-timer.C:
				if hedging && !c.mayStart(start, 0) {
					hedging = false // no more hedges for this call
					continue
				}
				launch()
				retrying = false
				hedging = started < c.attempts
				if hedging {
					timer.Reset(delay)
				}

			case <-nctx.Done():
				// Either ctx ended, or an attempt panicked and Run will
				// re-panic once every attempt has returned.
				if ctx.Err() != nil {
					return finish(ctxError(ctx, &h, started))
				}
				return nil
			}
		}
	})
	if won {
		return out, nil
	}
	if gaveUp > 0 {
		return out, c.giveUp(gaveUp, outErr)
	}
	if outErr == nil {
		outErr = runErr
	}
	return out, outErr
}

// mayStart reports whether a hedge (or an early retry) may start d from
// now: MaxElapsed has not passed by then, and the budget allows it.
func (c *config) mayStart(start time.Time, d time.Duration) bool {
	if c.maxElapsed > 0 && d >= c.maxElapsed-time.Since(start) {
		return false
	}
	return c.budget == nil || c.budget.Allow()
}
