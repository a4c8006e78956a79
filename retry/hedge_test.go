//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/retry"
)

// replicas is a service with replicas that answer after the given latency
// (or fail, if the latency is negative, after -latency). Attempt i goes to
// replica (i-1) % len. It counts the attempts running, and when each started
// and how it ended.
type replicas struct {
	latency []time.Duration
	start   time.Time

	calls   atomic.Int64
	running atomic.Int64
	mu      sync.Mutex
	log     []string
}

func (r *replicas) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, fmt.Sprintf("%v ", time.Since(r.start))+fmt.Sprintf(format, args...))
}

func (r *replicas) fetch(ctx context.Context) (string, error) {
	i := int(r.calls.Add(1))
	r.running.Add(1)
	defer r.running.Add(-1)
	lat := r.latency[(i-1)%len(r.latency)]
	r.note("start %d", i)
	fail := lat < 0
	if fail {
		lat = -lat
	}
	t := time.NewTimer(lat)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		r.note("cancelled %d", i)
		return "", ctx.Err()
	}
	if fail {
		r.note("failed %d", i)
		return "", fmt.Errorf("replica %d: %w", i, errFlaky)
	}
	r.note("answered %d", i)
	return fmt.Sprintf("replica %d", i), nil
}

func TestHedgeBeatsASlowReplica(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &replicas{latency: []time.Duration{time.Hour, 10 * time.Millisecond}, start: time.Now()}
		v, err := retry.DoValue(bg, r.fetch, retry.Hedge(50*time.Millisecond), retry.Attempts(2))
		if v != "replica 2" || err != nil {
			t.Fatalf("DoValue = %q, %v, want replica 2's answer", v, err)
		}
		if got := time.Since(r.start); got != 60*time.Millisecond {
			t.Errorf("DoValue took %v, want 60ms: hedge at 50ms, answered 10ms later", got)
		}
		if n := r.running.Load(); n != 0 {
			t.Errorf("%d attempts still running after DoValue returned, want 0", n)
		}
		want := "[0s start 1 50ms start 2 60ms answered 2 60ms cancelled 1]"
		if fmt.Sprint(r.log) != want {
			t.Errorf("log = %v, want %v", r.log, want)
		}
	})
}

// A fast first answer sends no hedge.
func TestHedgeIsNotSentWhenTheFirstAttemptIsFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &replicas{latency: []time.Duration{10 * time.Millisecond}, start: time.Now()}
		v, err := retry.DoValue(bg, r.fetch, retry.Hedge(50*time.Millisecond))
		if v != "replica 1" || err != nil || r.calls.Load() != 1 {
			t.Fatalf("DoValue = %q, %v after %d calls, want replica 1 after 1", v, err, r.calls.Load())
		}
	})
}

// Attempts bounds hedges: a hedge every delay, up to Attempts in all.
func TestHedgeStartsOneAttemptPerDelayUpToAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &replicas{latency: []time.Duration{time.Second}, start: time.Now()}
		v, err := retry.DoValue(bg, r.fetch, retry.Hedge(100*time.Millisecond), retry.Attempts(3))
		if v != "replica 1" || err != nil || r.calls.Load() != 3 {
			t.Fatalf("DoValue = %q, %v after %d calls, want replica 1 after 3", v, err, r.calls.Load())
		}
		// The two cancellations happen in either order.
		slices.Sort(r.log[4:])
		want := "[0s start 1 100ms start 2 200ms start 3 1s answered 1 1s cancelled 2 1s cancelled 3]"
		if fmt.Sprint(r.log) != want {
			t.Errorf("log = %v, want %v", r.log, want)
		}
	})
}

// Hedge(0) starts every attempt at once, like nursery.Race.
func TestHedgeZeroStartsEveryAttemptAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &replicas{latency: []time.Duration{time.Second, 300 * time.Millisecond, 200 * time.Millisecond}, start: time.Now()}
		v, err := retry.DoValue(bg, r.fetch, retry.Hedge(0), retry.Attempts(3))
		if v != "replica 3" || err != nil || time.Since(r.start) != 200*time.Millisecond {
			t.Fatalf("DoValue = %q, %v after %v, want replica 3 after 200ms", v, err, time.Since(r.start))
		}
	})
}

// A failure while others run starts the next attempt at once; when none
// runs, Do backs off first.
func TestHedgeFailureStartsTheNextAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &replicas{latency: []time.Duration{-300 * time.Millisecond, -10 * time.Millisecond, 20 * time.Millisecond}, start: time.Now()}
		var retries []string
		v, err := retry.DoValue(bg, r.fetch, retry.Hedge(100*time.Millisecond), retry.Attempts(3),
			retry.WithBackoff(retry.Constant(time.Second)),
			retry.OnRetry(func(a int, err error, d time.Duration) { retries = append(retries, fmt.Sprint(a, " ", d)) }))
		if v != "replica 3" || err != nil {
			t.Fatalf("DoValue = %q, %v, want replica 3", v, err)
		}
		want := "[0s start 1 100ms start 2 110ms failed 2 110ms start 3 130ms answered 3 130ms cancelled 1]"
		if fmt.Sprint(r.log) != want {
			t.Errorf("log = %v, want %v", r.log, want)
		}
		if fmt.Sprint(retries) != "[2 0s]" {
			t.Errorf("OnRetry calls %v, want [2 0s]: a retry at once after attempt 2", retries)
		}

		// Every attempt fails: with none running, the backoff applies.
		r = &replicas{latency: []time.Duration{-10 * time.Millisecond}, start: time.Now()}
		_, err = retry.DoValue(bg, r.fetch, retry.Hedge(100*time.Millisecond), retry.Attempts(3),
			retry.WithBackoff(retry.Constant(time.Second)))
		want = "[0s start 1 10ms failed 1 1.01s start 2 1.02s failed 2 2.02s start 3 2.03s failed 3]"
		if fmt.Sprint(r.log) != want {
			t.Errorf("log = %v, want %v", r.log, want)
		}
		if !errors.Is(err, retry.ErrAttempts) || !errors.Is(err, errFlaky) {
			t.Errorf("err = %v, want ErrAttempts and the last failure", err)
		}
		var re *retry.Error
		if !errors.As(err, &re) || re.Attempts != 3 || len(re.Errors()) != 3 {
			t.Errorf("err = %#v, want an *Error of 3 attempts listing 3 errors", err)
		}
	})
}

// A permanent error stops every attempt.
func TestHedgePermanentErrorCancelsTheOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var running atomic.Int64
		calls := atomic.Int64{}
		err := retry.Do(bg, func(ctx context.Context) error {
			running.Add(1)
			defer running.Add(-1)
			if calls.Add(1) == 2 {
				return retry.Permanent(errLast)
			}
			<-ctx.Done()
			return ctx.Err()
		}, retry.Hedge(10*time.Millisecond), retry.Attempts(5))
		if err != errLast || calls.Load() != 2 || running.Load() != 0 {
			t.Fatalf("Do = %v after %d calls with %d running, want errLast after 2 with none", err, calls.Load(), running.Load())
		}
	})
}

// A panic in an attempt cancels the others, waits for them, and reaches the
// caller as a *nursery.PanicError.
func TestHedgePanicIsPropagatedAfterTheOthersReturn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var running atomic.Int64
		var calls atomic.Int64
		r := recoverPanic(func() {
			_ = retry.Do(bg, func(ctx context.Context) error {
				running.Add(1)
				defer running.Add(-1)
				if calls.Add(1) == 2 {
					panic("attempt 2 broke")
				}
				<-ctx.Done()
				return ctx.Err()
			}, retry.Hedge(10*time.Millisecond), retry.Attempts(3))
		})
		p, ok := r.(*nursery.PanicError)
		if !ok || p.Value != "attempt 2 broke" || len(p.Stack) == 0 {
			t.Fatalf("Do panicked with %v, want a *nursery.PanicError of attempt 2's value and stack", r)
		}
		if running.Load() != 0 {
			t.Fatalf("%d attempts running after the panic reached the caller, want 0", running.Load())
		}
	})
}

// Without Hedge, a panic goes up unchanged.
func TestPanicWithoutHedgeIsUnchanged(t *testing.T) {
	r := recoverPanic(func() {
		_ = retry.Do(bg, func(context.Context) error { panic("boom") }, retry.Attempts(3))
	})
	if r != "boom" {
		t.Fatalf("Do panicked with %v, want \"boom\" unchanged", r)
	}
}

func TestHedgeStopsWhenTheParentEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithCancel(bg)
		defer stop()
		time.AfterFunc(150*time.Millisecond, stop)
		r := &replicas{latency: []time.Duration{time.Hour}, start: time.Now()}
		_, err := retry.DoValue(ctx, r.fetch, retry.Hedge(100*time.Millisecond), retry.Attempts(5))
		if err != context.Canceled || r.calls.Load() != 2 || r.running.Load() != 0 {
			t.Fatalf("DoValue = %v after %d calls with %d running, want Canceled after 2 with none", err, r.calls.Load(), r.running.Load())
		}
		if time.Since(r.start) != 150*time.Millisecond {
			t.Fatalf("DoValue returned after %v, want 150ms", time.Since(r.start))
		}
	})
}

// Hedges are drawn from the budget: a closed budget sends none.
func TestHedgesCountAgainstTheBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBudget(4, 0.1)
		for range 2 {
			_ = retry.Do(bg, func(context.Context) error { return errFlaky }, retry.WithBudget(b), retry.Attempts(1))
		}
		if b.Allow() {
			t.Fatalf("budget with %v tokens allows, want not", b.Tokens())
		}
		r := &replicas{latency: []time.Duration{time.Second, time.Millisecond}, start: time.Now()}
		v, err := retry.DoValue(bg, r.fetch, retry.Hedge(10*time.Millisecond), retry.Attempts(3), retry.WithBudget(b))
		if v != "replica 1" || err != nil || r.calls.Load() != 1 {
			t.Fatalf("DoValue = %q, %v after %d calls, want replica 1 after 1: no hedge on a closed budget", v, err, r.calls.Load())
		}
		// Failed hedges cost tokens.
		b = retry.NewBudget(10, 0.1)
		r = &replicas{latency: []time.Duration{time.Second, -time.Millisecond, -time.Millisecond}, start: time.Now()}
		_, _ = retry.DoValue(bg, r.fetch, retry.Hedge(10*time.Millisecond), retry.Attempts(3), retry.WithBudget(b))
		if b.Tokens() != 8.1 {
			t.Fatalf("tokens = %v, want 8.1: two failed hedges, one success", b.Tokens())
		}
	})
}

// MaxElapsed ends hedging too.
func TestHedgeRespectsMaxElapsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &replicas{latency: []time.Duration{time.Second}, start: time.Now()}
		v, err := retry.DoValue(bg, r.fetch, retry.Hedge(100*time.Millisecond), retry.Attempts(10), retry.MaxElapsed(250*time.Millisecond))
		if v != "replica 1" || err != nil || r.calls.Load() != 3 {
			t.Fatalf("DoValue = %q, %v after %d calls, want replica 1 after 3 (at 0, 100ms, 200ms)", v, err, r.calls.Load())
		}
	})
}

// A hint from a failed attempt delays the next one.
func TestHedgeHonoursHints(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		var at []time.Duration
		var calls atomic.Int64
		_, err := retry.DoValue(bg, func(ctx context.Context) (int, error) {
			i := calls.Add(1)
			mu.Lock()
			at = append(at, time.Since(start))
			mu.Unlock()
			switch i {
			case 1:
				<-ctx.Done()
				return 0, ctx.Err()
			case 2:
				return 0, retry.After(300*time.Millisecond, errFlaky)
			}
			return int(i), nil
		}, retry.Hedge(100*time.Millisecond), retry.Attempts(3))
		if err != nil || fmt.Sprint(at) != "[0s 100ms 400ms]" {
			t.Fatalf("DoValue = %v, attempts at %v, want success, at [0s 100ms 400ms]", err, at)
		}
	})
}

func TestHedgeAdaptiveFollowsThePercentile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A window of 16 recomputes the percentile at every observation.
		l := retry.NewLatency(0.9, 16, 40*time.Millisecond)
		if got := l.Percentile(); got != 40*time.Millisecond {
			t.Fatalf("a new Latency's Percentile = %v, want the initial 40ms", got)
		}
		// The first call hedges after the initial delay.
		r := &replicas{latency: []time.Duration{time.Second, time.Millisecond}, start: time.Now()}
		if _, err := retry.DoValue(bg, r.fetch, retry.HedgeAdaptive(l), retry.Attempts(2)); err != nil || time.Since(r.start) != 41*time.Millisecond {
			t.Fatalf("DoValue = %v after %v, want success after 41ms", err, time.Since(r.start))
		}
		// Calls of 10ms..100ms teach it a 90th percentile of 90ms.
		for i := 1; i <= 10; i++ {
			r := &replicas{latency: []time.Duration{time.Duration(i) * 10 * time.Millisecond}, start: time.Now()}
			if _, err := retry.DoValue(bg, r.fetch, retry.HedgeAdaptive(l), retry.Attempts(2)); err != nil {
				t.Fatal(err)
			}
		}
		// 11 observations: 41ms and 10..100ms; the 90th percentile by
		// nearest rank is the 10th smallest, 90ms.
		if got := l.Percentile(); got != 90*time.Millisecond {
			t.Fatalf("Percentile = %v, want 90ms", got)
		}
		r = &replicas{latency: []time.Duration{time.Second, time.Millisecond}, start: time.Now()}
		if _, err := retry.DoValue(bg, r.fetch, retry.HedgeAdaptive(l), retry.Attempts(2)); err != nil || time.Since(r.start) != 91*time.Millisecond {
			t.Fatalf("DoValue = %v after %v, want success after 91ms (hedge at 90ms)", err, time.Since(r.start))
		}
	})
}

func TestLatencyPercentileByNearestRank(t *testing.T) {
	l := retry.NewLatency(0.95, 100, time.Second)
	for i := 1; i <= 19; i++ {
		l.Observe(time.Duration(i) * time.Millisecond)
	}
	if got := l.Percentile(); got != time.Second {
		t.Fatalf("after 19 observations Percentile = %v, want the initial 1s: p95 needs 20", got)
	}
	l.Observe(20 * time.Millisecond)
	if got := l.Percentile(); got != 19*time.Millisecond {
		t.Fatalf("after 1..20ms Percentile = %v, want 19ms", got)
	}
	// The window rolls: 100 observations of 500ms replace the old ones;
	// the percentile is recomputed every window/16 observations.
	for range 100 {
		l.Observe(500 * time.Millisecond)
	}
	if got := l.Percentile(); got != 500*time.Millisecond {
		t.Fatalf("after the window rolled Percentile = %v, want 500ms", got)
	}
	// A window of 1 follows the latest observation.
	one := retry.NewLatency(0.5, 1, 0)
	one.Observe(time.Second)
	one.Observe(2 * time.Second)
	if got := one.Percentile(); got != 2*time.Second {
		t.Fatalf("window 1: Percentile = %v, want 2s", got)
	}
}

func TestLatencyIsSafeForConcurrentUse(t *testing.T) {
	l := retry.NewLatency(0.5, 64, 0)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for range 1000 {
				l.Observe(time.Duration(g+1) * time.Millisecond)
				_ = l.Percentile()
			}
		})
	}
	wg.Wait()
	if got := l.Percentile(); got < time.Millisecond || got > 4*time.Millisecond {
		t.Fatalf("Percentile = %v, want one of the observed 1..4ms", got)
	}
}
