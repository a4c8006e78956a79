package asynciter

import (
	"context"
	"fmt"
	"iter"
	"time"
)

// A Waiter paces events: Wait returns when the next event may happen, or
// with an error if ctx ends first. The Limiter of golang.org/x/time/rate
// is one.
type Waiter interface {
	Wait(ctx context.Context) error
}

// Throttle passes on the values of in at most one per interval: the first
// at once, each later one no sooner than interval after the one before. It
// waits in the loop's goroutine, before passing a value on, so a lazy input
// (a Generate without WithBuffer) is asked for its next value only at that
// pace. If ctx ends while Throttle waits, the sequence ends with ctx.Err().
// An error of in is passed on at once, as the last pair.
//
// Throttle panics if ctx or in is nil, or if interval <= 0.
func Throttle[T any](ctx context.Context, in iter.Seq2[T, error], interval time.Duration) iter.Seq2[T, error] {
	if ctx == nil {
		panic("asynciter: Throttle called with a nil context")
	}
	if in == nil {
		panic("asynciter: Throttle called with a nil input sequence")
	}
	if interval <= 0 {
		panic(fmt.Sprintf("asynciter: Throttle(%v): the interval must be positive", interval))
	}
	return func(yield func(T, error) bool) {
		var next time.Time
		var timer *time.Timer
		defer func() {
			if timer != nil {
				timer.Stop()
			}
		}()
		for v, err := range in {
			if err != nil {
				yield(v, err)
				return
			}
			if wait := time.Until(next); !next.IsZero() && wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				select {
				case <-timer.C:
				case <-ctx.Done():
					var zero T
					yield(zero, ctx.Err())
					return
				}
			} else if err := ctx.Err(); err != nil {
				var zero T
				yield(zero, err)
				return
			}
			next = time.Now().Add(interval)
			if !yield(v, nil) {
				return
			}
		}
	}
}

// ThrottleWith passes on the values of in at the pace of w: before each
// value it calls w.Wait(ctx), in the loop's goroutine. If Wait returns an
// error, the sequence ends with it. An error of in is passed on at once, as
// the last pair. A *rate.Limiter of golang.org/x/time/rate, or any limiter
// with its Wait method, can pace a stream:
//
//	for v, err := range asynciter.ThrottleWith(ctx, in, rate.NewLimiter(10, 1)) {
//
// ThrottleWith panics if ctx, in or w is nil.
func ThrottleWith[T any](ctx context.Context, in iter.Seq2[T, error], w Waiter) iter.Seq2[T, error] {
	if ctx == nil {
		panic("asynciter: ThrottleWith called with a nil context")
	}
	if in == nil {
		panic("asynciter: ThrottleWith called with a nil input sequence")
	}
	if w == nil {
		panic("asynciter: ThrottleWith called with a nil Waiter")
	}
	return func(yield func(T, error) bool) {
		for v, err := range in {
			if err != nil {
				yield(v, err)
				return
			}
			if err := w.Wait(ctx); err != nil {
				var zero T
				yield(zero, err)
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}
