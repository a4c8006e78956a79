//go:build go1.25

package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/ratelimit"
)

// pace sends n events through any Waiter, one Wait each: code written
// against the interface, as a client library would be.
func pace(ctx context.Context, w ratelimit.Waiter, n int) (int, error) {
	for i := range n {
		if err := w.Wait(ctx); err != nil {
			return i, err
		}
	}
	return n, nil
}

// The in-process Limiter is a Waiter, and behaves as one through it: the
// rate, the burst check and the deadline check all come through the
// interface unchanged.
func TestLimiterIsAWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var w ratelimit.Waiter = ratelimit.NewLimiter(10, 2)
		start := time.Now()
		if n, err := pace(t.Context(), w, 5); err != nil || n != 5 {
			t.Fatalf("pace(5) = %d, %v; want 5, nil", n, err)
		}
		// 2 at once from the burst, 3 more at 10/s.
		if d := time.Since(start); d != 300*time.Millisecond {
			t.Fatalf("5 events through the Waiter took %v, want 300ms", d)
		}
		if err := w.WaitN(t.Context(), 3); !errors.Is(err, ratelimit.ErrExceedsBurst) {
			t.Fatalf("WaitN(3) with burst 2 through the Waiter = %v, want ErrExceedsBurst", err)
		}
		ctx, stop := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer stop()
		if err := w.WaitN(ctx, 2); !errors.Is(err, ratelimit.ErrExceedsDeadline) {
			t.Fatalf("WaitN(2) needing 200ms with 50ms left = %v, want ErrExceedsDeadline", err)
		}
	})
}
