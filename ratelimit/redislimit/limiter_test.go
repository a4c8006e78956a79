package redislimit_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/ratelimit/redislimit"
)

// The in-process limiter's S99 against Redis: a fresh key is a full bucket,
// the rest comes at the rate, and a request beyond the burst fails at once.
func TestLimiterStartsFullAndWaitsForTheRest(t *testing.T) {
	l := redislimit.NewLimiter(newClient(t, redisAddr), newKey(t), 20, 3)
	start := time.Now()
	if err := l.WaitN(t.Context(), 3); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.Allow(t.Context()); ok || err != nil {
		t.Fatalf("Allow on an empty bucket = %v, %v; want false, nil", ok, err)
	}
	// 2 more tokens at 20/s: 100ms at least, counted from the first call.
	if err := l.WaitN(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("WaitN(2) on an empty bucket at 20/s returned after %v, before the 100ms the tokens take", d)
	}
	before := l.Stats().RoundTrips
	err := l.WaitN(t.Context(), 4)
	if !errors.Is(err, ratelimit.ErrExceedsBurst) {
		t.Fatalf("WaitN(4) with burst 3 = %v, want ratelimit.ErrExceedsBurst", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "n=4") || !strings.Contains(msg, "burst of 3") {
		t.Errorf("error %q does not say n=4 and burst of 3", msg)
	}
	if ok, err := l.AllowN(t.Context(), 4); ok || err != nil {
		t.Fatalf("AllowN(4) with burst 3 = %v, %v; want false, nil", ok, err)
	}
	if r, err := l.ReserveN(t.Context(), 4); err != nil || r.OK() || r.Delay() != ratelimit.InfDuration {
		t.Fatalf("ReserveN(4) with burst 3: OK %v, Delay %v, err %v; want false, InfDuration, nil", r.OK(), r.Delay(), err)
	}
	if got := l.Stats().RoundTrips - before; got != 0 {
		t.Fatalf("requests beyond the burst took %d round trips, want 0", got)
	}
}

// A limit of Inf allows everything, burst or not, and never asks Redis.
func TestInfNeverAsksRedis(t *testing.T) {
	l := redislimit.NewLimiter(newClient(t, redisAddr), newKey(t), ratelimit.Inf, 0)
	for range 100 {
		if ok, err := l.AllowN(t.Context(), 10); !ok || err != nil {
			t.Fatalf("Inf AllowN(10) = %v, %v", ok, err)
		}
		if err := l.WaitN(t.Context(), 10); err != nil {
			t.Fatalf("Inf WaitN(10) = %v", err)
		}
	}
	if r, err := l.Reserve(t.Context()); err != nil || !r.OK() || r.Delay() != 0 {
		t.Fatalf("Inf Reserve: %v, %v, %v", r.OK(), r.Delay(), err)
	}
	if s := l.Stats(); s.RoundTrips != 0 {
		t.Fatalf("Inf limiter made %d round trips, want 0", s.RoundTrips)
	}
}

// A context that is already done is reported at once, unchanged.
func TestDoneContextIsReportedUnchanged(t *testing.T) {
	l := redislimit.NewLimiter(newClient(t, redisAddr), newKey(t), 10, 1)
	ctx, stop := context.WithCancel(t.Context())
	stop()
	if err := l.Wait(ctx); err != context.Canceled {
		t.Fatalf("Wait(done ctx) = %v, want context.Canceled itself", err)
	}
	if ok, err := l.Allow(ctx); ok || err != context.Canceled {
		t.Fatalf("Allow(done ctx) = %v, %v; want false, context.Canceled", ok, err)
	}
	if _, err := l.Reserve(ctx); err != context.Canceled {
		t.Fatalf("Reserve(done ctx) = %v, want context.Canceled", err)
	}
	if s := l.Stats(); s.RoundTrips != 0 {
		t.Fatalf("calls with a done context made %d round trips, want 0", s.RoundTrips)
	}
}

// S100 against Redis: a Wait whose tokens come after the deadline fails at
// once and takes nothing, whether Redis says so or the last answer did.
func TestWaitFailsFastWhenTheTokensComeAfterTheDeadline(t *testing.T) {
	key := newKey(t)
	emptier := redislimit.NewLimiter(newClient(t, redisAddr), key, 10, 2)
	if err := emptier.WaitN(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	// A replica that has not asked yet: Redis answers.
	l := redislimit.NewLimiter(newClient(t, redisAddr), key, 10, 2)
	ctx, stop := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer stop()
	start := time.Now()
	if err := l.Wait(ctx); !errors.Is(err, ratelimit.ErrExceedsDeadline) {
		t.Fatalf("Wait needing ~100ms with 20ms left = %v, want ErrExceedsDeadline", err)
	}
	if d := time.Since(start); d > 20*time.Millisecond {
		t.Fatalf("the failing Wait took %v; it should not wait for the deadline", d)
	}
	if s := l.Stats(); s.RoundTrips == 0 || s.Saved != 0 {
		t.Fatalf("first Wait: %+v; want it answered by Redis", s)
	}
	// Now l knows: the same Wait is answered without Redis.
	before := l.Stats()
	if err := l.Wait(ctx); !errors.Is(err, ratelimit.ErrExceedsDeadline) {
		t.Fatalf("second Wait = %v, want ErrExceedsDeadline", err)
	}
	if s := l.Stats(); s.RoundTrips != before.RoundTrips || s.Saved != before.Saved+1 {
		t.Fatalf("second Wait: %+v after %+v; want no round trip, one saved", s, before)
	}
	// Neither took a token: the next one comes 100ms after the emptying,
	// not 300ms.
	r, err := emptier.Reserve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Delay(); d > 100*time.Millisecond {
		t.Fatalf("Reserve after the failed Waits: Delay %v, want at most 100ms (they took tokens)", d)
	}
}

// S101 against Redis: a Wait cancelled while it sleeps gives its tokens
// back, so the next caller goes sooner.
func TestCancelledWaitGivesItsTokensBack(t *testing.T) {
	l := redislimit.NewLimiter(newClient(t, redisAddr), newKey(t), 10, 1)
	if ok, err := l.Allow(t.Context()); !ok || err != nil {
		t.Fatalf("Allow on a full bucket = %v, %v", ok, err)
	}
	ctx, stop := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, stop)
	if err := l.Wait(ctx); err != context.Canceled {
		t.Fatalf("cancelled Wait = %v, want context.Canceled", err)
	}
	// Its token was to come 100ms after the Allow; the next one, had it
	// kept it, 200ms after. Given back, the next is the 100ms one.
	r, err := l.Reserve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Delay(); d > 100*time.Millisecond {
		t.Fatalf("Reserve after the cancelled Wait: Delay %v, want at most 100ms: the tokens did not come back", d)
	}
}

// Cancel gives the tokens back when nothing was taken since, and only then;
// a second Cancel does nothing.
func TestReservationCancelGivesBackOnlyTheLatest(t *testing.T) {
	l := redislimit.NewLimiter(newClient(t, redisAddr), newKey(t), 10, 1)
	r0, err := l.Reserve(t.Context())
	if err != nil || !r0.OK() || r0.Delay() != 0 {
		t.Fatalf("first Reserve: %v, %v, %v; want OK now", r0.OK(), r0.Delay(), err)
	}
	r1, _ := l.Reserve(t.Context())
	r2, _ := l.Reserve(t.Context())
	if d1, d2 := r1.Delay(), r2.Delay(); !(0 < d1 && d1 <= 100*time.Millisecond && d1 < d2 && d2 <= 200*time.Millisecond) {
		t.Fatalf("Delays %v, %v; want in (0, 100ms] and (d1, 200ms]", d1, d2)
	}
	if back, err := r1.Cancel(t.Context()); back || err != nil {
		t.Fatalf("Cancel of r1 with r2 after it = %v, %v; want false, nil", back, err)
	}
	if back, err := r2.Cancel(t.Context()); !back || err != nil {
		t.Fatalf("Cancel of the latest = %v, %v; want true, nil", back, err)
	}
	if back, err := r2.Cancel(t.Context()); back || err != nil {
		t.Fatalf("second Cancel = %v, %v; want false, nil", back, err)
	}
	if back, err := r0.Cancel(t.Context()); back || err != nil {
		t.Fatalf("Cancel of a reservation whose time has come = %v, %v; want false, nil", back, err)
	}
	r3, _ := l.Reserve(t.Context())
	if d := r3.Delay(); d <= 100*time.Millisecond || d > 200*time.Millisecond {
		t.Fatalf("Reserve after giving r2 back: Delay %v, want r2's slot in (100ms, 200ms]", d)
	}
}

// The pre-check: once an answer says the bucket is empty, calls it rules out
// do not go to Redis until the tokens could have come; then they do.
func TestPreCheckSavesRoundTripsUntilTheTokensCome(t *testing.T) {
	l := redislimit.NewLimiter(newClient(t, redisAddr), newKey(t), 10, 2)
	for i := range 2 {
		if ok, err := l.Allow(t.Context()); !ok || err != nil {
			t.Fatalf("Allow %d on a full bucket = %v, %v", i, ok, err)
		}
	}
	if ok, _ := l.Allow(t.Context()); ok {
		t.Fatal("third Allow with burst 2 = true")
	}
	before := l.Stats()
	const calls = 1000
	for range calls {
		if ok, err := l.Allow(t.Context()); ok || err != nil {
			t.Fatalf("Allow on the empty bucket = %v, %v", ok, err)
		}
	}
	ctx, stop := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer stop()
	if err := l.Wait(ctx); !errors.Is(err, ratelimit.ErrExceedsDeadline) {
		t.Fatalf("Wait with 10ms left for a token 100ms away = %v, want ErrExceedsDeadline", err)
	}
	after := l.Stats()
	if after.RoundTrips != before.RoundTrips {
		t.Fatalf("%d calls the last answer ruled out made %d round trips, want 0", calls+1, after.RoundTrips-before.RoundTrips)
	}
	if after.Saved-before.Saved != calls+1 {
		t.Fatalf("Saved grew by %d, want %d", after.Saved-before.Saved, calls+1)
	}
	// 150ms at 10/s: a token has come; the pre-check lets the call through.
	time.Sleep(150 * time.Millisecond)
	if ok, err := l.Allow(t.Context()); !ok || err != nil {
		t.Fatalf("Allow 150ms later = %v, %v; want true", ok, err)
	}
	if got := l.Stats().RoundTrips - after.RoundTrips; got != 1 {
		t.Fatalf("the Allow after the tokens came made %d round trips, want 1", got)
	}
}

// The Redis limiter is a ratelimit.Waiter, as the in-process one is, and
// behaves as one through the interface.
func TestLimiterIsAWaiter(t *testing.T) {
	var w ratelimit.Waiter = redislimit.NewLimiter(newClient(t, redisAddr), newKey(t), 20, 2)
	start := time.Now()
	for i := range 5 {
		if err := w.Wait(t.Context()); err != nil {
			t.Fatalf("Wait %d through the Waiter = %v", i, err)
		}
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("5 events with burst 2 at 20/s took %v, want at least 150ms", d)
	}
	if err := w.WaitN(t.Context(), 3); !errors.Is(err, ratelimit.ErrExceedsBurst) {
		t.Fatalf("WaitN(3) with burst 2 through the Waiter = %v, want ErrExceedsBurst", err)
	}
	ctx, stop := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer stop()
	if err := w.WaitN(ctx, 2); !errors.Is(err, ratelimit.ErrExceedsDeadline) {
		t.Fatalf("WaitN(2) needing 100ms with 10ms left = %v, want ErrExceedsDeadline", err)
	}
}

// sumStats adds up the Stats of limiters.
func sumStats(lims []*redislimit.Limiter) (sum redislimit.Stats) {
	for _, l := range lims {
		s := l.Stats()
		sum.Calls += s.Calls
		sum.RoundTrips += s.RoundTrips
		sum.Saved += s.Saved
		sum.Failures += s.Failures
		sum.Queued += s.Queued
		sum.Late += s.Late
		sum.Spares += s.Spares
	}
	return sum
}

// replicaRun is what one run of replicas sharing a key saw.
type replicaRun struct {
	granted  []int64          // per replica
	elapsed  time.Duration    // Redis's clock, from before the first call to after the last
	stats    redislimit.Stats // summed over the replicas
	duration time.Duration    // how long the replicas kept asking
}

func (r replicaRun) total() int64 {
	var n int64
	for _, g := range r.granted {
		n += g
	}
	return n
}

// runReplicas runs one Limiter per replica, each with its own client, on
// one fresh key, with workers goroutines each calling ask in a loop for d;
// ask reports whether it got a token.
func runReplicas(t *testing.T, replicas, workers int, r ratelimit.Limit, b int, d time.Duration,
	setup func(i int, l *redislimit.Limiter), ask func(ctx context.Context, l *redislimit.Limiter) bool) replicaRun {
	t.Helper()
	key := newKey(t)
	lims := make([]*redislimit.Limiter, replicas)
	for i := range lims {
		lims[i] = redislimit.NewLimiter(newClient(t, redisAddr), key, r, b)
		if setup != nil {
			setup(i, lims[i])
		}
	}
	ref := newClient(t, redisAddr)
	run := replicaRun{granted: make([]int64, replicas), duration: d}
	t0 := redisNow(t, ref)
	stopAt := time.Now().Add(d)
	var wg sync.WaitGroup
	for i, l := range lims {
		for range workers {
			wg.Go(func() {
				for time.Now().Before(stopAt) {
					if ask(t.Context(), l) {
						atomic.AddInt64(&run.granted[i], 1)
					}
				}
			})
		}
	}
	wg.Wait()
	run.elapsed = redisNow(t, ref).Sub(t0)
	run.stats = sumStats(lims)
	return run
}

func waitAsk(ctx context.Context, l *redislimit.Limiter) bool {
	if err := l.Wait(ctx); err != nil {
		panic(err)
	}
	return true
}

// allowAsk polls as a dropping caller does, pausing a little after a
// refusal so as not to spin.
func allowAsk(ctx context.Context, l *redislimit.Limiter) bool {
	ok, err := l.Allow(ctx)
	if err != nil {
		panic(err)
	}
	if !ok {
		time.Sleep(200 * time.Microsecond)
	}
	return ok
}

// checkBounds checks the accuracy bar of the in-process limiter, by Redis's
// clock: never more than burst + rate × elapsed, and at least 80% of what
// the rate allowed in the time the replicas kept asking (the lower bound
// only catches a limiter that loses tokens; its slack is for a loaded host).
func checkBounds(t *testing.T, run replicaRun, r float64, b int) {
	t.Helper()
	got := run.total()
	most := float64(b) + r*run.elapsed.Seconds()
	least := 0.8 * (float64(b) + r*run.duration.Seconds())
	t.Logf("granted %d (per replica %v) in %v by Redis's clock: %.1f%% of burst + rate × elapsed = %.1f; %+v",
		got, run.granted, run.elapsed.Round(time.Millisecond), 100*float64(got)/most, most, run.stats)
	if float64(got) > most {
		t.Fatalf("granted %d, more than burst + rate × elapsed = %d + %v × %v = %.2f", got, b, r, run.elapsed, most)
	}
	if float64(got) < least {
		t.Fatalf("granted %d, less than 80%% of burst + rate × %v = %.1f", got, run.duration, least)
	}
}

// The accuracy test of the in-process limiter, across 4 replicas sharing a
// key: never more than burst + rate × elapsed, whether they block in Wait
// or poll with Allow.
func TestReplicasTogetherNeverExceedTheRate(t *testing.T) {
	const rate, burst = 200, 10
	t.Run("wait", func(t *testing.T) {
		run := runReplicas(t, 4, 2, rate, burst, 1500*time.Millisecond, nil, waitAsk)
		checkBounds(t, run, rate, burst)
		if run.stats.RoundTrips > run.stats.Calls+8 {
			t.Fatalf("%d round trips for %d Waits: more than one each (+ one EVAL per replica and script)", run.stats.RoundTrips, run.stats.Calls)
		}
	})
	t.Run("allow", func(t *testing.T) {
		run := runReplicas(t, 4, 2, rate, burst, 1500*time.Millisecond, nil, allowAsk)
		checkBounds(t, run, rate, burst)
		if run.stats.Saved == 0 {
			t.Fatal("the pre-check saved no round trip while replicas polled an empty bucket")
		}
		t.Logf("pre-check: %d of %d calls answered without Redis (%.0f%%)",
			run.stats.Saved, run.stats.Calls, 100*float64(run.stats.Saved)/float64(run.stats.Calls))
	})
}

// Replicas whose clocks disagree (by an hour, by seconds, by 50ms) share the
// rate all the same, and fairly: every time is Redis's. A limiter that sent
// its own clock would let the replica an hour ahead lock the others out, or
// the others run over it.
func TestClockSkewBetweenReplicasChangesNothing(t *testing.T) {
	const rate, burst = 200, 10
	skews := []time.Duration{0, time.Hour, -3 * time.Second, 50 * time.Millisecond}
	setup := func(i int, l *redislimit.Limiter) {
		off := skews[i]
		redislimit.SetClock(l, func() time.Time { return time.Now().Add(off) })
	}
	run := runReplicas(t, len(skews), 2, rate, burst, 1500*time.Millisecond, setup, waitAsk)
	checkBounds(t, run, rate, burst)
	total := run.total()
	for i, g := range run.granted {
		if share := float64(g) / float64(total); share < 0.10 {
			t.Errorf("replica %d, clock off by %v, got %d of %d grants (%.0f%%), want at least 10%%", i, skews[i], g, total, 100*share)
		}
	}
	// Deadlines on skewed replicas: fail fast, taking nothing, as on any.
	l := redislimit.NewLimiter(newClient(t, redisAddr), newKey(t), 10, 1)
	setup(1, l)
	if err := l.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer stop()
	if err := l.Wait(ctx); !errors.Is(err, ratelimit.ErrExceedsDeadline) {
		t.Fatalf("Wait on a replica an hour ahead, 20ms left for a token 100ms away = %v, want ErrExceedsDeadline", err)
	}
}

// Bad input panics with a message naming the function and the argument.
func TestBadInputPanics(t *testing.T) {
	c := newClient(t, redisAddr)
	noCtxTimeout := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer noCtxTimeout.Close()
	l := redislimit.NewLimiter(c, newKey(t), 10, 1)
	s := redislimit.NewSemaphore(c, newKey(t), 1)
	var nilCtx context.Context
	var nilClient *redis.Client
	for _, tc := range []struct {
		name string
		f    func()
		want string
	}{
		{"nil client", func() { redislimit.NewLimiter(nil, "k", 1, 1) }, "NewLimiter called with a nil client"},
		{"nil *redis.Client", func() { redislimit.NewLimiter(nilClient, "k", 1, 1) }, "NewLimiter called with a nil client"},
		{"no ContextTimeoutEnabled", func() { redislimit.NewLimiter(noCtxTimeout, "k", 1, 1) }, "ContextTimeoutEnabled"},
		{"empty key", func() { redislimit.NewLimiter(c, "", 1, 1) }, "NewLimiter called with an empty key"},
		{"1 MiB key", func() { redislimit.NewLimiter(c, strings.Repeat("k", 1<<20), 1, 1) }, "NewLimiter called with a key of 1048576 bytes, more than MaxKeyLen (512)"},
		{"semaphore key of MaxKeyLen+1", func() { redislimit.NewSemaphore(c, strings.Repeat("k", redislimit.MaxKeyLen+1), 1) }, "NewSemaphore called with a key of 513 bytes"},
		{"ReserveWithin(0)", func() { redislimit.ReserveWithin(0) }, "ReserveWithin(0s)"},
		{"ReserveWithin for a semaphore", func() { redislimit.NewSemaphore(c, "k", 1, redislimit.ReserveWithin(time.Second)) }, "ReserveWithin is an option of NewLimiter"},
		{"zero rate", func() { redislimit.NewLimiter(c, "k", 0, 1) }, "NewLimiter(r=0)"},
		{"negative rate", func() { redislimit.NewLimiter(c, "k", -1, 1) }, "NewLimiter(r=-1)"},
		{"NaN rate", func() { redislimit.NewLimiter(c, "k", ratelimit.Limit(math.NaN()), 1) }, "NewLimiter(r=NaN)"},
		{"negative burst", func() { redislimit.NewLimiter(c, "k", 1, -1) }, "NewLimiter(b=-1)"},
		{"nil option", func() { redislimit.NewLimiter(c, "k", 1, 1, nil) }, "NewLimiter called with a nil Option"},
		{"TTL for a limiter", func() { redislimit.NewLimiter(c, "k", 1, 1, redislimit.WithTTL(time.Second)) }, "WithTTL is an option of NewSemaphore"},
		{"DefaultTTL for a limiter", func() { redislimit.NewLimiter(c, "k", 1, 1, redislimit.WithTTL(redislimit.DefaultTTL)) }, "WithTTL is an option of NewSemaphore"},
		{"10s TTL for a limiter", func() { redislimit.NewLimiter(c, "k", 1, 1, redislimit.WithTTL(10*time.Second)) }, "WithTTL is an option of NewSemaphore"},
		{"FailLocal(0)", func() { redislimit.FailLocal(0) }, "FailLocal(0)"},
		{"OnFailure(nil)", func() { redislimit.OnFailure(nil) }, "OnFailure called with a nil function"},
		{"WithTTL(0)", func() { redislimit.WithTTL(0) }, "WithTTL(0s)"},
		{"Wait nil ctx", func() { l.Wait(nilCtx) }, "Limiter.WaitN called with a nil context"},
		{"Allow nil ctx", func() { l.Allow(nilCtx) }, "Limiter.AllowN called with a nil context"},
		{"Reserve nil ctx", func() { l.Reserve(nilCtx) }, "Limiter.ReserveN called with a nil context"},
		{"WaitN(-1)", func() { l.WaitN(t.Context(), -1) }, "Limiter.WaitN(n=-1)"},
		{"AllowN(-1)", func() { l.AllowN(t.Context(), -1) }, "Limiter.AllowN(n=-1)"},
		{"ReserveN(-1)", func() { l.ReserveN(t.Context(), -1) }, "Limiter.ReserveN(n=-1)"},
		{"semaphore nil client", func() { redislimit.NewSemaphore(nil, "k", 1) }, "NewSemaphore called with a nil client"},
		{"semaphore empty key", func() { redislimit.NewSemaphore(c, "", 1) }, "NewSemaphore called with an empty key"},
		{"semaphore n=0", func() { redislimit.NewSemaphore(c, "k", 0) }, "NewSemaphore(n=0)"},
		{"semaphore policy", func() { redislimit.NewSemaphore(c, "k", 1, redislimit.FailOpen()) }, "a Semaphore always fails closed"},
		{"semaphore nil option", func() { redislimit.NewSemaphore(c, "k", 1, nil) }, "NewSemaphore called with a nil Option"},
		{"Acquire nil ctx", func() { s.Acquire(nilCtx) }, "Semaphore.Acquire called with a nil context"},
		{"TryAcquire nil ctx", func() { s.TryAcquire(nilCtx) }, "Semaphore.TryAcquire called with a nil context"},
		{"Do nil ctx", func() { s.Do(nilCtx, func(context.Context) error { return nil }) }, "Semaphore.Do called with a nil context"},
		{"Do nil fn", func() { s.Do(t.Context(), nil) }, "Semaphore.Do called with a nil function"},
	} {
		r := recoverPanic(tc.f)
		msg, _ := r.(string)
		if !strings.HasPrefix(msg, "redislimit: ") || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: panicked with %v, want a message with %q", tc.name, r, tc.want)
		}
	}
}

// Errors carry this package's prefix once, and the words of package
// ratelimit's sentinels that errors.Is matches.
func TestErrorsHaveOnePrefix(t *testing.T) {
	l := redislimit.NewLimiter(newClient(t, redisAddr), newKey(t), 10, 1)
	if err := l.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer stop()
	for _, err := range []error{l.WaitN(t.Context(), 2), l.Wait(ctx), l.WaitN(ctx, 1)} {
		msg := err.Error()
		if strings.Count(msg, "limit: ") != 1 || !strings.HasPrefix(msg, "redislimit: ") {
			t.Errorf("error %q: want one prefix, redislimit's", msg)
		}
		var sentinel error = ratelimit.ErrExceedsBurst
		if !errors.Is(err, sentinel) {
			sentinel = ratelimit.ErrExceedsDeadline
		}
		words := strings.TrimPrefix(sentinel.Error(), "ratelimit: ")
		if !errors.Is(err, sentinel) || !strings.HasSuffix(msg, ": "+words) {
			t.Errorf("error %q: want it to wrap %v and end with its words", msg, sentinel)
		}
	}
}

// A key of MaxKeyLen bytes is accepted, and works.
func TestAKeyOfMaxKeyLenWorks(t *testing.T) {
	key := newKey(t)
	key += strings.Repeat("k", redislimit.MaxKeyLen-len(key))
	l := redislimit.NewLimiter(newClient(t, redisAddr), key, 10, 1)
	if ok, err := l.Allow(t.Context()); !ok || err != nil {
		t.Fatalf("Allow on a key of MaxKeyLen bytes = %v, %v", ok, err)
	}
	s := redislimit.NewSemaphore(newClient(t, redisAddr), key, 1)
	if lease, err := s.TryAcquire(t.Context()); lease == nil || err != nil {
		t.Fatalf("TryAcquire on a key of MaxKeyLen bytes = %v, %v", lease, err)
	} else if err := lease.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
}
