package redislimit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/ratelimit/redislimit"
)

// contention is what a run of callers looping on Wait with a deadline saw.
type contention struct {
	granted, refused, expired int64
	elapsed                   time.Duration // by Redis's clock
	asking                    time.Duration // how long the callers kept asking
	stats                     redislimit.Stats
}

// runContention runs 2 replicas, each with its own client and Limiter on
// one key, with callers goroutines in all looping on Wait with a fresh
// deadline each time, for d, as a gateway's handlers do.
func runContention(t *testing.T, callers int, deadline time.Duration, rate ratelimit.Limit, burst int, d time.Duration) contention {
	t.Helper()
	const replicas = 2
	key := newKey(t)
	lims := make([]*redislimit.Limiter, replicas)
	for i := range lims {
		lims[i] = redislimit.NewLimiter(newClient(t, redisAddr), key, rate, burst)
	}
	ref := newClient(t, redisAddr)
	var c contention
	t0 := redisNow(t, ref)
	start := time.Now()
	stopAt := start.Add(d)
	var wg sync.WaitGroup
	for i := range callers {
		l := lims[i%replicas]
		wg.Go(func() {
			for time.Now().Before(stopAt) {
				ctx, stop := context.WithTimeout(t.Context(), deadline)
				err := l.Wait(ctx)
				stop()
				switch {
				case err == nil:
					atomic.AddInt64(&c.granted, 1)
				case errors.Is(err, ratelimit.ErrExceedsDeadline):
					atomic.AddInt64(&c.refused, 1)
				case err == context.DeadlineExceeded:
					atomic.AddInt64(&c.expired, 1)
				default:
					t.Errorf("Wait = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	c.asking = time.Since(start)
	c.elapsed = redisNow(t, ref).Sub(t0)
	c.stats = sumStats(lims)
	return c
}

// Callers looping on Wait with short deadlines, more than the rate can
// serve, against the real Redis: never more than burst + rate × elapsed,
// and most of the rate granted, at any number of callers and any deadline
// that leaves room for a round trip, down to one token's time; the refused
// are refused at once, mostly without Redis.
//
// The callers loop without pausing, as a gateway's handlers might, which
// keeps every processor busy, and the round trips then depend on the host
// as much as on the limiter: on this 2-core host shared with other work,
// from 63% to 100% of the rate in a run. So the test asks for half of it,
// in the best of three runs, which the limiter as it was (11–16%) never
// reached; that the design grants 90% and more, whatever the callers and
// deadlines, is TestWaitUnderContentionSimulated's, in virtual time, and
// bench's RedisContended measures it against the real Redis (0.995 of the
// rate on a quiet host). Every run is logged.
func TestWaitUnderContentionGrantsTheRate(t *testing.T) {
	const floor = 0.5
	for _, tc := range []struct {
		callers  int
		deadline time.Duration
		rate     ratelimit.Limit
		burst    int
		run      time.Duration
	}{
		{200, 50 * time.Millisecond, 1200, 12, time.Second},
		{200, 100 * time.Millisecond, 1200, 12, time.Second},
		{20, 50 * time.Millisecond, 1200, 12, time.Second},
		{200, 50 * time.Millisecond, 20, 1, 3 * time.Second}, // one token's time
	} {
		t.Run(fmt.Sprintf("%d callers, deadline %v, %v a second", tc.callers, tc.deadline, float64(tc.rate)), func(t *testing.T) {
			rate := float64(tc.rate)
			var best float64
			for attempt := 1; attempt <= 3 && best < floor; attempt++ {
				c := runContention(t, tc.callers, tc.deadline, tc.rate, tc.burst, tc.run)
				most := float64(tc.burst) + rate*c.elapsed.Seconds()
				share := float64(c.granted) / (rate * c.asking.Seconds())
				best = max(best, share)
				t.Logf("run %d: %d granted in %v (%.0f/s, %.1f%% of the rate), %d refused, %d expired, %d late (%d taken by others); %.2f round trips a grant",
					attempt, c.granted, c.elapsed.Round(time.Millisecond), float64(c.granted)/c.elapsed.Seconds(),
					100*share, c.refused, c.expired, c.stats.Late, c.stats.Spares,
					float64(c.stats.RoundTrips)/float64(max(c.granted, 1)))
				if float64(c.granted) > most {
					t.Fatalf("%d granted, more than burst + rate × elapsed = %.1f", c.granted, most)
				}
			}
			if best < floor {
				t.Fatalf("at most %.1f%% of the rate granted in 3 runs, want %.0f%%", 100*best, 100*floor)
			}
		})
	}
}
