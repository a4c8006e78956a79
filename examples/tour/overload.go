package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/structured-go/structured/cancel"
	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/retry"
)

// overloadChapter protects a downstream: an adaptive limit finds how many
// calls it serves at once and sheds the rest, a breaker stops calling it
// while it is down, a throttle spares it the calls it would refuse.
//
// In Python, a guess and a breaker:
//
//	sem = asyncio.Semaphore(16)
//	@aiobreaker.CircuitBreaker(fail_max=3, timeout_duration=timedelta(seconds=0.2))
//	async def call():
//	    async with sem:
//	        return await fetch("/1")
func overloadChapter(ctx context.Context, server string) error {
	// A downstream of 4 workers in front of the slow server: a call takes
	// a worker, then GET /1 (1 unit).
	workers := ratelimit.NewSemaphore(4)
	downstream := func(ctx context.Context) error {
		if err := workers.Acquire(ctx, 1); err != nil {
			return err
		}
		defer workers.Release(1)
		return get(ctx, server, "/1")
	}
	fmt.Printf("A downstream of 4 workers, each call GET /1 (%v); 32 callers call it as fast as they can for 6s,\n", unit)
	fmt.Println("through an adaptive limit that starts at 20:")
	lim := ratelimit.NewAdaptive()
	var served, shed atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	var limits []string
	var recent []int // the limits seen each second
	t0 := time.Now()
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for range 32 {
			n.Go(func(ctx context.Context) error {
				for time.Since(t0) < 6*time.Second {
					start := time.Now()
					err := lim.Do(ctx, downstream)
					switch {
					case errors.Is(err, ratelimit.ErrExceedsLimit):
						shed.Add(1) // shed at once: a 503 of our own
						time.Sleep(unit / 2)
					case err != nil:
						return err
					default:
						served.Add(1)
						mu.Lock()
						latencies = append(latencies, time.Since(start))
						mu.Unlock()
					}
				}
				return nil
			})
		}
		n.Go(func(ctx context.Context) error {
			for range 6 {
				if err := cancel.Sleep(ctx, time.Second); err != nil {
					return err
				}
				l := lim.Limit()
				limits = append(limits, fmt.Sprint(l))
				recent = append(recent, l)
			}
			return nil
		})
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(latencies)
	fmt.Printf("  the limit each second: %s (the downstream serves 4 at once)\n", strings.Join(limits, ", "))
	fmt.Printf("  %d calls served, %d shed at once\n", served.Load(), shed.Load())
	fmt.Printf("  the served calls took %v at the median, %v at the 90th percentile\n",
		round(latencies[len(latencies)/2]), round(latencies[len(latencies)*9/10]))
	// Real time on a busy machine is noisy: the check is only that the
	// limit came well down from 20 (overloadbench measures how close it
	// comes, in virtual time).
	recent = recent[len(recent)-3:]
	slices.Sort(recent)
	if recent[1] > 12 || served.Load() == 0 || shed.Load() == 0 {
		return fmt.Errorf("the adaptive limit was %d in the last seconds, want it well below 20, near the 4 workers", recent[1])
	}

	// A downstream that is down: GET /fail/0 answers 500 at once.
	fmt.Println("\nA downstream that is down (GET /fail/0 answers 500), behind a breaker (retry.NewBreaker):")
	b := retry.NewBreaker(retry.ConsecutiveFailures(3), retry.OpenFor(20*unit), retry.HalfOpen(1, 1),
		retry.OnStateChange(func(from, to retry.BreakerState) { fmt.Printf("  the breaker: %v → %v\n", from, to) }))
	reached, refused := 0, 0
	var last error
	for range 10 {
		err := b.Do(ctx, func(ctx context.Context) error {
			reached++
			return get(ctx, server, "/fail/0")
		})
		if errors.Is(err, retry.ErrOpen) {
			refused++
			last = err
		}
	}
	_, cause, _ := strings.Cut(last.Error(), "opened by: ")
	fmt.Printf("  10 calls: %d reached the downstream, %d refused at once, opened by %q\n", reached, refused, cause)
	if err := cancel.Sleep(ctx, 20*unit); err != nil { // the breaker's open time; the downstream is back meanwhile
		return err
	}
	err = b.Do(ctx, func(ctx context.Context) error { return get(ctx, server, "/0") })
	fmt.Printf("  20 units later, a probe to the downstream, now back: error %v; the breaker is %v\n", err, b.State())
	if reached != 3 || refused != 7 || err != nil || b.State() != retry.BreakerClosed {
		return errors.New("the breaker did not open after 3 failures and close after the probe")
	}

	// A downstream that refuses most calls: the throttle refuses them
	// here instead, and spares it the work.
	fmt.Println("\n300 calls to a downstream that refuses them all, through a throttle (retry.NewThrottle):")
	th := retry.NewThrottle(2, time.Minute) // the SRE book's k of 2
	reached = 0
	for range 300 {
		_ = th.Do(ctx, func(ctx context.Context) error {
			reached++
			return get(ctx, server, "/fail/0")
		})
	}
	fmt.Printf("  %d of them reached the downstream; the throttle now refuses %.0f%% of the calls\n", reached, 100*th.RefuseProbability())
	if reached > 60 {
		return fmt.Errorf("%d calls reached a downstream that refuses them all, want a few", reached)
	}
	return nil
}
