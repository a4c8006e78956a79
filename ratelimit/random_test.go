//go:build go1.25

package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
)

// taskError is the real error of one task.
type taskError struct{ id int }

func (e *taskError) Error() string { return fmt.Sprintf("task %d failed", e.id) }

// The package used the way users combine it: tasks of nested nurseries
// share a Semaphore (Acquire with deadlines, Do, TryAcquire, weights),
// while one of them resizes it; they wait on a Limiter and a Keyed limiter,
// reserve and cancel; some fail, one may panic. Checked every iteration:
// the weight held never exceeds the capacity at the time of acquisition
// plus what a shrink left over, no token leaks, every real error reaches
// Run exactly once, a panic arrives as a *nursery.PanicError with the
// tokens given back, no rate is exceeded, and no task outlives Run.
//
// The run of each seed is the same every time in what it checks: the task
// chosen to panic does so whatever the others do (it waits for its slot
// without its deadline, and past its nursery's cancellation), so the seeds
// that panic are known, and every one of them must.
func TestRandomizedCombinationKeepsTheInvariants(t *testing.T) {
	panics := 0
	for seed := range uint64(60) {
		synctest.Test(t, func(t *testing.T) {
			want, got := randomRound(t, seed)
			if got != want {
				t.Fatalf("seed %d: Run panicked: %v, want %v", seed, got, want)
			}
			if got {
				panics++
			}
		})
	}
	if panics == 0 {
		t.Fatal("no iteration panicked: the panic path went untested")
	}
}

// randomRound runs one iteration; it reports whether it has a task that
// panics, and whether Run panicked.
func randomRound(t *testing.T, seed uint64) (wantPanic, panicked bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	capacity := int64(1 + rng.IntN(4))
	sem := ratelimit.NewSemaphore(capacity)
	rate, burst := ratelimit.Limit(100+rng.IntN(900)), 1+rng.IntN(4)
	lim := ratelimit.NewLimiter(rate, burst)
	keyed := ratelimit.NewKeyed[int](rate, burst, ratelimit.WithMaxKeys(6))
	start := time.Now()

	const tasks = 24
	collectAll := rng.IntN(2) == 0
	panicker := -1
	if rng.IntN(4) == 0 {
		panicker = rng.IntN(tasks)
	}
	type plan struct {
		action, weight, delay, key int
		fail                       bool
	}
	plans := make([]plan, tasks)
	for i := range plans {
		plans[i] = plan{rng.IntN(6), rng.IntN(3) + 1, rng.IntN(20), rng.IntN(10), rng.IntN(5) == 0}
	}
	if panicker >= 0 {
		plans[panicker].action = 1 // it panics inside Do
		plans[panicker].weight = 1 // which every capacity admits
		wantPanic = true
	}
	resizes := make([]int64, 4)
	for i := range resizes {
		resizes[i] = int64(1 + rng.IntN(4))
	}

	var live, inUse, maxCap atomic.Int64
	maxCap.Store(capacity)
	var limGranted atomic.Int64
	keyGranted := make([]atomic.Int64, 10)
	failed := make([]atomic.Bool, tasks)

	hold := func(w int64) {
		if u := inUse.Add(w); u > maxCap.Load() {
			t.Errorf("seed %d: %d tokens in use, capacity never above %d", seed, u, maxCap.Load())
		}
	}
	task := func(i int) func(ctx context.Context) error {
		p := plans[i]
		return func(ctx context.Context) error {
			live.Add(1)
			defer live.Add(-1)
			w := int64(p.weight)
			ctx, stop := context.WithTimeout(ctx, time.Duration(p.delay+1)*time.Millisecond)
			defer stop()
			switch p.action {
			case 0: // Acquire, hold, Release
				err := sem.Acquire(ctx, w)
				if err != nil {
					return ignoreExpected(err)
				}
				hold(w)
				time.Sleep(time.Duration(p.delay) * time.Millisecond / 2)
				inUse.Add(-w)
				sem.Release(w)
			case 1: // Do, possibly failing or panicking
				doCtx := ctx
				if i == panicker {
					doCtx = context.WithoutCancel(ctx) // it gets its slot, and panics
				}
				err := sem.Do(doCtx, w, func(ctx context.Context) error {
					hold(w)
					defer inUse.Add(-w)
					time.Sleep(time.Duration(p.delay) * time.Millisecond / 2)
					if i == panicker {
						panic(fmt.Sprint("panic in task ", i))
					}
					if p.fail {
						failed[i].Store(true)
						return &taskError{i}
					}
					return nil
				})
				var te *taskError
				if errors.As(err, &te) {
					return err
				}
				return ignoreExpected(err)
			case 2: // TryAcquire
				if sem.TryAcquire(w) {
					hold(w)
					inUse.Add(-w)
					sem.Release(w)
				}
			case 3: // the Limiter
				if err := lim.Wait(ctx); err == nil {
					limGranted.Add(1)
				} else if err := ignoreExpected(err); err != nil {
					return err
				}
			case 4: // the Keyed limiter, and a reservation given back
				if err := keyed.Wait(ctx, p.key); err == nil {
					keyGranted[p.key].Add(1)
				} else if err := ignoreExpected(err); err != nil && !errors.Is(err, ratelimit.ErrTooManyKeys) {
					return err
				}
				lim.Reserve().Cancel()
			case 5: // a nested nursery sharing the semaphore
				return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
					for range 3 {
						n.Go(func(ctx context.Context) error {
							return ignoreExpected(sem.Do(ctx, 1, func(context.Context) error {
								hold(1)
								inUse.Add(-1)
								return nil
							}))
						})
					}
					return nil
				})
			}
			return nil
		}
	}

	var opts []nursery.Option
	if collectAll {
		opts = append(opts, nursery.WithCollectAll())
	}
	var runErr error
	r := recoverPanic(func() {
		runErr = nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { // the resizer
				for _, c := range resizes {
					time.Sleep(3 * time.Millisecond)
					if c > maxCap.Load() {
						maxCap.Store(c)
					}
					sem.Resize(c)
				}
				return nil
			})
			for i := range tasks {
				n.Go(task(i))
			}
			return nil
		}, opts...)
	})

	if l := live.Load(); l != 0 {
		t.Fatalf("seed %d: %d tasks still running after Run returned", seed, l)
	}
	if h, w := sem.Held(), sem.Waiting(); h != 0 || w != 0 {
		t.Fatalf("seed %d: Held(), Waiting() = %d, %d after Run, want 0, 0", seed, h, w)
	}
	if r != nil {
		panicked = true
		pe, ok := r.(*nursery.PanicError)
		if !ok || pe.Value != fmt.Sprint("panic in task ", panicker) {
			t.Fatalf("seed %d: Run panicked with %v, want the task's panic as a *nursery.PanicError", seed, r)
		}
	} else {
		seen := map[int]int{}
		for _, err := range multierr.Errors(runErr) {
			var te *taskError
			if !errors.As(err, &te) {
				t.Fatalf("seed %d: Run returned %v, which is not a task's error", seed, err)
			}
			seen[te.id]++
		}
		for i := range tasks {
			if want := map[bool]int{true: 1}[failed[i].Load()]; seen[i] != want {
				t.Fatalf("seed %d: task %d's error reached Run %d times, want %d (Run = %v)", seed, i, seen[i], want, runErr)
			}
		}
	}
	elapsed := time.Since(start)
	bound := int64(burst) + int64(float64(rate)*elapsed.Seconds())
	if g := limGranted.Load(); g > bound {
		t.Fatalf("seed %d: the Limiter granted %d in %v, at most %d allowed", seed, g, elapsed, bound)
	}
	for key := range keyGranted {
		if g := keyGranted[key].Load(); g > bound {
			t.Fatalf("seed %d: key %d granted %d in %v, at most %d allowed", seed, key, g, elapsed, bound)
		}
	}
	if !sem.TryAcquire(sem.Capacity()) {
		t.Fatalf("seed %d: TryAcquire(Capacity()) failed at the end: tokens leaked", seed)
	}
	return wantPanic, panicked
}

// ignoreExpected drops the errors a task expects: its context ending, a
// request beyond a shrunk capacity, a wait beyond its deadline.
func ignoreExpected(err error) error {
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, ratelimit.ErrExceedsCapacity) || errors.Is(err, ratelimit.ErrExceedsDeadline) {
		return nil
	}
	return err
}
