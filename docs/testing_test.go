//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/retry"
	"github.com/structured-go/structured/timeout"
)

// In a synctest bubble, time is virtual: an hour's timeout takes no time
// at all, and comes exactly when it should.
func TestFailAfterAnHourInVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		err := timeout.FailAfter(t.Context(), time.Hour, never)
		if !errors.Is(err, timeout.ErrTimeout) {
			t.Fatalf("FailAfter(1h, never) = %v, want ErrTimeout", err)
		}
		if got := time.Since(start); got != time.Hour {
			t.Fatalf("FailAfter(1h, never) returned after %v, want exactly 1h", got)
		}
	})
}

// Retries with real backoffs (seconds) in virtual time: the test checks
// the delays themselves, and takes no time.
func TestRetryWaitsTheBackoffInVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var at []time.Duration
		start := time.Now()
		err := retry.Do(t.Context(), func(ctx context.Context) error {
			at = append(at, time.Since(start))
			return errors.New("503")
		}, retry.Attempts(3), retry.WithBackoff(retry.Constant(2*time.Second)))
		if !errors.Is(err, retry.ErrAttempts) {
			t.Fatalf("Do = %v, want ErrAttempts", err)
		}
		want := []time.Duration{0, 2 * time.Second, 4 * time.Second}
		if len(at) != len(want) || at[1] != want[1] || at[2] != want[2] {
			t.Fatalf("attempts at %v, want %v", at, want)
		}
	})
}

// synctest.Wait returns when every goroutine of the bubble is blocked:
// here, to check that a worker is waiting for work, without a sleep.
func TestWorkerWaitsForWork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		jobs := make(chan int)
		handled := 0
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				for {
					select {
					case <-jobs:
						handled++
					case <-ctx.Done():
						return nil
					}
				}
			})
			jobs <- 1
			synctest.Wait() // the worker is blocked again, in its select
			if handled != 1 {
				t.Errorf("handled = %d after one job, want 1", handled)
			}
			n.Cancel(nil) // the body stops its worker before it returns
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// A task that calls runtime.Goexit, as t.FailNow does, ends with an error
// wrapping nursery.ErrGoexit: Run does not wait for it for ever.
func TestGoexitInATaskIsAnError(t *testing.T) {
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			runtime.Goexit() // what t.FailNow does
			return nil
		})
		return nil
	})
	if !errors.Is(err, nursery.ErrGoexit) {
		t.Fatalf("Run = %v, want an error wrapping ErrGoexit", err)
	}
}

// goleak.VerifyNone checks one test, where VerifyTestMain checks the whole
// package: no goroutine started by the test may outlive it.
func TestRunLeavesNothingBehind(t *testing.T) {
	defer goleak.VerifyNone(t)
	_ = nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 10 {
			n.Go(never)
		}
		n.Cancel(nil)
		return nil
	})
}
