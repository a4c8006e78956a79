//go:build go1.25

package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
)

// An Adaptive is a limit the nursery can share, as a Semaphore is.
var _ nursery.Semaphore = (*ratelimit.Adaptive)(nil)

// A downstream is a service with workers of its own and a queue in front of
// them, first come first served: a call waits for a worker, then takes a
// service time of 5ms + Exp(5ms), times the slowdown. Workers and
// slowdown can change while it serves.
type downstream struct {
	workers  *ratelimit.Semaphore
	mu       sync.Mutex
	rng      *rand.Rand
	slowdown float64
}

func newDownstream(workers int64, seed uint64) *downstream {
	return &downstream{workers: ratelimit.NewSemaphore(workers), rng: rand.New(rand.NewPCG(seed, 1)), slowdown: 1}
}

func (d *downstream) set(workers int64, slowdown float64) {
	d.workers.Resize(workers)
	d.mu.Lock()
	d.slowdown = slowdown
	d.mu.Unlock()
}

// call serves one call. The worker finishes the call even if the caller
// gave up meanwhile, as a server that does not see its client leave.
func (d *downstream) call(ctx context.Context) error {
	if err := d.workers.Acquire(ctx, 1); err != nil {
		return err
	}
	d.mu.Lock()
	s := time.Duration(d.slowdown * float64(5*time.Millisecond+time.Duration(d.rng.ExpFloat64()*float64(5*time.Millisecond))))
	d.mu.Unlock()
	done := make(chan struct{})
	//structvet:ignore SV002 the worker finishes the call after its caller gave up, as the server this simulates does
	go func() {
		time.Sleep(s)
		d.workers.Release(1)
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// A load offers calls to a through Do at random (Poisson) times, rate a
// second, each with a timeout of a second, and counts what became of them.
type load struct {
	completed, refused, timedOut, other atomic.Int64
}

func (l *load) offer(a *ratelimit.Adaptive, d *downstream, rate float64, until time.Time, rng *rand.Rand, wg *sync.WaitGroup) {
	for {
		time.Sleep(time.Duration(rng.ExpFloat64() / rate * float64(time.Second)))
		if !time.Now().Before(until) {
			return
		}
		wg.Go(func() {
			ctx, stop := context.WithTimeout(context.Background(), time.Second)
			defer stop()
			err := a.Do(ctx, d.call)
			switch {
			case err == nil:
				l.completed.Add(1)
			case errors.Is(err, ratelimit.ErrExceedsLimit):
				l.refused.Add(1)
			case errors.Is(err, context.DeadlineExceeded):
				l.timedOut.Add(1)
			default:
				l.other.Add(1)
			}
		})
	}
}

// The limit follows the downstream: to its workers plus a little when it
// has 8, down when it loses half of them, and not down when each call
// takes twice as long with the same 8 workers (a latency-keyed limit would
// halve it); the calls it admits complete, none times out, and the
// downstream serves nearly all it can.
func TestAdaptiveFollowsTheCapacityOfTheDownstream(t *testing.T) {
	type phase struct {
		workers  int64
		slowdown float64
	}
	phases := []phase{{8, 1}, {4, 1}, {8, 2}, {8, 1}}
	const each = 12 * time.Second
	for seed := range uint64(3) {
		synctest.Test(t, func(t *testing.T) {
			a := ratelimit.NewAdaptive()
			d := newDownstream(8, seed)
			rng := rand.New(rand.NewPCG(seed, 2))
			start := time.Now()
			var l load
			var wg sync.WaitGroup
			// 1200 calls a second: 1.5 times what 8 workers serve at 10ms
			// a call, 3 times what 4 serve.
			wg.Go(func() { l.offer(a, d, 1200, start.Add(each*time.Duration(len(phases))), rng, &wg) })
			for i, p := range phases {
				d.set(p.workers, p.slowdown)
				var sum float64
				var lo, hi int
				samples := 0
				for time.Since(start) < each*time.Duration(i+1) {
					time.Sleep(250 * time.Millisecond)
					if time.Since(start) < each*time.Duration(i)+5*time.Second {
						continue // 5 s to follow the change
					}
					lim := a.Limit()
					if samples == 0 || lim < lo {
						lo = lim
					}
					hi = max(hi, lim)
					sum += float64(lim)
					samples++
				}
				mean := sum / float64(samples)
				w := float64(p.workers)
				if mean < w || mean > 1.5*w+2 {
					t.Errorf("seed %d, phase %d (%d workers, calls %gx slower): mean limit %.1f, want between %g and %g",
						seed, i+1, p.workers, p.slowdown, mean, w, 1.5*w+2)
				}
				if float64(lo) < 0.75*w || float64(hi) > 2*w+4 {
					t.Errorf("seed %d, phase %d (%d workers, calls %gx slower): limit between %d and %d, want it inside [%g, %g]",
						seed, i+1, p.workers, p.slowdown, lo, hi, 0.75*w, 2*w+4)
				}
			}
			wg.Wait()
			// What the downstream can serve: 800 a second for 24 s, 400
			// a second for 24 s.
			capacity := 800*24 + 400*24
			if got := l.completed.Load(); got < int64(0.9*float64(capacity)) {
				t.Errorf("seed %d: %d calls completed, want at least 90%% of the %d the downstream can serve", seed, got, capacity)
			}
			if n := l.timedOut.Load() + l.other.Load(); n != 0 {
				t.Errorf("seed %d: %d calls timed out or failed, want 0", seed, n)
			}
			if s := a.Stats(); s.Inflight != 0 || s.Waiting != 0 {
				t.Errorf("seed %d: after the load, %d units in flight and %d waiting, want none", seed, s.Inflight, s.Waiting)
			}
		})
	}
}

// hold runs fn in a goroutine of its own holding one unit of a (through
// Do), and returns a function that lets fn return and waits until Do has.
func hold(t *testing.T, a *ratelimit.Adaptive) (release func()) {
	t.Helper()
	ch := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- a.Do(context.Background(), func(context.Context) error {
			<-ch
			return nil
		})
	}()
	synctest.Wait()
	return func() {
		close(ch)
		if err := <-done; err != nil {
			t.Errorf("Do holding a unit = %v, want nil", err)
		}
	}
}

func TestAdaptiveDoRefusesAtOnceAtTheLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := ratelimit.NewAdaptive(ratelimit.WithInitialLimit(2))
		r1, r2 := hold(t, a), hold(t, a)
		called := false
		start := time.Now()
		err := a.Do(context.Background(), func(context.Context) error {
			called = true
			return nil
		})
		if !errors.Is(err, ratelimit.ErrExceedsLimit) || called {
			t.Errorf("Do at the limit = %v (fn called: %v), want ErrExceedsLimit without calling fn", err, called)
		}
		if want := "ratelimit: Adaptive.Do: limit of 2 reached"; err == nil || err.Error() != want {
			t.Errorf("Do at the limit: error %q, want %q", err, want)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("Do at the limit returned after %v, want at once", d)
		}
		if s := a.Stats(); s.Refused != 1 || s.Admitted != 2 || s.Inflight != 2 {
			t.Errorf("Stats() = %+v, want 1 rejected, 2 admitted, 2 in flight", s)
		}
		r1()
		r2()
		if err := a.Do(context.Background(), func(context.Context) error { return nil }); err != nil {
			t.Errorf("Do once the units are back = %v, want nil", err)
		}
	})
}

// Stats counts calls, not units: an Acquire of 3 units is one call
// admitted, as Inflight counts its 3 units.
func TestAdaptiveStatsAdmittedCountsCalls(t *testing.T) {
	a := ratelimit.NewAdaptive(ratelimit.WithInitialLimit(10))
	if err := a.Acquire(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	if !a.TryAcquire(2) {
		t.Fatal("TryAcquire(2) with 7 units free = false")
	}
	if err := a.Do(context.Background(), func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if s := a.Stats(); s.Admitted != 3 || s.Inflight != 5 {
		t.Errorf("Stats() = %+v, want 3 calls admitted, 5 units in flight", s)
	}
	a.Release(3)
	a.Release(2)
}

func TestAdaptiveDoWaitsUpToMaxWaitThenRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := ratelimit.NewAdaptive(ratelimit.WithInitialLimit(1), ratelimit.WithMaxWait(50*time.Millisecond))
		r := hold(t, a)
		start := time.Now()
		err := a.Do(context.Background(), func(context.Context) error { return nil })
		if !errors.Is(err, ratelimit.ErrExceedsLimit) {
			t.Errorf("Do past MaxWait = %v, want ErrExceedsLimit", err)
		}
		if d := time.Since(start); d != 50*time.Millisecond {
			t.Errorf("Do refused after %v, want 50ms (MaxWait)", d)
		}
		// A unit freed within the wait admits the caller.
		go func() {
			time.Sleep(20 * time.Millisecond)
			r()
		}()
		start = time.Now()
		ran := false
		err = a.Do(context.Background(), func(context.Context) error {
			ran = true
			return nil
		})
		if err != nil || !ran {
			t.Errorf("Do with a unit freed after 20ms = %v (ran: %v), want nil, run", err, ran)
		}
		if d := time.Since(start); d != 20*time.Millisecond {
			t.Errorf("Do admitted after %v, want 20ms", d)
		}
	})
}

func TestAdaptiveWaitsInOrderAndNobodyBarges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := ratelimit.NewAdaptive(ratelimit.WithInitialLimit(1))
		if err := a.Acquire(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		var order []int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Go(func() {
				if err := a.Acquire(context.Background(), 1); err != nil {
					t.Errorf("Acquire %d = %v", i, err)
					return
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				time.Sleep(time.Millisecond)
				a.Release(1)
			})
			synctest.Wait() // queued in this order
		}
		if a.Waiting() != 3 {
			t.Errorf("Waiting() = %d, want 3", a.Waiting())
		}
		a.Release(1)
		if a.TryAcquire(1) {
			t.Error("TryAcquire with a unit free but callers queued = true, want false: nobody barges")
			a.Release(1)
		}
		wg.Wait()
		if fmt.Sprint(order) != "[0 1 2]" {
			t.Errorf("served in the order %v, want [0 1 2]", order)
		}
	})
}

func TestAdaptiveAcquireEndsWithItsContextHoldingNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := ratelimit.NewAdaptive(ratelimit.WithInitialLimit(1))
		done, stop := context.WithCancel(context.Background())
		stop()
		if err := a.Acquire(done, 1); err != context.Canceled {
			t.Errorf("Acquire(done ctx) with a free unit = %v, want context.Canceled", err)
		}
		if err := a.Do(done, func(context.Context) error { return nil }); err != context.Canceled {
			t.Errorf("Do(done ctx) = %v, want context.Canceled", err)
		}
		r := hold(t, a)
		ctx, stop := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer stop()
		if err := a.Acquire(ctx, 1); err != context.DeadlineExceeded {
			t.Errorf("Acquire at the limit until the deadline = %v, want context.DeadlineExceeded", err)
		}
		if a.Waiting() != 0 || a.Inflight() != 1 {
			t.Errorf("after the deadline: %d waiting, %d in flight; want 0 and 1", a.Waiting(), a.Inflight())
		}
		r()
		if a.Inflight() != 0 {
			t.Errorf("Inflight() = %d once all is back, want 0", a.Inflight())
		}
	})
}

func TestAdaptiveWeightAboveTheLimitFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := ratelimit.NewAdaptive(ratelimit.WithInitialLimit(2))
		err := a.Acquire(context.Background(), 3)
		if !errors.Is(err, ratelimit.ErrExceedsLimit) {
			t.Fatalf("Acquire(3) with a limit of 2 = %v, want ErrExceedsLimit", err)
		}
		if want := "ratelimit: Adaptive.Acquire(n=3): more than the limit of 2"; err.Error() != want {
			t.Errorf("Acquire(3): error %q, want %q", err, want)
		}
		if a.TryAcquire(3) {
			t.Error("TryAcquire(3) with a limit of 2 = true")
		}
	})
}

// Do gives its unit back however fn ends, and a panic goes on up
// unchanged.
func TestAdaptiveDoGivesTheUnitBackOnPanic(t *testing.T) {
	a := ratelimit.NewAdaptive(ratelimit.WithInitialLimit(1))
	boom := errors.New("boom")
	r := recoverPanic(func() {
		_ = a.Do(context.Background(), func(context.Context) error { panic(boom) })
	})
	if r != boom {
		t.Errorf("Do's panic = %v, want the function's own", r)
	}
	if a.Inflight() != 0 {
		t.Errorf("Inflight() after a panic = %d, want 0", a.Inflight())
	}
	if err := a.Do(context.Background(), func(context.Context) error { return nil }); err != nil {
		t.Errorf("Do after a panic = %v, want nil", err)
	}
}

// Calls that end by their deadline are drops: each window with drops cuts
// the limit by a tenth.
func TestAdaptiveDropsCutTheLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := ratelimit.NewAdaptive(ratelimit.WithInitialLimit(100))
		var wg sync.WaitGroup
		for range 400 {
			wg.Go(func() {
				ctx, stop := context.WithTimeout(context.Background(), 10*time.Millisecond)
				defer stop()
				_ = a.Do(ctx, func(ctx context.Context) error {
					<-ctx.Done()
					return fmt.Errorf("call: %w", ctx.Err())
				})
			})
			time.Sleep(time.Millisecond)
		}
		wg.Wait()
		s := a.Stats()
		if s.Dropped != 400 {
			t.Errorf("Stats().Dropped = %d, want 400", s.Dropped)
		}
		if s.Windows == 0 || s.Limit >= 100 {
			t.Errorf("after 400 drops: limit %d after %d windows, want below 100", s.Limit, s.Windows)
		}
	})
}

// Other errors and the caller's own cancellation say nothing of the
// downstream: they leave the measurements as they were.
func TestAdaptiveIgnoresErrorsAndCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := ratelimit.NewAdaptive(ratelimit.WithInitialLimit(10))
		notFound := errors.New("404")
		for i := range 1000 {
			ctx, stop := context.WithCancel(context.Background())
			err := a.Do(ctx, func(ctx context.Context) error {
				time.Sleep(time.Millisecond)
				if i%2 == 0 {
					stop()
					return ctx.Err()
				}
				return notFound
			})
			stop()
			if err != notFound && err != context.Canceled {
				t.Fatalf("Do = %v, want fn's error unchanged", err)
			}
		}
		if s := a.Stats(); s.Windows != 0 || s.Limit != 10 || s.Dropped != 0 {
			t.Errorf("after 1000 failed or cancelled calls: %d windows, limit %d, %d dropped; want 0, 10, 0", s.Windows, s.Limit, s.Dropped)
		}
	})
}

func TestAdaptiveStartsAtItsInitialLimitWithinItsBounds(t *testing.T) {
	tests := []struct {
		opts []ratelimit.AdaptiveOption
		want int
	}{
		{nil, 20},
		{[]ratelimit.AdaptiveOption{ratelimit.WithInitialLimit(5)}, 5},
		{[]ratelimit.AdaptiveOption{ratelimit.WithInitialLimit(5), ratelimit.WithMinLimit(8)}, 8},
		{[]ratelimit.AdaptiveOption{ratelimit.WithMaxLimit(4)}, 4},
	}
	for _, tt := range tests {
		if got := ratelimit.NewAdaptive(tt.opts...).Limit(); got != tt.want {
			t.Errorf("NewAdaptive(%d options).Limit() = %d, want %d", len(tt.opts), got, tt.want)
		}
	}
}

// The limit stays inside its bounds whatever the downstream does.
func TestAdaptiveStaysWithinMinAndMaxLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := ratelimit.NewAdaptive(ratelimit.WithMinLimit(6), ratelimit.WithMaxLimit(10))
		d := newDownstream(2, 1) // far below the minimum
		var l load
		var wg sync.WaitGroup
		rng := rand.New(rand.NewPCG(1, 2))
		end := time.Now().Add(10 * time.Second)
		wg.Go(func() { l.offer(a, d, 600, end.Add(-5*time.Second), rng, &wg) })
		lo, hi := a.Limit(), a.Limit()
		for time.Now().Before(end) {
			time.Sleep(100 * time.Millisecond)
			lo, hi = min(lo, a.Limit()), max(hi, a.Limit())
			if time.Now().After(end.Add(-7 * time.Second)) {
				d.set(64, 1) // far above the maximum
			}
		}
		wg.Wait()
		if lo < 6 || hi > 10 {
			t.Errorf("limit between %d and %d, want inside [6, 10]", lo, hi)
		}
		if a.Stats().Windows < 4 {
			t.Errorf("%d windows measured, want a few: the test did not exercise the limit", a.Stats().Windows)
		}
	})
}

func TestAdaptiveBadInputPanicsNamingTheArgument(t *testing.T) {
	a := ratelimit.NewAdaptive()
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"WithInitialLimit(0)", func() { ratelimit.WithInitialLimit(0) }, "WithInitialLimit(0)"},
		{"WithMinLimit(0)", func() { ratelimit.WithMinLimit(0) }, "WithMinLimit(0)"},
		{"WithMaxLimit(-1)", func() { ratelimit.WithMaxLimit(-1) }, "WithMaxLimit(-1)"},
		{"WithMaxWait(-1)", func() { ratelimit.WithMaxWait(-1) }, "WithMaxWait(-1ns)"},
		{"min above max", func() { ratelimit.NewAdaptive(ratelimit.WithMinLimit(5), ratelimit.WithMaxLimit(4)) }, "minimum limit 5 is above the maximum 4"},
		{"nil option", func() { ratelimit.NewAdaptive(nil) }, "nil AdaptiveOption"},
		{"Acquire(nil ctx)", func() { _ = a.Acquire(nil, 1) }, "nil context"}, //nolint:staticcheck // the point of the test
		{"Acquire(-1)", func() { _ = a.Acquire(context.Background(), -1) }, "Acquire(n=-1)"},
		{"TryAcquire(-1)", func() { a.TryAcquire(-1) }, "TryAcquire(n=-1)"},
		{"Release(-1)", func() { a.Release(-1) }, "Release(n=-1)"},
		{"Release(1) unheld", func() { a.Release(1) }, "released more than held"},
		{"Do(nil fn)", func() { _ = a.Do(context.Background(), nil) }, "nil function"},
		{"Do(nil ctx)", func() { _ = a.Do(nil, func(context.Context) error { return nil }) }, "nil context"}, //nolint:staticcheck // the point of the test
	}
	for _, tt := range tests {
		r := recoverPanic(tt.f)
		msg, _ := r.(string)
		if !strings.HasPrefix(msg, "ratelimit: ") || !strings.Contains(msg, tt.want) {
			t.Errorf("%s panicked with %v, want a message with %q", tt.name, r, tt.want)
		}
	}
}

// One adaptive limit for a tree of nurseries: at most Limit() tasks run at
// once across all of them, and a parent that gives its unit back while it
// waits lets its children run.
func TestAdaptiveBoundsNestedNurseriesAsOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := ratelimit.NewAdaptive(ratelimit.WithInitialLimit(3), ratelimit.WithMaxLimit(3))
		var running, peak atomic.Int64
		var walk func(ctx context.Context, depth int) error
		walk = func(ctx context.Context, depth int) error {
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(time.Millisecond)
			running.Add(-1)
			if depth == 3 {
				return nil
			}
			a.Release(1) // no unit held while waiting for the children
			defer func() { _ = a.Acquire(context.WithoutCancel(ctx), 1) }()
			return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
				for range 3 {
					n.Go(func(ctx context.Context) error { return walk(ctx, depth+1) })
				}
				return nil
			}, nursery.WithSemaphore(a))
		}
		err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			for range 3 {
				n.Go(func(ctx context.Context) error { return walk(ctx, 1) })
			}
			return nil
		}, nursery.WithSemaphore(a))
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
		if p := peak.Load(); p != 3 {
			t.Errorf("at most %d tasks ran at once, want 3 (the limit)", p)
		}
		if a.Inflight() != 0 {
			t.Errorf("Inflight() after Run = %d, want 0", a.Inflight())
		}
	})
}

// A window closes after 200 completions (here, units given back with
// Release, which count as completions) if they come within a second; the
// limit cannot move before.
func TestAdaptiveDecidesOnceAWindowOf200Completions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := ratelimit.NewAdaptive()
		for i := range 200 {
			if err := a.Acquire(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Millisecond)
			a.Release(1)
			if s := a.Stats(); i < 199 && s.Windows != 0 {
				t.Fatalf("after %d completions: %d windows, want 0", i+1, s.Windows)
			}
		}
		s := a.Stats()
		if s.Windows != 1 {
			t.Errorf("after 200 completions: %d windows, want 1", s.Windows)
		}
		if s.Latency != 2*time.Millisecond {
			t.Errorf("Stats().Latency = %v, want 2ms (each unit held 2ms)", s.Latency)
		}
	})
}

// Fewer than 200 completions a second: a window closes after a second,
// once it has 8.
func TestAdaptiveAtATrickleDecidesAfterASecondAndEightCompletions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := ratelimit.NewAdaptive()
		for i := range 8 {
			time.Sleep(200 * time.Millisecond)
			_ = a.Do(context.Background(), func(context.Context) error {
				time.Sleep(time.Millisecond)
				return nil
			})
			if s := a.Stats(); i < 7 && s.Windows != 0 {
				t.Fatalf("after %d completions in %v: %d windows, want 0", i+1, time.Duration(i+1)*201*time.Millisecond, s.Windows)
			}
		}
		if s := a.Stats(); s.Windows != 1 {
			t.Errorf("after 8 completions in 1.6s: %d windows, want 1", s.Windows)
		}
	})
}

func TestAdaptiveStartsNoGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := runtime.NumGoroutine()
		a := ratelimit.NewAdaptive(ratelimit.WithInitialLimit(1), ratelimit.WithMaxWait(time.Second))
		err := a.Do(context.Background(), func(context.Context) error {
			if got := runtime.NumGoroutine(); got != n {
				t.Errorf("%d goroutines inside Do, want %d", got, n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r := hold(t, a) // one goroutine of the test's own
		go func() { _ = a.Do(context.Background(), func(context.Context) error { return nil }) }()
		synctest.Wait()
		if got := runtime.NumGoroutine(); got != n+2 {
			t.Errorf("%d goroutines with a holder and a waiter, want %d (theirs only)", got, n+2)
		}
		r()
	})
}

// Callers in line (here, Do waiting up to 10ms) take a freed unit at once:
// one call of headroom above the capacity is then enough.
func TestAdaptiveWithCallersInLineKeepsOneCallOfHeadroom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := ratelimit.NewAdaptive(ratelimit.WithMaxWait(10 * time.Millisecond))
		d := newDownstream(8, 3)
		var l load
		var wg sync.WaitGroup
		rng := rand.New(rand.NewPCG(3, 4))
		start := time.Now()
		wg.Go(func() { l.offer(a, d, 1200, start.Add(20*time.Second), rng, &wg) })
		time.Sleep(10 * time.Second)
		var sum float64
		for range 40 {
			time.Sleep(250 * time.Millisecond)
			sum += float64(a.Limit())
		}
		wg.Wait()
		if mean := sum / 40; mean < 8.5 || mean > 10.5 {
			t.Errorf("mean limit %.1f with callers in line on 8 workers, want 9 or so (8 + 1)", mean)
		}
		if c := a.Stats().Capacity; c < 7 || c > 9 {
			t.Errorf("Stats().Capacity = %.1f, want about 8 (the workers)", c)
		}
	})
}

// Admitting, giving back and refusing allocate nothing, windows closing
// included: a limit in front of every call must cost no garbage.
func TestAdaptiveAllocatesNothingToAdmitOrRefuse(t *testing.T) {
	// In virtual time, so that windows close by their count of calls,
	// whatever else the machine is doing.
	synctest.Test(t, func(t *testing.T) {
		a := ratelimit.NewAdaptive(ratelimit.WithInitialLimit(1), ratelimit.WithMaxLimit(1))
		ctx := context.Background()
		fn := func(context.Context) error { time.Sleep(time.Millisecond); return nil }
		if n := testing.AllocsPerRun(1000, func() {
			_ = a.Acquire(ctx, 1)
			time.Sleep(time.Millisecond) // a call takes a millisecond of virtual time
			a.Release(1)
			_ = a.Do(ctx, fn)
		}); n != 0 {
			t.Errorf("Acquire+Release and Do allocated %v times, want 0", n)
		}
		_ = a.Acquire(ctx, 1)
		defer a.Release(1)
		if n := testing.AllocsPerRun(1000, func() {
			if !errors.Is(a.Do(ctx, fn), ratelimit.ErrExceedsLimit) {
				t.Fatal("Do at the limit did not refuse")
			}
		}); n != 0 {
			t.Errorf("a refusing Do allocated %v times, want 0", n)
		}
		if s := a.Stats(); s.Windows < 5 {
			t.Errorf("%d windows closed, want several: the test did not cover them", s.Windows)
		}
	})
}
