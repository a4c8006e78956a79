//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/retry"
)

// The common case, a first attempt that succeeds, allocates nothing without
// options, and nothing with a shared Policy; hooks that are not set cost
// nothing.
func TestFirstTrySuccessAllocatesNothing(t *testing.T) {
	nop := func(context.Context) error { return nil }
	val := func(context.Context) (int, error) { return 1, nil }
	policy := retry.Policy(retry.Attempts(3), retry.WithBackoff(retry.Constant(time.Second)),
		retry.OnRetry(func(int, error, time.Duration) {}))
	cases := []struct {
		name string
		f    func()
		max  float64
	}{
		{"Do", func() { _ = retry.Do(bg, nop) }, 0},
		{"DoValue", func() { _, _ = retry.DoValue(bg, val) }, 0},
		{"Do with a Policy", func() { _ = retry.Do(bg, nop, policy) }, 0},
		{"DoValue with a Policy", func() { _, _ = retry.DoValue(bg, val, policy) }, 0},
		{"Do with options", func() { _ = retry.Do(bg, nop, retry.Attempts(3), retry.WithBackoff(retry.Constant(0))) }, 1},
	}
	for _, c := range cases {
		if got := testing.AllocsPerRun(100, c.f); got > c.max {
			t.Errorf("%s: %v allocations per call, want at most %v", c.name, got, c.max)
		}
	}
}

// A retry inside a nursery task that the nursery cancels returns an error
// that the nursery knows for the echo of its own cancellation: Run reports
// only the failure that caused it, not the retrying task's last error.
func TestRetryInACancelledNurseryTaskIsNotAFailure(t *testing.T) {
	errDisk := errors.New("disk full")
	var retried error
	err := nursery.Run(bg, func(ctx context.Context, n *nursery.Nursery) error {
		failed := make(chan struct{})
		n.Go(func(ctx context.Context) error {
			retried = retry.Do(ctx, func(context.Context) error {
				close(failed)
				return errFlaky
			}, retry.WithBackoff(retry.Constant(time.Hour)))
			return retried
		})
		n.Go(func(ctx context.Context) error {
			<-failed
			return errDisk
		})
		return nil
	})
	if err != errDisk {
		t.Fatalf("Run = %v, want errDisk alone", err)
	}
	if !errors.Is(retried, context.Canceled) || !errors.Is(retried, errDisk) || !errors.Is(retried, errFlaky) {
		t.Fatalf("the retry returned %v, want Canceled, its cause errDisk, and its last error", retried)
	}
}
