//go:build go1.25

package asynciter_test

import (
	"context"
	"iter"
	"sync/atomic"
	"testing"

	"github.com/structured-go/structured/asynciter"
)

// counted returns the ints 0..n-1, counting in *read how many were read.
func counted(n int, read *atomic.Int64) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			read.Add(1)
			if !yield(i) {
				return
			}
		}
	}
}

// Fail fast means stop: once fn has failed, Map starts no call for a later
// item and stops reading its input. Here the failing call waits until
// every other worker is busy with a later item, which waits for its ctx to
// end; when the failure cancels them, the workers, free again, must find
// nothing more to do: of 100,000 items, fn is called for exactly the 3
// before the failing one, the failing one, and the k-1 that were running,
// and the input is read no further than Map's window (k + the default
// buffer of 2k+16, and the one the input holds).
func TestMapStopsFeedingAfterAFailure(t *testing.T) {
	const items, failing = 100_000, 3
	for _, limit := range []int{1, 2, 8} {
		for _, unordered := range []bool{false, true} {
			var calls, read, running atomic.Int64
			opts := []asynciter.Option{asynciter.WithLimit(limit)}
			if unordered {
				opts = append(opts, asynciter.WithUnordered())
			}
			busy := make(chan struct{}) // closed when k-1 later items run
			fn := func(ctx context.Context, x int) (int, error) {
				calls.Add(1)
				switch {
				case x < failing:
					return x, nil
				case x == failing:
					if limit > 1 {
						<-busy
					}
					return 0, errBoom
				}
				if running.Add(1) == int64(limit-1) {
					close(busy)
				}
				<-ctx.Done()
				return 0, ctx.Err()
			}
			var last error
			for _, err := range asynciter.Map(t.Context(), counted(items, &read), fn, opts...) {
				last = err
			}
			window := int64(limit + 2*limit + 16 + 1)
			if last != errBoom || calls.Load() != failing+int64(limit) || read.Load() > failing+1+window {
				t.Errorf("limit %d, unordered %v: last %v, %d calls of fn and %d items read; want errBoom, %d calls, at most %d reads",
					limit, unordered, last, calls.Load(), read.Load(), failing+limit, failing+1+window)
			}
		}
	}
}

// Tee stops its input once a consumer has failed: it reads at most the
// values its consumers may lag by (16), and the one it holds.
func TestTeeStopsFeedingAfterAFailure(t *testing.T) {
	for range 50 {
		var read atomic.Int64
		fails := func(ctx context.Context, s iter.Seq2[int, error]) error {
			for v := range s {
				if v == 3 {
					return errBoom
				}
			}
			return nil
		}
		reads := func(ctx context.Context, s iter.Seq2[int, error]) error {
			for _, err := range s {
				if err != nil {
					return err
				}
			}
			return nil
		}
		err := asynciter.Tee(t.Context(), asynciter.FromSeq(counted(1_000_000, &read)), fails, reads)
		if err != errBoom || read.Load() > 3+1+16+2 {
			t.Fatalf("Tee: %v, %d values read; want errBoom, at most 22", err, read.Load())
		}
	}
}
