//go:build go1.25

package asynciter_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/asynciter"
)

func TestBatchBySize(t *testing.T) {
	got, err := asynciter.Collect(asynciter.Batch(t.Context(), asynciter.FromSeq(slices.Values(ints(10))), 4, time.Hour))
	if err != nil || fmt.Sprint(got) != "[[0 1 2 3] [4 5 6 7] [8 9]]" {
		t.Fatalf("Batch = %v, %v", got, err)
	}
}

func TestBatchByTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// One value every 3ms; a batch waits at most 10ms after its first.
		slow := asynciter.Generate(t.Context(), func(ctx context.Context, yield func(int) bool) error {
			for i := range 10 {
				time.Sleep(3 * time.Millisecond)
				if !yield(i) {
					return nil
				}
			}
			return nil
		})
		start := time.Now()
		var at []time.Duration
		var got [][]int
		for b, err := range asynciter.Batch(t.Context(), slow, 100, 10*time.Millisecond) {
			if err != nil {
				t.Fatal(err)
			}
			at = append(at, time.Since(start))
			got = append(got, b)
		}
		// Values at 3, 6, 9, 12 | 15, 18, 21, 24 | 27, 30 (input ends).
		if fmt.Sprint(got) != "[[0 1 2 3] [4 5 6 7] [8 9]]" {
			t.Fatalf("batches %v", got)
		}
		if fmt.Sprint(at) != "[13ms 25ms 30ms]" {
			t.Fatalf("batches yielded at %v, want [13ms 25ms 30ms]", at)
		}
	})
}

func TestBatchNeverYieldsAnEmptyBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		idle := asynciter.Generate(t.Context(), func(ctx context.Context, yield func(int) bool) error {
			time.Sleep(time.Hour) // many waits pass with nothing to batch
			yield(1)
			return nil
		})
		got, err := asynciter.Collect(asynciter.Batch(t.Context(), idle, 5, time.Millisecond))
		if err != nil || fmt.Sprint(got) != "[[1]]" {
			t.Fatalf("Batch = %v, %v", got, err)
		}
	})
}

func TestBatchFlushesThePartialBatchBeforeAnError(t *testing.T) {
	var got [][]int
	var errs []error
	for b, err := range asynciter.Batch(t.Context(), failing(6), 4, time.Hour) {
		if err != nil {
			if b != nil {
				t.Fatalf("the error came with a batch %v", b)
			}
			errs = append(errs, err)
			continue
		}
		got = append(got, b)
	}
	if fmt.Sprint(got) != "[[0 1 2 3] [4 5]]" || len(errs) != 1 || errs[0] != errBoom {
		t.Fatalf("batches %v, errors %v", got, errs)
	}
}

func TestBatchEndsWithCtxErrWhenCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithCancel(t.Context())
		in := asynciter.FromSeq(func(yield func(int) bool) {
			for i := 0; ; i++ {
				if i == 3 {
					stop()
				}
				if !yield(i) {
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
		var got [][]int
		var last error
		for b, err := range asynciter.Batch(ctx, in, 100, time.Hour) {
			if err != nil {
				last = err
				continue
			}
			got = append(got, b)
		}
		if last != context.Canceled || len(got) != 1 || len(got[0]) < 3 {
			t.Fatalf("batches %v, last error %v; want the values before the cancel, then context.Canceled", got, last)
		}
	})
}

func TestBatchMisuse(t *testing.T) {
	ctx := t.Context()
	in := asynciter.FromSeq(slices.Values(ints(1)))
	mustPanicWith(t, "Batch(size 0): the size must be at least 1", func() { asynciter.Batch(ctx, in, 0, time.Second) })
	mustPanicWith(t, "Batch(wait 0s): the wait must be positive", func() { asynciter.Batch(ctx, in, 1, 0) })
	mustPanicWith(t, "Batch(wait -1s): the wait must be positive", func() { asynciter.Batch(ctx, in, 1, -time.Second) })
	mustPanicWith(t, "Batch called with a nil input sequence", func() { asynciter.Batch[int](ctx, nil, 1, time.Second) })
}
