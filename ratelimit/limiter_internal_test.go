//go:build go1.25

package ratelimit

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// On a host whose sleeps round up to a millisecond, 2 goroutines waiting at
// 100k/s with a burst of 1 get the full rate: each wakes late, and the
// time it lost comes back as a batch of tokens. (Sleeping a millisecond per
// token, they would get about 4k/s.) The guarantee holds throughout: at no
// grant more than burst + rate × elapsed.
func TestWaitHoldsItsRateWhenTimersRoundUpToAMillisecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rate, burst = 100_000, 1
		l := NewLimiter(rate, burst)
		l.sleepRound = time.Millisecond
		start := time.Now()
		const span = time.Second
		var granted atomic.Int64
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for {
					if err := l.Wait(t.Context()); err != nil {
						t.Error(err)
						return
					}
					d := time.Since(start)
					if d > span {
						return
					}
					if g := granted.Add(1); g > burst+rate*int64(d)/int64(time.Second) {
						t.Errorf("grant %d at %v: more than burst + rate × elapsed", g, d)
					}
				}
			})
		}
		wg.Wait()
		g := granted.Load()
		if min := int64(0.99 * rate * span.Seconds()); g < min {
			t.Fatalf("granted %d in %v at %d/s with 1ms timers, want at least %d", g, span, rate, min)
		}
	})
}

// The credit of a late wake lasts maxSlack: an idle limiter is back to its
// burst, and one whose waiters wake on time never exceeds it.
func TestLateWakeCreditExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(1000, 2)
		l.sleepRound = 5 * time.Millisecond
		l.AllowN(2)
		if err := l.Wait(t.Context()); err != nil { // due at 1ms, wakes at 5ms
			t.Fatal(err)
		}
		// 4ms lost: up to 4 tokens beyond the burst, for a while.
		if got := l.Tokens(); got != 2 {
			t.Fatalf("Tokens() = %v, want 2 (Tokens never reports beyond the burst)", got)
		}
		n := 0
		for l.Allow() {
			n++
		}
		// 5 earned in 5ms, 3 taken: 4 in the bucket, 2 beyond the burst.
		if n != 4 {
			t.Fatalf("Allow granted %d after a 4ms-late wake, want 4 (burst 2 + 2 that the lost time earned)", n)
		}
		time.Sleep(maxSlack + time.Millisecond)
		n = 0
		for l.Allow() {
			n++
		}
		if n != 2 {
			t.Fatalf("Allow granted %d once the credit expired, want the burst, 2", n)
		}
	})
}
