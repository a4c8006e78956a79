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
)

// With WithLimit(k), at most k tasks run at once, and Go waits for a slot.
func TestLimitBoundsConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var running, peak atomic.Int64
		t0 := time.Now()
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			for range 10 {
				n.Go(func(ctx context.Context) error {
					now := running.Add(1)
					for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
					}
					time.Sleep(time.Second)
					running.Add(-1)
					return nil
				})
			}
			// The tenth Go could only start once 7 tasks had finished.
			if d := time.Since(t0); d != 3*time.Second {
				return fmt.Errorf("the last Go returned after %v, want 3s", d)
			}
			return nil
		}, nursery.WithLimit(3))
		if err != nil {
			t.Fatal(err)
		}
		if peak.Load() != 3 || time.Since(t0) != 4*time.Second {
			t.Fatalf("peak %d after %v, want 3 after 4s", peak.Load(), time.Since(t0))
		}
	})
}

// Regression for the deadlock class of sourcegraph/conc#88: a Go waiting for
// a slot in a full nursery wakes when the nursery is cancelled, so the body
// cannot stay stuck in Go while the running tasks wait for the body (here the
// parent's deadline passes while the body is feeding work; errgroup.SetLimit
// blocks in Go forever). The task that could not get a slot still runs, with
// its context done, without exceeding the limit.
func TestLimitGoWakesOnCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var running, peak atomic.Int64
		track := func() func() {
			now := running.Add(1)
			for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
			}
			return func() { running.Add(-1) }
		}
		var lateRan, lateCancelled atomic.Bool
		fromBody := make(chan struct{})
		ctx, stop := context.WithTimeout(t.Context(), time.Second)
		defer stop()
		err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			for range 2 {
				n.Go(func(ctx context.Context) error { // waits for the body, not for ctx
					defer track()()
					<-fromBody
					return nil
				})
			}
			n.Go(func(ctx context.Context) error { // beyond the limit
				defer track()()
				lateRan.Store(true)
				lateCancelled.Store(ctx.Err() != nil)
				return ctx.Err()
			})
			close(fromBody)
			return nil
		}, nursery.WithLimit(2))
		if err != context.DeadlineExceeded {
			t.Fatalf("Run() = %v, want the parent's DeadlineExceeded", err)
		}
		if !lateRan.Load() || !lateCancelled.Load() || peak.Load() > 2 {
			t.Fatalf("late task ran=%v cancelled=%v, peak %d; want true, true, <= 2",
				lateRan.Load(), lateCancelled.Load(), peak.Load())
		}
	})
}

// Regression: sourcegraph/conc#88's own program, with the failure inside the
// limit (the literal one, failing task number 11 behind 10 tasks that wait
// for it, cannot finish under any limit that is honoured). With 90 tasks
// behind the failure, none is left blocked.
func TestLimitFailureWithQueuedTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ran atomic.Int64
		errStop := errors.New("I will cancel all other tasks!")
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			for i := range 90 {
				n.Go(func(ctx context.Context) error {
					ran.Add(1)
					if i == 9 {
						return errStop
					}
					<-ctx.Done()
					return nil
				})
			}
			return nil
		}, nursery.WithLimit(10))
		if err != errStop || ran.Load() != 90 {
			t.Fatalf("Run() = %v with %d tasks run, want errStop and 90", err, ran.Load())
		}
	})
}

// Bad limits are refused with a message naming the argument.
func TestLimitValidation(t *testing.T) {
	for _, k := range []int{0, -1} {
		r := recoverPanic(func() { nursery.WithLimit(k) })
		if msg, _ := r.(string); msg == "" || !contains(msg, fmt.Sprintf("WithLimit(%d)", k)) {
			t.Errorf("WithLimit(%d) panicked with %v, want a message naming it", k, r)
		}
	}
}

// In collect-all mode a task's failure cancels nothing, but the body's
// error still cancels the tasks: the body decides the nursery's fate.
func TestCollectAllBodyErrorCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var siblingErr atomic.Value
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return errA })
			n.Go(func(ctx context.Context) error {
				err := sleep(ctx, time.Hour)
				siblingErr.Store(fmt.Sprint(err))
				return err
			})
			time.Sleep(time.Second) // errA has happened and cancelled nothing
			if ctx.Err() != nil {
				return errors.New("a task's error cancelled a collect-all nursery")
			}
			return errB
		}, nursery.WithCollectAll())
		if !errors.Is(err, errA) || !errors.Is(err, errB) {
			t.Fatalf("Run() = %v, want errA and errB", err)
		}
		if siblingErr.Load() != errB.Error() {
			t.Fatalf("the sibling ended with %v, want cancelled by the body's error", siblingErr.Load())
		}
	})
}
