//go:build go1.25

package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
)

// Each call to the downstream goes through Do; at the limit, a call is
// refused at once, to be shed (a 503, a fallback) rather than queued.
func ExampleAdaptive_Do() {
	lim := ratelimit.NewAdaptive(ratelimit.WithInitialLimit(2)) // 20 unless set
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 { // two slow calls hold the limit
		wg.Go(func() {
			_ = lim.Do(context.Background(), func(ctx context.Context) error {
				<-release
				return nil
			})
		})
	}
	for lim.Inflight() < 2 {
		time.Sleep(time.Millisecond)
	}

	err := lim.Do(context.Background(), func(ctx context.Context) error {
		return nil // not called
	})
	fmt.Println(err)
	fmt.Println("shed:", errors.Is(err, ratelimit.ErrExceedsLimit))
	close(release)
	wg.Wait()
	// Output:
	// ratelimit: Adaptive.Do: limit of 2 reached
	// shed: true
}

// One adaptive limit for a tree of nurseries: nursery.WithSemaphore takes
// an Adaptive as it takes a Semaphore, and a task holds a unit while it
// runs.
func ExampleAdaptive_nursery() {
	lim := ratelimit.NewAdaptive(ratelimit.WithInitialLimit(3), ratelimit.WithMaxLimit(3))
	var now, peak atomic.Int64
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 10 {
			n.Go(func(ctx context.Context) error {
				c := now.Add(1)
				for p := peak.Load(); c > p && !peak.CompareAndSwap(p, c); p = peak.Load() {
				}
				time.Sleep(time.Millisecond)
				now.Add(-1)
				return nil
			})
		}
		return nil
	}, nursery.WithSemaphore(lim))
	fmt.Println("error:", err)
	fmt.Println("at most 3 at once:", peak.Load() <= 3)
	// Output:
	// error: <nil>
	// at most 3 at once: true
}

// Stats is for metrics: the limit, the load, and what the limit believes
// of the downstream.
func ExampleAdaptive_Stats() {
	lim := ratelimit.NewAdaptive()
	for range 5 {
		_ = lim.Do(context.Background(), func(ctx context.Context) error { return nil })
	}
	s := lim.Stats()
	fmt.Println("limit:", s.Limit, "in flight:", s.Inflight, "admitted:", s.Admitted)
	fmt.Println("windows measured:", s.Windows) // a window needs 200 calls, or a second
	// Output:
	// limit: 20 in flight: 0 admitted: 5
	// windows measured: 0
}
