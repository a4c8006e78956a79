package redislimit_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/ratelimit/redislimit"
	"github.com/structured-go/structured/ratelimit/redislimit/redistest"
)

// ownServer starts a redis-server for one test, which may kill it.
func ownServer(t *testing.T) *redistest.Server {
	t.Helper()
	s, err := redistest.Start()
	if err != nil {
		t.Fatalf("this test needs a real redis-server: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// A call is one Allow or Wait of a replica, as the test saw it.
type call struct {
	replica    int
	start, end time.Time
	wait       bool // Wait, else Allow
	granted    bool
	err        error
}

// outage runs replicas (a Limiter each, with its own client) of 100/s,
// burst 4, with opt, each with a worker calling Wait (300ms deadline) and
// one calling Allow. Each phase ends on a condition, not after a time: the
// test kills Redis once every replica has had answers from it, restarts it
// once every replica has found it down and answered calls by its policy,
// and stops once every replica has had answers again with no failure
// between.
type outage struct {
	replicas     int
	calls        []call
	killed       time.Time      // the kill is done
	restartBegan time.Time      // the restart begins
	redisEnd     time.Time      // Redis's clock at the end
	firstDown    []time.Time    // per replica, its first failure after the kill
	lastDown     []time.Time    // per replica, its last failure
	failures     []int64        // per replica, OnFailure's calls
	downGranted  []atomic.Int64 // per replica, grants of calls made after its first failure
	stats        []redislimit.Stats
}

// phaseTimeout bounds each phase: a phase that does not end is a hang.
const phaseTimeout = 20 * time.Second

// workers are the goroutines a test runs until it stops them, through
// phases that each end on a condition.
type workers struct {
	t    *testing.T
	stop atomic.Bool
	wg   sync.WaitGroup
}

// fail stops the workers and fails the test.
func (ws *workers) fail(format string, args ...any) {
	ws.t.Helper()
	ws.stop.Store(true)
	ws.wg.Wait()
	ws.t.Fatalf(format, args...)
}

// until waits for cond, checked every millisecond, for phaseTimeout at
// most.
func (ws *workers) until(what string, cond func() bool) {
	ws.t.Helper()
	deadline := time.Now().Add(phaseTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			ws.fail("no %s within %v", what, phaseTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}

func runOutage(t *testing.T, opt redislimit.Option, grantsDown bool) *outage {
	srv := ownServer(t)
	const replicas = 2
	o := &outage{replicas: replicas, firstDown: make([]time.Time, replicas), lastDown: make([]time.Time, replicas),
		failures: make([]int64, replicas), downGranted: make([]atomic.Int64, replicas), stats: make([]redislimit.Stats, replicas)}
	key := newKey(t)
	var mu sync.Mutex // guards o's failure fields, and o.calls
	var afterKill atomic.Bool
	lims := make([]*redislimit.Limiter, replicas)
	for i := range lims {
		onFailure := redislimit.OnFailure(func(err error) {
			if !errors.Is(err, redislimit.ErrUnavailable) {
				t.Errorf("OnFailure got %v, which does not wrap ErrUnavailable", err)
			}
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			o.failures[i]++
			o.lastDown[i] = now
			if afterKill.Load() && o.firstDown[i].IsZero() {
				o.firstDown[i] = now
			}
		})
		lims[i] = redislimit.NewLimiter(newClient(t, srv.Addr()), key, 100, 4, opt, onFailure)
	}
	ws := &workers{t: t}
	for i, l := range lims {
		for _, wait := range []bool{true, false} {
			ws.wg.Go(func() {
				var mine []call
				for !ws.stop.Load() {
					c := call{replica: i, start: time.Now(), wait: wait}
					if wait {
						ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
						c.err = l.Wait(ctx)
						cancel()
						c.granted = c.err == nil
					} else {
						c.granted, c.err = l.Allow(context.Background())
					}
					c.end = time.Now()
					mine = append(mine, c)
					mu.Lock()
					if c.granted && !o.firstDown[i].IsZero() && c.start.After(o.firstDown[i]) {
						o.downGranted[i].Add(1)
					}
					mu.Unlock()
					time.Sleep(time.Millisecond) // no spinning on quick refusals
				}
				mu.Lock()
				o.calls = append(o.calls, mine...)
				mu.Unlock()
			})
		}
	}
	each := func(f func(i int, s redislimit.Stats) bool) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			for i, l := range lims {
				if !f(i, l.Stats()) {
					return false
				}
			}
			return true
		}
	}
	ref := newClient(t, srv.Addr())
	ws.until("answers from Redis on every replica", each(func(_ int, s redislimit.Stats) bool { return s.RoundTrips >= 20 }))
	afterKill.Store(true)
	srv.Kill()
	o.killed = time.Now()
	atKill := make([]int64, replicas)
	for i, l := range lims {
		atKill[i] = l.Stats().Calls
	}
	ws.until("failure heard and 20 calls answered by the policy on every replica, 3 of them granted", each(func(i int, s redislimit.Stats) bool {
		return !o.firstDown[i].IsZero() && s.Failures >= 20 && (!grantsDown || o.downGranted[i].Load() >= 3)
	}))
	o.restartBegan = time.Now()
	if err := srv.Restart(); err != nil {
		ws.fail("restart: %v", err)
	}
	// Recovered: 20 round trips in a row without a failure, on each.
	marks := make([]redislimit.Stats, replicas)
	for i, l := range lims {
		marks[i] = l.Stats()
	}
	ws.until("20 answers in a row without a failure after the restart, on every replica", each(func(i int, s redislimit.Stats) bool {
		if s.Failures != marks[i].Failures {
			marks[i] = s
			return false
		}
		return s.RoundTrips-marks[i].RoundTrips >= 20
	}))
	ws.stop.Store(true)
	ws.wg.Wait()
	o.redisEnd = redisNow(t, ref)
	for i, l := range lims {
		o.stats[i] = l.Stats()
	}
	return o
}

// phase returns the calls of replica i (-1: any) that started after from
// and ended before to.
func (o *outage) phase(i int, from, to time.Time) []call {
	var cs []call
	for _, c := range o.calls {
		if (i < 0 || c.replica == i) && c.start.After(from) && c.end.Before(to) {
			cs = append(cs, c)
		}
	}
	return cs
}

// checkCommon checks what every policy does, and returns the calls each
// replica made while it knew Redis was down: no call hangs, calls before
// the kill all succeed, and calls from DownFor after a replica's last
// failure on are answered by Redis again, within the rate.
func (o *outage) checkCommon(t *testing.T) (down [][]call) {
	t.Helper()
	for _, c := range o.calls {
		// A Wait ends by its 300ms deadline, an Allow by the dial's
		// 200ms; a second more is for a loaded host, not a hang.
		if d := c.end.Sub(c.start); d > 1300*time.Millisecond {
			t.Errorf("a call took %v (wait %v, err %v): it hung", d, c.wait, c.err)
		}
	}
	for _, c := range o.phase(-1, time.Time{}, o.killed) {
		if c.err != nil {
			t.Fatalf("a call before the kill failed: %v", c.err)
		}
	}
	var granted int
	for i := range o.replicas {
		// From its first failure after the kill to the restart, a
		// replica answers every call by its policy.
		d := o.phase(i, o.firstDown[i], o.restartBegan)
		if len(d) == 0 {
			t.Fatalf("replica %d made no call while it knew Redis was down", i)
		}
		down = append(down, d)
		if o.failures[i] == 0 || o.stats[i].Failures == 0 {
			t.Fatalf("replica %d: OnFailure called %d times, Stats %+v: the outage went unreported", i, o.failures[i], o.stats[i])
		}
		// From DownFor after its last failure on, Redis answers.
		for _, c := range o.phase(i, o.lastDown[i].Add(redislimit.DownFor), o.calls[0].start.Add(time.Hour)) {
			if c.err != nil {
				t.Fatalf("replica %d: a call after its last failure failed: %v", i, c.err)
			}
			if c.start.After(o.restartBegan) && c.granted {
				granted++
			}
		}
	}
	// Grants after the restart came from the fresh bucket in Redis, or,
	// until DownFor after each replica's last failure, from its policy;
	// those after, only from Redis, whose fresh bucket bounds them.
	// From when the restart began: Redis's clock is this host's.
	if most := 4 + 100*o.redisEnd.Sub(o.restartBegan).Seconds(); float64(granted) > most {
		t.Fatalf("%d grants by Redis after the restart, more than burst + rate × elapsed = %.1f", granted, most)
	}
	return down
}

func (o *outage) logPhases(t *testing.T, down [][]call) {
	for i, d := range down {
		var granted, errs int
		for _, c := range d {
			if c.granted {
				granted++
			}
			if c.err != nil {
				errs++
			}
		}
		t.Logf("replica %d, while it knew Redis was down (%v): %d calls, %d granted, %d errors; %d failures heard; %+v",
			i, o.restartBegan.Sub(o.firstDown[i]).Round(time.Millisecond), len(d), granted, errs, o.failures[i], o.stats[i])
	}
}

// Redis killed mid-run and restarted, under each failure policy: each does
// what it says while Redis is down, nothing hangs, and once Redis is back
// the limiters use it again. Every phase ends on a condition, so the test
// does not depend on how fast the host is.
func TestRedisKilledAndRestarted(t *testing.T) {
	t.Run("FailClosed", func(t *testing.T) {
		o := runOutage(t, redislimit.FailClosed(), false)
		down := o.checkCommon(t)
		o.logPhases(t, down)
		for _, d := range down {
			for _, c := range d {
				if c.granted || !errors.Is(c.err, redislimit.ErrUnavailable) {
					t.Fatalf("while down: granted %v, err %v; want false and ErrUnavailable", c.granted, c.err)
				}
				if msg := c.err.Error(); !strings.Contains(msg, "Limiter.") || !strings.Contains(msg, "key ") {
					t.Fatalf("error %q does not say which call and key", msg)
				}
			}
		}
	})
	t.Run("FailOpen", func(t *testing.T) {
		o := runOutage(t, redislimit.FailOpen(), true)
		down := o.checkCommon(t)
		o.logPhases(t, down)
		for _, d := range down {
			for _, c := range d {
				if !c.granted || c.err != nil {
					t.Fatalf("while down: granted %v, err %v; want true, nil", c.granted, c.err)
				}
			}
		}
	})
	t.Run("FailLocal", func(t *testing.T) {
		o := runOutage(t, redislimit.FailLocal(2), true)
		down := o.checkCommon(t)
		o.logPhases(t, down)
		for i, d := range down {
			var granted int
			for _, c := range d {
				if c.err != nil {
					t.Fatalf("while down: err %v; want the local limiter's answer", c.err)
				}
				if c.granted {
					granted++
				}
			}
			// Each replica's local limiter, 50/s with a burst of 2,
			// grants at most burst + rate × the time it answered.
			s := o.restartBegan.Sub(o.firstDown[i]).Seconds()
			if most := 2 + 50*s; granted == 0 || float64(granted) > most {
				t.Fatalf("replica %d while down: %d granted; want some, and at most 2 + 50/s × %.3fs = %.1f", i, granted, s, most)
			}
		}
	})
}

// A Redis that stops answering (paused, its connections open) cannot make a
// call overrun its context's deadline, whatever the policy: the deadline
// bounds the round trip, and the call returns ctx.Err(). The client's own
// ReadTimeout, 10s here, plays no part.
func TestSlowRedisDoesNotMakeWaitOverrunItsDeadline(t *testing.T) {
	srv := ownServer(t)
	opts := clientOptions(srv.Addr())
	opts.ReadTimeout, opts.WriteTimeout = 10*time.Second, 10*time.Second
	c := redis.NewClient(opts)
	defer c.Close()
	key := newKey(t)
	lims := map[string]*redislimit.Limiter{
		"closed": redislimit.NewLimiter(c, key, 100, 1, redislimit.FailClosed()),
		"open":   redislimit.NewLimiter(c, key, 100, 1, redislimit.FailOpen()),
		"local":  redislimit.NewLimiter(c, key, 100, 1, redislimit.FailLocal(2)),
	}
	sem := redislimit.NewSemaphore(c, newKey(t), 1)
	for _, l := range lims { // connections made, scripts loaded
		if _, err := l.Allow(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	const deadline, slack = 200 * time.Millisecond, 300 * time.Millisecond
	within := func(what string, f func(ctx context.Context) error) {
		ctx, stop := context.WithTimeout(t.Context(), deadline)
		defer stop()
		start := time.Now()
		err := f(ctx)
		d := time.Since(start)
		if err != context.DeadlineExceeded {
			t.Errorf("%s on a paused Redis = %v, want context.DeadlineExceeded", what, err)
		}
		if d > deadline+slack {
			t.Errorf("%s on a paused Redis returned after %v, overrunning its %v deadline", what, d, deadline)
		}
	}
	for name, l := range lims {
		within(name+" Wait", l.Wait)
		within(name+" Allow", func(ctx context.Context) error { _, err := l.Allow(ctx); return err })
	}
	within("Semaphore.Acquire", func(ctx context.Context) error { _, err := sem.Acquire(ctx); return err })
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithTimeout(t.Context(), 5*time.Second)
	defer stop()
	for name, l := range lims {
		if err := l.Wait(ctx); err != nil {
			t.Errorf("%s Wait once Redis goes on = %v", name, err)
		}
	}
}

// A Semaphore fails closed when Redis is down; a Do whose lease Redis lost
// in a restart cancels its function with ErrLeaseLost, and one whose
// renewals cannot reach Redis cancels it before the lease can have expired.
func TestSemaphoreWhenRedisIsKilled(t *testing.T) {
	srv := ownServer(t)
	const ttl = 300 * time.Millisecond
	var failures atomic.Int64
	sem := redislimit.NewSemaphore(newClient(t, srv.Addr()), newKey(t), 1, redislimit.WithTTL(ttl),
		redislimit.OnFailure(func(error) { failures.Add(1) }))

	t.Run("restart loses the lease", func(t *testing.T) {
		var cause error
		var killedAt time.Time
		err := sem.Do(t.Context(), func(ctx context.Context) error {
			srv.Kill()
			killedAt = time.Now()
			if err := srv.Restart(); err != nil {
				t.Error(err)
			}
			<-ctx.Done()
			cause = context.Cause(ctx)
			return ctx.Err()
		})
		if !errors.Is(err, redislimit.ErrLeaseLost) || !errors.Is(cause, redislimit.ErrLeaseLost) {
			t.Fatalf("Do across a restart = %v, fn's cause %v; want both to wrap ErrLeaseLost", err, cause)
		}
		if d := time.Since(killedAt); d > ttl+200*time.Millisecond {
			t.Fatalf("fn was cancelled %v after the kill, more than the %v TTL after", d, ttl)
		}
	})

	t.Run("down", func(t *testing.T) {
		var cause error
		var lease time.Time
		err := sem.Do(t.Context(), func(ctx context.Context) error {
			lease = time.Now().Add(ttl) // Do's lease expires no sooner
			srv.Kill()
			<-ctx.Done()
			cause = context.Cause(ctx)
			return nil
		})
		if !errors.Is(err, redislimit.ErrLeaseLost) || !errors.Is(cause, redislimit.ErrLeaseLost) {
			t.Fatalf("Do with Redis down = %v, fn's cause %v; want both to wrap ErrLeaseLost", err, cause)
		}
		if !errors.Is(cause, redislimit.ErrUnavailable) {
			t.Errorf("the cause %v does not carry the renewal's failure", cause)
		}
		if time.Now().After(lease.Add(100 * time.Millisecond)) {
			t.Fatalf("fn was cancelled after its lease may have expired")
		}
		before := failures.Load()
		if _, err := sem.Acquire(t.Context()); !errors.Is(err, redislimit.ErrUnavailable) {
			t.Fatalf("Acquire with Redis down = %v, want ErrUnavailable", err)
		}
		if failures.Load() == before {
			t.Fatal("OnFailure did not hear of the failed Acquire")
		}
	})
}

// maxExcess returns the most that grants (sorted times) exceed
// burst + rate × (b − a) over the windows [a, b] between two of them with
// a at or after from.
func maxExcess(grants []time.Time, from time.Time, burst, rate float64) (excess float64, at time.Time, n int, span time.Duration) {
	excess = math.Inf(-1)
	for j, a := range grants {
		if a.Before(from) {
			continue
		}
		for k := j; k < len(grants); k++ {
			d := grants[k].Sub(a)
			if e := float64(k-j+1) - burst - rate*d.Seconds(); e > excess {
				excess, at, n, span = e, a, k-j+1, d
			}
		}
	}
	return excess, at, n, span
}

// Two replicas under FailLocal(2) whose callers ask for more than the rate,
// through Redis's death and its return, restarted empty: over every
// interval that begins once both replicas have found Redis unavailable,
// they grant at most burst + limit × interval, as the doc says; over one
// that spans the failure, one burst more. Grants are timed when the calls
// return, so each bound has a slack of limit × 20ms for a loaded host's
// late timers (which also covers the local limiters' 10ms catch-up).
func TestFailLocalKeepsTheBoundThroughRedisReturn(t *testing.T) {
	srv := ownServer(t)
	const replicas, rate, burst = 2, 200, 100
	const slack = rate * 0.020
	key := newKey(t)
	var mu sync.Mutex
	var grants []time.Time
	firstDown := make([]time.Time, replicas)
	var afterKill atomic.Bool
	lims := make([]*redislimit.Limiter, replicas)
	for i := range lims {
		lims[i] = redislimit.NewLimiter(newClient(t, srv.Addr()), key, rate, burst, redislimit.FailLocal(replicas),
			redislimit.OnFailure(func(error) {
				now := time.Now()
				mu.Lock()
				if afterKill.Load() && firstDown[i].IsZero() {
					firstDown[i] = now
				}
				mu.Unlock()
			}))
	}
	ws := &workers{t: t}
	granted := func() {
		now := time.Now()
		mu.Lock()
		grants = append(grants, now)
		mu.Unlock()
	}
	for _, l := range lims {
		for range 3 {
			ws.wg.Go(func() {
				for !ws.stop.Load() {
					ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
					err := l.Wait(ctx)
					cancel()
					if err == nil {
						granted()
					} else if !errors.Is(err, ratelimit.ErrExceedsDeadline) && err != context.DeadlineExceeded {
						t.Errorf("Wait = %v", err)
						return
					}
				}
			})
		}
		ws.wg.Go(func() {
			for !ws.stop.Load() {
				if ok, err := l.Allow(context.Background()); err != nil {
					t.Errorf("Allow = %v", err)
					return
				} else if ok {
					granted()
				} else {
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(grants)
	}
	ws.until("200 grants from Redis", func() bool { return count() >= 200 })
	afterKill.Store(true)
	srv.Kill()
	killed := count()
	ws.until("both replicas on their local limiters, with 100 grants", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return !firstDown[0].IsZero() && !firstDown[1].IsZero() && len(grants) >= killed+100
	})
	if err := srv.Restart(); err != nil {
		ws.fail("restart: %v", err)
	}
	returned := time.Now()
	back := count()
	marks := make([]redislimit.Stats, replicas)
	ws.until("both replicas back on Redis, with a second of grants", func() bool {
		done := true
		for i, l := range lims {
			s := l.Stats()
			if s.Failures != marks[i].Failures {
				marks[i] = s
			}
			done = done && s.RoundTrips-marks[i].RoundTrips >= 20
		}
		return done && time.Since(returned) > time.Second
	})
	ws.stop.Store(true)
	ws.wg.Wait()
	slices.SortFunc(grants, func(a, b time.Time) int { return a.Compare(b) })
	bothDown := firstDown[0]
	if firstDown[1].After(bothDown) {
		bothDown = firstDown[1]
	}
	var inSecond int
	for _, g := range grants {
		if !g.Before(returned) && g.Before(returned.Add(time.Second)) {
			inSecond++
		}
	}
	t.Logf("%d grants: %d before the kill, %d while Redis was down, %d after; %d in the second after Redis returned, against rate + burst = %d",
		len(grants), killed, back-killed, len(grants)-back, inSecond, rate+burst)
	// Over every interval of the run, through the failure and Redis's
	// return: burst + rate × interval; and, until both are back on Redis,
	// the share of the burst of the one not yet back; and what the other
	// took in the time since the answer each took over from (busy, they
	// ask Redis at least every TrustFor). The limiter as it was exceeded
	// burst + rate × interval by 208 tokens here (both local bursts, full
	// when Redis failed, and Redis's fresh one on its return).
	share := float64(burst) / replicas
	e, at, n, span := maxExcess(grants, time.Time{}, burst+share+rate*redislimit.TrustFor.Seconds(), rate)
	t.Logf("over the whole run, the most over burst + its share + rate × (interval + TrustFor): %.1f (%d grants in %v, from %v after both replicas failed)",
		e, n, span.Round(time.Millisecond), at.Sub(bothDown).Round(time.Millisecond))
	if e > slack {
		t.Errorf("%d grants in %v from %v after both replicas found Redis down: %.1f over burst + %.0f + rate × (interval + TrustFor) (slack %.0f)",
			n, span.Round(time.Millisecond), at.Sub(bothDown).Round(time.Millisecond), e, share, slack)
	}
}
