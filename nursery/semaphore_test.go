//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
)

// tracked wraps a Semaphore and records how many units are held at most.
type tracked struct {
	nursery.Semaphore
	held, peak atomic.Int64
}

func (s *tracked) Acquire(ctx context.Context, n int64) error {
	if err := s.Semaphore.Acquire(ctx, n); err != nil {
		return err
	}
	now := s.held.Add(n)
	for p := s.peak.Load(); now > p && !s.peak.CompareAndSwap(p, now); p = s.peak.Load() {
	}
	return nil
}

func (s *tracked) Release(n int64) {
	s.held.Add(-n)
	s.Semaphore.Release(n)
}

// One Semaphore bounds the tasks of several nested nurseries together: a
// recursive walk whose nodes give their unit back while they wait on their
// children never runs more than the limit at once, and never waits for
// itself.
func TestSemaphoreSharedByNestedNurseries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sem := &tracked{Semaphore: ratelimit.NewSemaphore(3)}
		var visited atomic.Int64
		var walk func(ctx context.Context, depth int) error
		walk = func(ctx context.Context, depth int) error {
			visited.Add(1)
			time.Sleep(time.Millisecond) // the node's own work, holding a unit
			if depth == 0 {
				return nil
			}
			sem.Release(1) // give it back while waiting on the children
			defer func() { _ = sem.Acquire(context.WithoutCancel(ctx), 1) }()
			return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
				for range 3 {
					n.Go(func(ctx context.Context) error { return walk(ctx, depth-1) })
				}
				return nil
			}, nursery.WithSemaphore(sem))
		}
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return walk(ctx, 4) })
			return nil
		}, nursery.WithSemaphore(sem))
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(1 + 3 + 9 + 27 + 81); visited.Load() != want {
			t.Fatalf("visited %d nodes, want %d", visited.Load(), want)
		}
		if sem.peak.Load() != 3 || sem.held.Load() != 0 {
			t.Fatalf("at most %d units held (want 3), %d held after Run (want 0)", sem.peak.Load(), sem.held.Load())
		}
	})
}

// With both WithLimit and WithSemaphore a task holds a slot of each; after
// cancellation, tasks started beyond the limit wait in the queue and still
// run, with their ctx done, holding a unit each.
func TestSemaphoreWithLimitAndCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sem := &tracked{Semaphore: ratelimit.NewSemaphore(2)}
		var ran, cancelledRuns atomic.Int64
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			for i := range 10 {
				n.Go(func(ctx context.Context) error {
					ran.Add(1)
					if ctx.Err() != nil {
						cancelledRuns.Add(1)
						return ctx.Err()
					}
					if i == 1 {
						return errA
					}
					time.Sleep(time.Second)
					return nil
				})
				nursery.Spawn(n, func(ctx context.Context) (int, error) { ran.Add(1); return 0, ctx.Err() })
			}
			return nil
		}, nursery.WithLimit(3), nursery.WithSemaphore(sem))
		if err != errA || ran.Load() != 20 || cancelledRuns.Load() == 0 {
			t.Fatalf("Run() = %v, %d tasks ran (%d cancelled); want errA, all 20 run", err, ran.Load(), cancelledRuns.Load())
		}
		if sem.peak.Load() > 2 || sem.held.Load() != 0 {
			t.Fatalf("peak %d units (want at most 2), %d left held", sem.peak.Load(), sem.held.Load())
		}
	})
}

// A Semaphore that refuses a unit for good (larger than its capacity) fails
// the task that asked, without running it, instead of hanging; Start gets
// the refusal as its error.
func TestSemaphoreRefusalFailsTheTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		empty := ratelimit.NewSemaphore(0)
		var ran atomic.Bool
		var startErr error
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			_, startErr = nursery.Start(ctx, n, func(ctx context.Context, started func(int)) error {
				ran.Store(true)
				return nil
			})
			n.Go(func(ctx context.Context) error { ran.Store(true); return nil })
			return nil
		}, nursery.WithSemaphore(empty))
		if !errors.Is(err, ratelimit.ErrExceedsCapacity) || ran.Load() {
			t.Fatalf("Run() = %v (a task ran: %v), want the refusal and no task run", err, ran.Load())
		}
		if !errors.Is(startErr, ratelimit.ErrExceedsCapacity) {
			t.Fatalf("Start() = %v, want the refusal", startErr)
		}
		if r := recoverPanic(func() { nursery.WithSemaphore(nil) }); !contains(fmt.Sprint(r), "WithSemaphore(nil)") {
			t.Fatalf("WithSemaphore(nil) panicked with %v", r)
		}
	})
}

// Spawn and Start wait on a full limit as Go does; in a cancelled nursery
// Spawn queues (returning at once) and its task still runs, and Start still
// waits for a slot or its own ctx.
func TestSpawnAndStartOnAFullLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var spawned *nursery.Task[int]
		var spawnedRan atomic.Bool
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { <-ctx.Done(); time.Sleep(time.Second); return nil }) // the only slot
			n.Cancel(nil)
			t0 := time.Now()
			spawned = nursery.Spawn(n, func(ctx context.Context) (int, error) {
				spawnedRan.Store(true)
				return 7, ctx.Err()
			})
			if time.Since(t0) != 0 {
				return errors.New("Spawn on a full limit in a cancelled nursery blocked")
			}
			v, err := spawned.Wait(context.Background())
			if v != 7 || err != context.Canceled || time.Since(t0) != time.Second {
				return fmt.Errorf("queued Spawn: Wait() = %v, %v after %v, want 7, Canceled after 1s", v, err, time.Since(t0))
			}
			return nil
		}, nursery.WithLimit(1))
		if err != nil || !spawnedRan.Load() {
			t.Fatalf("Run() = %v (spawned ran: %v)", err, spawnedRan.Load())
		}
	})
}

// Start on a full limit in a cancelled nursery waits for a slot, which the
// cancelled tasks free, and its task runs under it with the context done.
func TestStartOnAFullLimitInACancelledNursery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { <-ctx.Done(); time.Sleep(time.Second); return nil }) // the only slot
			n.Cancel(nil)
			t0 := time.Now()
			v, err := nursery.Start(context.Background(), n, func(ctx context.Context, started func(int)) error {
				if ctx.Err() == nil {
					return errors.New("started with a live context in a cancelled nursery")
				}
				started(3)
				return nil
			})
			if v != 3 || err != nil || time.Since(t0) != time.Second {
				return fmt.Errorf("Start() = %v, %v after %v; want 3, nil after the slot freed at 1s", v, err, time.Since(t0))
			}
			return nil
		}, nursery.WithLimit(1))
		if err != nil {
			t.Fatal(err)
		}
	})
}
