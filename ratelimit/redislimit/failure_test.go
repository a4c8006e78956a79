package redislimit_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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
	start, end time.Time
	wait       bool // Wait, else Allow
	granted    bool
	err        error
}

// outage runs 2 replicas (a Limiter each, with its own client) of 100/s,
// burst 4, with opt, each with a worker calling Wait (300ms deadline) and
// one calling Allow, while the test kills Redis after 300ms and restarts it
// 500ms later, then lets them run 700ms more.
type outage struct {
	calls                  []call
	created                time.Time // the limiters are made
	killed, restartBegan   time.Time // the kill is done; the restart begins
	restarted              time.Time // it answers again
	redisAfterRestart      time.Time // Redis's clock, once restarted
	redisEnd               time.Time
	failures               atomic.Int64 // OnFailure's calls
	failuresAtRecovery     int64        // OnFailure's calls 400ms after the restart
	stats, statsAtRecovery redislimit.Stats
}

const (
	recovery      = 400 * time.Millisecond
	learnedWithin = 150 * time.Millisecond
)

func runOutage(t *testing.T, opt redislimit.Option) *outage {
	srv := ownServer(t)
	o := &outage{}
	const replicas = 2
	key := newKey(t)
	lims := make([]*redislimit.Limiter, replicas)
	o.created = time.Now()
	for i := range lims {
		onFailure := redislimit.OnFailure(func(err error) {
			if !errors.Is(err, redislimit.ErrUnavailable) {
				t.Errorf("OnFailure got %v, which does not wrap ErrUnavailable", err)
			}
			o.failures.Add(1)
		})
		lims[i] = redislimit.NewLimiter(newClient(t, srv.Addr()), key, 100, 4, opt, onFailure)
	}
	var mu sync.Mutex
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, l := range lims {
		for _, wait := range []bool{true, false} {
			wg.Go(func() {
				var mine []call
				for !stop.Load() {
					c := call{start: time.Now(), wait: wait}
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
					time.Sleep(time.Millisecond) // no spinning on quick refusals
				}
				mu.Lock()
				o.calls = append(o.calls, mine...)
				mu.Unlock()
			})
		}
	}
	sum := func() (s redislimit.Stats) {
		for _, l := range lims {
			x := l.Stats()
			s.Calls += x.Calls
			s.RoundTrips += x.RoundTrips
			s.Saved += x.Saved
			s.Failures += x.Failures
		}
		return s
	}
	ref := newClient(t, srv.Addr())
	time.Sleep(300 * time.Millisecond)
	srv.Kill()
	o.killed = time.Now()
	time.Sleep(500 * time.Millisecond)
	o.restartBegan = time.Now()
	if err := srv.Restart(); err != nil {
		stop.Store(true)
		wg.Wait()
		t.Fatalf("restart: %v", err)
	}
	o.restarted = time.Now()
	o.redisAfterRestart = redisNow(t, ref)
	time.Sleep(recovery)
	o.statsAtRecovery, o.failuresAtRecovery = sum(), o.failures.Load()
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	o.redisEnd = redisNow(t, ref)
	o.stats = sum()
	return o
}

// phase returns the calls that started after from and ended before to.
func (o *outage) phase(from, to time.Time) []call {
	var cs []call
	for _, c := range o.calls {
		if c.start.After(from) && c.end.Before(to) {
			cs = append(cs, c)
		}
	}
	return cs
}

// checkCommon checks what every policy does: no call hangs, calls before
// the kill all succeed, and calls from 400ms after the restart on are
// answered by Redis again (no failure counted since), within the rate.
func (o *outage) checkCommon(t *testing.T) (down []call) {
	t.Helper()
	for _, c := range o.calls {
		if d := c.end.Sub(c.start); d > time.Second {
			t.Errorf("a call took %v (wait %v, err %v): it hung", d, c.wait, c.err)
		}
	}
	first := o.calls[0].start
	for _, c := range o.phase(first.Add(-time.Hour), o.killed.Add(-50*time.Millisecond)) {
		if c.err != nil {
			t.Fatalf("a call before the kill failed: %v", c.err)
		}
	}
	// A replica learns that Redis is down from a call that fails; until
	// then, a call the last answer ruled out is refused without asking,
	// for as long as that answer said (a few tokens' time here).
	down = o.phase(o.killed.Add(learnedWithin), o.restartBegan)
	if len(down) == 0 {
		t.Fatal("no call ran while Redis was down")
	}
	if o.failures.Load() == 0 || o.stats.Failures == 0 {
		t.Fatalf("OnFailure called %d times, Stats %+v: the outage went unreported", o.failures.Load(), o.stats)
	}
	if o.stats.Failures != o.statsAtRecovery.Failures || o.failures.Load() != o.failuresAtRecovery {
		t.Fatalf("failures went on %v after the restart: %d then %d", recovery, o.statsAtRecovery.Failures, o.stats.Failures)
	}
	if o.stats.RoundTrips <= o.statsAtRecovery.RoundTrips {
		t.Fatal("no round trip to Redis after the restart")
	}
	// Every grant after the restart came from Redis (closed) or, within
	// the 400ms, maybe the policy; from then on only Redis, whose fresh
	// bucket bounds them.
	after := o.phase(o.restarted.Add(recovery), o.calls[0].start.Add(time.Hour))
	var granted int
	for _, c := range after {
		if c.err != nil {
			t.Fatalf("a call %v after the restart failed: %v", recovery, c.err)
		}
		if c.granted {
			granted++
		}
	}
	if most := 4 + 100*o.redisEnd.Sub(o.redisAfterRestart).Seconds(); float64(granted) > most {
		t.Fatalf("%d grants after the restart, more than burst + rate × elapsed = %.1f", granted, most)
	}
	return down
}

func (o *outage) logPhases(t *testing.T, down []call) {
	var grantedDown, errsDown int
	for _, c := range down {
		if c.granted {
			grantedDown++
		}
		if c.err != nil {
			errsDown++
		}
	}
	t.Logf("while down (%v, from %v after the kill): %d calls, %d granted, %d errors; recovered within %v of the restart; %+v",
		o.restartBegan.Sub(o.killed).Round(time.Millisecond), learnedWithin, len(down), grantedDown, errsDown, recovery, o.stats)
}

// Redis killed mid-run and restarted, under each failure policy: each does
// what it says while Redis is down, nothing hangs, and once Redis is back
// the limiters use it again.
func TestRedisKilledAndRestarted(t *testing.T) {
	t.Run("FailClosed", func(t *testing.T) {
		o := runOutage(t, redislimit.FailClosed())
		down := o.checkCommon(t)
		o.logPhases(t, down)
		for _, c := range down {
			if c.granted || !errors.Is(c.err, redislimit.ErrUnavailable) {
				t.Fatalf("while down: granted %v, err %v; want false and ErrUnavailable", c.granted, c.err)
			}
			if msg := c.err.Error(); !strings.Contains(msg, "Limiter.") || !strings.Contains(msg, "key ") {
				t.Fatalf("error %q does not say which call and key", msg)
			}
		}
	})
	t.Run("FailOpen", func(t *testing.T) {
		o := runOutage(t, redislimit.FailOpen())
		down := o.checkCommon(t)
		o.logPhases(t, down)
		for _, c := range down {
			if !c.granted || c.err != nil {
				t.Fatalf("while down: granted %v, err %v; want true, nil", c.granted, c.err)
			}
		}
	})
	t.Run("FailLocal", func(t *testing.T) {
		o := runOutage(t, redislimit.FailLocal(2))
		down := o.checkCommon(t)
		o.logPhases(t, down)
		var granted int
		for _, c := range down {
			if c.err != nil {
				t.Fatalf("while down: err %v; want the local limiter's answer", c.err)
			}
			if c.granted {
				granted++
			}
		}
		// Each replica's local limiter, 50/s with a burst of 2, never
		// grants more than burst + rate × the time since its creation.
		d := o.restartBegan.Sub(o.created).Seconds()
		most := 2 * (2 + 50*d)
		if granted == 0 || float64(granted) > most {
			t.Fatalf("while down: %d granted; want some, and at most 2 × (2 + 50/s × %.3fs) = %.1f", granted, d, most)
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
