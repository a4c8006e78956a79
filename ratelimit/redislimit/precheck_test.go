package redislimit_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/structured-go/structured/ratelimit/redislimit"
)

// checkRefusedWithoutAsking checks that l refuses an Allow by itself (one
// more Saved, no round trip).
func checkRefusedWithoutAsking(t *testing.T, l *redislimit.Limiter, when string) {
	t.Helper()
	before := l.Stats()
	if ok, err := l.Allow(t.Context()); ok || err != nil {
		t.Fatalf("Allow %s = %v, %v; want false", when, ok, err)
	}
	if s := l.Stats(); s.Saved != before.Saved+1 || s.RoundTrips != before.RoundTrips {
		t.Fatalf("Allow %s: %+v after %+v; want it refused without Redis", when, s, before)
	}
}

// checkAllowedByRedis checks that l's Allow asks Redis and is granted.
func checkAllowedByRedis(t *testing.T, l *redislimit.Limiter, when string) {
	t.Helper()
	before := l.Stats()
	if ok, err := l.Allow(t.Context()); !ok || err != nil {
		t.Fatalf("Allow %s = %v, %v; want true", when, ok, err)
	}
	if s := l.Stats(); s.RoundTrips == before.RoundTrips {
		t.Fatalf("Allow %s was granted without asking Redis", when)
	}
}

// checkRefusalOutlivesItsCause checks, once fresh (a limiter that never
// asked) is allowed, so that the cause of a's refusals is gone, that a
// refuses without Redis for TrustFor after its last answer, by its clock,
// and then asks and is allowed.
func checkRefusalOutlivesItsCause(t *testing.T, a, fresh *redislimit.Limiter, clock *manualClock, cause string) {
	t.Helper()
	checkAllowedByRedis(t, fresh, "of a fresh limiter after "+cause)
	checkRefusedWithoutAsking(t, a, "right after "+cause)
	clock.Add(redislimit.TrustFor - time.Millisecond)
	checkRefusedWithoutAsking(t, a, "TrustFor - 1ms after its last answer")
	clock.Add(time.Millisecond)
	checkAllowedByRedis(t, a, "TrustFor after its last answer")
}

// A limiter that had 3s of reservations queued refuses Allow without Redis;
// Redis restarts without persistence, so the bucket is full again (a fresh
// limiter is allowed at once). The old answer goes on refusing for
// TrustFor at most, by the limiter's own clock, moved here by hand; then
// the limiter asks Redis and is allowed. The connection pool reconnects
// silently: no call fails, so the failure policy never takes over.
func TestRefusalAfterARestartOutlivesItsCauseByTrustForAtMost(t *testing.T) {
	srv := ownServer(t)
	key := newKey(t)
	clock := newManualClock()
	a := redislimit.NewLimiter(newClient(t, srv.Addr()), key, 10, 5)
	redislimit.SetClock(a, clock.Now)
	for range 7 { // 35 tokens at 10/s with a burst of 5: 3s ahead
		if r, err := a.ReserveN(t.Context(), 5); err != nil || !r.OK() {
			t.Fatalf("ReserveN(5) = %v, %v", r, err)
		}
	}
	checkRefusedWithoutAsking(t, a, "with 3s of reservations queued")
	srv.Kill()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	fresh := redislimit.NewLimiter(newClient(t, srv.Addr()), key, 10, 5)
	checkRefusalOutlivesItsCause(t, a, fresh, clock, "the restart")
	if s := a.Stats(); s.Failures != 0 {
		t.Fatalf("Stats %+v: a failure was counted; the restart should go unnoticed", s)
	}
}

// The same by the real clock, for the figure the package doc gives: how
// long after the restart the limiter goes on refusing without Redis.
func TestRefusalAfterARestartByTheRealClock(t *testing.T) {
	srv := ownServer(t)
	key := newKey(t)
	a := redislimit.NewLimiter(newClient(t, srv.Addr()), key, 10, 5)
	for range 7 {
		if _, err := a.ReserveN(t.Context(), 5); err != nil {
			t.Fatal(err)
		}
	}
	srv.Kill()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	saved := a.Stats().Saved
	for {
		ok, err := a.Allow(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Since(restarted) > 2*time.Second {
			t.Fatalf("Allow still refused %v after the restart: the old answer outlived its cause", time.Since(restarted))
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("refused without Redis for %v after the restart (%d calls), bound 2 × %v",
		time.Since(restarted).Round(time.Millisecond), a.Stats().Saved-saved, redislimit.TrustFor)
}

// Another replica cancels its reservation, so the bucket is fuller than
// replica A was told (a fresh limiter is allowed). A goes on refusing for
// TrustFor at most, then asks.
func TestRefusalAfterAnotherReplicaCancelsOutlivesItsCauseByTrustForAtMost(t *testing.T) {
	key := newKey(t)
	b := redislimit.NewLimiter(newClient(t, redisAddr), key, 10, 5)
	if ok, err := b.AllowN(t.Context(), 3); !ok || err != nil {
		t.Fatalf("B.AllowN(3) on a full bucket = %v, %v", ok, err)
	}
	r, err := b.ReserveN(t.Context(), 5) // 2 there, 3 to come: 300ms
	if err != nil || r.Delay() <= 0 {
		t.Fatalf("B.ReserveN(5) = %v, %v; want a delay", r, err)
	}
	clock := newManualClock()
	a := redislimit.NewLimiter(newClient(t, redisAddr), key, 10, 5)
	redislimit.SetClock(a, clock.Now)
	if ok, err := a.Allow(t.Context()); ok || err != nil {
		t.Fatalf("A.Allow with B's reservation pending = %v, %v; want false", ok, err)
	}
	if back, err := r.Cancel(t.Context()); !back || err != nil {
		t.Fatalf("B's Cancel = %v, %v; want its tokens back", back, err)
	}
	fresh := redislimit.NewLimiter(newClient(t, redisAddr), key, 10, 5)
	checkRefusalOutlivesItsCause(t, a, fresh, clock, "B's Cancel")
}

// Every answer replaces what the limiter knew, fuller or emptier: once any
// call of A hears from Redis that the bucket is fuller (here a Reserve,
// after another replica's Cancel), A's next Allow asks Redis at once.
func TestEveryAnswerReplacesWhatTheLimiterKnew(t *testing.T) {
	key := newKey(t)
	b := redislimit.NewLimiter(newClient(t, redisAddr), key, 10, 5)
	if ok, err := b.AllowN(t.Context(), 3); !ok || err != nil {
		t.Fatalf("B.AllowN(3) = %v, %v", ok, err)
	}
	r, err := b.ReserveN(t.Context(), 5)
	if err != nil {
		t.Fatal(err)
	}
	clock := newManualClock()
	a := redislimit.NewLimiter(newClient(t, redisAddr), key, 10, 5)
	redislimit.SetClock(a, clock.Now)
	if ok, _ := a.Allow(t.Context()); ok {
		t.Fatal("A.Allow with B's reservation pending = true")
	}
	if back, err := r.Cancel(t.Context()); !back || err != nil {
		t.Fatalf("B's Cancel = %v, %v", back, err)
	}
	if res, err := a.Reserve(t.Context()); err != nil || res.Delay() != 0 {
		t.Fatalf("A.Reserve after B's Cancel = %v, %v; want a token now", res, err)
	}
	checkAllowedByRedis(t, a, "right after A's Reserve heard the bucket is fuller")
}

// tatAhead reads how far ahead of Redis's clock the key's TAT is: how long
// a fresh caller waits for a token, plus the burst's time.
func tatAhead(t *testing.T, c *redis.Client, key string) time.Duration {
	t.Helper()
	var tat, now int64
	_, err := c.TxPipelined(t.Context(), func(p redis.Pipeliner) error {
		get := p.Get(t.Context(), key)
		tm := p.Time(t.Context())
		if _, err := p.Exec(t.Context()); err != nil && err != redis.Nil {
			return err
		}
		if s, err := get.Result(); err == nil {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return err
			}
			tat = int64(f)
		}
		now = tm.Val().UnixMicro() - 1577836800*1_000_000
		return nil
	})
	if err != nil && err != redis.Nil {
		t.Fatal(err)
	}
	if tat == 0 {
		return 0
	}
	return time.Duration(tat-now) * time.Microsecond
}

// 1,000 Waits without a deadline on a key of 10/s, then all cancelled: the
// key's reservations never reach further than ReserveWithin (default 1s)
// plus the burst's time, so once they are cancelled a fresh caller waits
// that long at most, not the 100s they would have reserved.
func TestAbandonedWaitsLockTheKeyForReserveWithinAtMost(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []redislimit.Option
		within time.Duration
	}{
		{"default", nil, redislimit.DefaultReserveWithin},
		{"ReserveWithin(200ms)", []redislimit.Option{redislimit.ReserveWithin(200 * time.Millisecond)}, 200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const rate, waits = 10, 1000
			key := newKey(t)
			ref := newClient(t, redisAddr)
			l := redislimit.NewLimiter(newClient(t, redisAddr), key, rate, 1, tc.opts...)
			most := tc.within + time.Second/rate // ReserveWithin and the burst's time
			ctx, stop := context.WithCancel(t.Context())
			var wg sync.WaitGroup
			var granted atomic.Int64
			for range waits {
				wg.Go(func() {
					if err := l.Wait(ctx); err == nil {
						granted.Add(1)
					} else if err != context.Canceled {
						t.Errorf("Wait = %v, want nil or context.Canceled", err)
					}
				})
			}
			for l.Stats().Calls < waits {
				time.Sleep(time.Millisecond)
			}
			var peak time.Duration
			for range 20 {
				ahead := tatAhead(t, ref, key)
				peak = max(peak, ahead)
				if ahead > most {
					stop()
					wg.Wait()
					t.Fatalf("with %d Waits pending, the TAT is %v ahead of Redis's clock, more than ReserveWithin + one token = %v", waits, ahead, most)
				}
				time.Sleep(10 * time.Millisecond)
			}
			stop()
			wg.Wait()
			after := tatAhead(t, ref, key)
			if after > most {
				t.Fatalf("after %d Waits were cancelled, a fresh caller waits %v, more than %v", waits, after, most)
			}
			s := l.Stats()
			if s.Queued < waits/2 {
				t.Fatalf("Stats %+v: fewer than half the Waits waited in line", s)
			}
			t.Logf("%d Waits, %d granted, the rest cancelled: reservations reached %v ahead at most (bound %v); after: %v; %d round trips; %+v",
				waits, granted.Load(), peak.Round(time.Millisecond), most, after.Round(time.Millisecond), s.RoundTrips, s)
		})
	}
}
