//go:build go1.25

package ratelimit_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
)

// An Adaptive used the way users combine it: tasks of nested nurseries
// share it (nursery.WithSemaphore, giving the unit back while they wait
// for their children), call through Do with random latencies and
// outcomes (success, failure, deadline, cancellation), take units with
// Acquire under deadlines and with TryAcquire, while the limit moves; some
// fail, one may panic. Checked every iteration: no call is admitted past
// the limit in force, every real error reaches Run exactly once, a panic
// arrives as a *nursery.PanicError, and nothing is held, queued or running
// once Run has returned.
func TestAdaptiveRandomizedNeverAdmitsPastTheLimit(t *testing.T) {
	panics, moved := 0, 0
	for seed := range uint64(60) {
		synctest.Test(t, func(t *testing.T) {
			p, m := adaptiveRound(t, seed)
			if p {
				panics++
			}
			if m {
				moved++
			}
		})
	}
	if panics == 0 {
		t.Error("no iteration panicked: the panic path went untested")
	}
	if moved < 10 {
		t.Errorf("the limit moved in %d iterations of 60: too few to test admission under a moving limit", moved)
	}
}

// adaptiveRound runs one iteration; it reports whether Run panicked and
// whether the limit moved.
func adaptiveRound(t *testing.T, seed uint64) (panicked, moved bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 11))
	opts := []ratelimit.AdaptiveOption{ratelimit.WithInitialLimit(1 + rng.IntN(8))}
	if rng.IntN(2) == 0 {
		opts = append(opts, ratelimit.WithMaxWait(time.Duration(rng.IntN(5))*time.Millisecond))
	}
	a := ratelimit.NewAdaptive(opts...)
	first := a.Limit()

	// over counts admissions past the limit. A caller reads the count of
	// windows before it asks for a unit; if none closed until it runs,
	// the limit has not moved since it was admitted, and the units in
	// flight (its own included) must be within it: others admitted since
	// were within it too, and releases only lower the count.
	var over atomic.Int64
	check := func(w0 uint64) {
		if s := a.Stats(); s.Windows == w0 && s.Inflight > s.Limit {
			over.Add(1)
		}
	}
	windows := func() uint64 { return a.Stats().Windows }

	const tasks = 24
	panicker := -1
	if rng.IntN(3) == 0 {
		panicker = rng.IntN(tasks)
	}
	type plan struct {
		action, calls, latency, deadline int
		fail                             bool
	}
	plans := make([]plan, tasks)
	for i := range plans {
		plans[i] = plan{rng.IntN(5), 20 + rng.IntN(80), 1 + rng.IntN(10), 1 + rng.IntN(20), rng.IntN(6) == 0}
	}
	if panicker >= 0 {
		plans[panicker].action = 4
	}
	collectAll := rng.IntN(2) == 0
	shared := rng.IntN(2) == 0

	var (
		mu      sync.Mutex
		real    = map[error]bool{} // the real errors tasks returned
		running atomic.Int64       // goroutines of the test's tasks
	)
	// call is one call through Do: it sleeps its latency and ends as its
	// number says.
	call := func(ctx context.Context, p plan, k int) error {
		w0 := windows()
		ctx, stop := context.WithTimeout(ctx, 8*time.Millisecond)
		defer stop()
		return a.Do(ctx, func(ctx context.Context) error {
			check(w0)
			d := time.Duration(p.latency) * time.Millisecond
			switch k % 7 {
			case 5: // slower than its deadline
				d = 20 * time.Millisecond
			case 6:
				return errors.New("not found") // an answer, but an error
			}
			select {
			case <-time.After(d):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}
	task := func(ctx context.Context, i int) (err error) {
		running.Add(1)
		defer running.Add(-1)
		p := plans[i]
		for k := range p.calls {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			switch p.action {
			case 0: // Do, ignoring refusals
				if err := call(ctx, p, k); err != nil && ctx.Err() != nil {
					return ctx.Err()
				}
			case 1: // Acquire under a deadline, hold, release
				w0 := windows()
				actx, stop := context.WithTimeout(ctx, time.Duration(p.deadline)*time.Millisecond)
				err := a.Acquire(actx, 1)
				stop()
				if err == nil {
					check(w0)
					time.Sleep(time.Duration(p.latency) * time.Millisecond)
					a.Release(1)
				}
			case 2: // TryAcquire, hold, release
				w0 := windows()
				if a.TryAcquire(1) {
					check(w0)
					time.Sleep(time.Duration(p.latency) * time.Millisecond)
					a.Release(1)
				} else {
					time.Sleep(time.Millisecond)
				}
			case 3: // a nested nursery on the same limit, the unit given back meanwhile
				if k > 2 {
					break
				}
				if shared {
					a.Release(1)
				}
				err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
					for j := range 3 {
						w0 := windows()
						n.Go(func(ctx context.Context) error {
							check(w0)
							return call(ctx, p, j)
						})
					}
					return nil
				}, nursery.WithSemaphore(a), nursery.WithCollectAll())
				if shared {
					// Cannot fail: no deadline, and 1 unit fits in any limit.
					_ = a.Acquire(context.WithoutCancel(ctx), 1)
				}
				if err != nil && ctx.Err() != nil {
					return ctx.Err()
				}
			case 4: // Do, as in 0, with a panic if this is the panicker
				for i == panicker && k == p.calls/2 && ctx.Err() == nil {
					// Until Do admits it.
					_ = a.Do(ctx, func(context.Context) error { panic("task panicked") })
					time.Sleep(time.Millisecond)
				}
				_ = call(ctx, p, k)
			}
		}
		if p.fail {
			err := &taskError{i}
			mu.Lock()
			real[err] = true
			mu.Unlock()
			return err
		}
		return nil
	}

	var opts2 []nursery.Option
	if collectAll {
		opts2 = append(opts2, nursery.WithCollectAll())
	}
	if shared {
		opts2 = append(opts2, nursery.WithSemaphore(a))
	}
	var runErr error
	func() {
		defer func() {
			if r := recover(); r != nil {
				var pe *nursery.PanicError
				if err, ok := r.(error); !ok || !errors.As(err, &pe) || pe.Value != "task panicked" {
					t.Errorf("seed %d: Run panicked with %v, want a *nursery.PanicError of the task's panic", seed, r)
				}
				panicked = true
			}
		}()
		runErr = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			for i := range tasks {
				n.Go(func(ctx context.Context) error { return task(ctx, i) })
			}
			return nil
		}, opts2...)
	}()

	if n := over.Load(); n != 0 {
		t.Errorf("seed %d: %d admissions past the limit in force", seed, n)
	}
	if !panicked {
		got := map[error]int{}
		for _, err := range multierr.Errors(runErr) {
			got[err]++
		}
		for err := range real {
			if got[err] != 1 {
				t.Errorf("seed %d: %v reached Run %d times, want once", seed, err, got[err])
			}
		}
		for err, n := range got {
			if !real[err] || n != 1 {
				t.Errorf("seed %d: Run returned %v %d times; want each real error once and nothing else", seed, err, n)
			}
		}
	}
	if s := a.Stats(); s.Inflight != 0 || s.Waiting != 0 {
		t.Errorf("seed %d: after Run, %d units held and %d callers queued, want none", seed, s.Inflight, s.Waiting)
	}
	if n := running.Load(); n != 0 {
		t.Errorf("seed %d: %d tasks still running after Run", seed, n)
	}
	return panicked, a.Limit() != first
}
