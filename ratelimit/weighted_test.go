//go:build go1.25

package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/structured-go/structured/ratelimit"
)

// A program written for golang.org/x/sync/semaphore compiles and works with
// the import changed: NewWeighted, *Weighted and its methods.
func TestWeightedIsTheSemaphoreUnderXSyncsNames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sem *ratelimit.Weighted = ratelimit.NewWeighted(2)
		if err := sem.Acquire(t.Context(), 2); err != nil {
			t.Fatal(err)
		}
		if sem.TryAcquire(1) {
			t.Fatal("TryAcquire(1) with 2 of 2 held = true")
		}
		got := make(chan error, 1)
		go func() { got <- sem.Acquire(t.Context(), 1) }()
		synctest.Wait()
		sem.Release(2)
		if err := <-got; err != nil {
			t.Fatalf("Acquire(1) after the Release = %v", err)
		}
		sem.Release(1)
		// Where it differs: a request beyond the capacity fails at once.
		if err := sem.Acquire(context.Background(), 3); !errors.Is(err, ratelimit.ErrExceedsCapacity) {
			t.Fatalf("Acquire(3) with capacity 2 = %v, want ErrExceedsCapacity at once", err)
		}
	})
}
