//go:build go1.25

package docs_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
)

// One Limiter shared by every task that calls the same server: the rate
// holds for all of them together.
func Example_rateShared() {
	lim := ratelimit.NewLimiter(ratelimit.Every(time.Millisecond), 1) // 1000 a second
	var sent atomic.Int32
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 10 {
			n.Go(func(ctx context.Context) error {
				if err := lim.Wait(ctx); err != nil {
					return err // ctx.Err() unchanged, if ctx ended first
				}
				sent.Add(1) // stands for the request
				return nil
			})
		}
		return nil
	})
	fmt.Println(sent.Load(), "requests,", err)
	// Output: 10 requests, <nil>
}

// The end of ctx ends a Wait, with ctx.Err() unchanged.
func Example_rateCancelled() {
	lim := ratelimit.NewLimiter(ratelimit.Every(time.Hour), 1)
	lim.Allow() // the one token is gone: the next comes in an hour
	ctx, stop := context.WithCancel(context.Background())
	stop()
	fmt.Println(lim.Wait(ctx) == context.Canceled)
	// Output: true
}

// The trap: a limiter per task. Each has a full bucket of its own, so ten
// tasks make ten times the rate.
func Example_rateTrapLimiterPerTask() {
	var allowed atomic.Int32
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 10 {
			n.Go(func(ctx context.Context) error {
				lim := ratelimit.NewLimiter(1, 1) // "1 a second", ten times over
				if lim.Allow() {
					allowed.Add(1)
				}
				return nil
			})
		}
		return nil
	})
	fmt.Println("allowed in the same instant:", allowed.Load())
	// Output: allowed in the same instant: 10
}
