//go:build go1.25

package asynciter_test

import (
	"context"
	"iter"
	"slices"
	"testing"

	"github.com/structured-go/structured/asynciter"
)

func TestTeeGivesEveryConsumerEveryValue(t *testing.T) {
	var got [3][]int
	consumer := func(i int) func(ctx context.Context, s iter.Seq2[int, error]) error {
		return func(ctx context.Context, s iter.Seq2[int, error]) error {
			for v, err := range s {
				if err != nil {
					return err
				}
				got[i] = append(got[i], v)
			}
			return nil
		}
	}
	err := asynciter.Tee(t.Context(), asynciter.FromSeq(slices.Values(ints(100))), consumer(0), consumer(1), consumer(2))
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if !slices.Equal(got[i], ints(100)) {
			t.Fatalf("consumer %d got %v", i, got[i])
		}
	}
}

func TestTeeConsumerStoppingEarlyLeavesTheOthers(t *testing.T) {
	var l live
	var all []int
	stopped := 0
	in := func(yield func(int, error) bool) {
		defer l.enter()()
		for i := range 100 {
			if !yield(i, nil) {
				stopped++
				return
			}
		}
	}
	err := asynciter.Tee(t.Context(), in,
		func(ctx context.Context, s iter.Seq2[int, error]) error {
			for v := range s {
				if v == 2 {
					return nil
				}
			}
			return nil
		},
		func(ctx context.Context, s iter.Seq2[int, error]) error {
			for v, err := range s {
				if err != nil {
					return err
				}
				all = append(all, v)
			}
			return nil
		})
	l.check(t, "Tee")
	if err != nil || !slices.Equal(all, ints(100)) {
		t.Fatalf("Tee = %v; the other consumer got %d values, want 100", err, len(all))
	}

	// Every consumer stops: the input is stopped too.
	err = asynciter.Tee(t.Context(), in, func(ctx context.Context, s iter.Seq2[int, error]) error {
		for range s {
			break
		}
		return nil
	})
	if err != nil || stopped != 1 {
		t.Fatalf("Tee = %v, input stopped %d times; want nil, 1", err, stopped)
	}
}

func TestTeePassesTheInputsErrorAndReturnsConsumerErrors(t *testing.T) {
	var seen []error
	err := asynciter.Tee(t.Context(), failing(3), func(ctx context.Context, s iter.Seq2[int, error]) error {
		for _, err := range s {
			if err != nil {
				seen = append(seen, err)
				return err
			}
		}
		return nil
	}, func(ctx context.Context, s iter.Seq2[int, error]) error {
		for range s {
		}
		return nil
	})
	if err != errBoom || len(seen) != 1 {
		t.Fatalf("Tee = %v, consumer saw %v; want boom once", err, seen)
	}

	// A consumer that fails cancels the others.
	var otherErr error
	err = asynciter.Tee(t.Context(), asynciter.FromSeq(slices.Values(ints(100000))), func(ctx context.Context, s iter.Seq2[int, error]) error {
		return errBoom
	}, func(ctx context.Context, s iter.Seq2[int, error]) error {
		for _, err := range s {
			if err != nil {
				otherErr = err
				return err
			}
		}
		return nil
	})
	if err != errBoom || otherErr == nil {
		t.Fatalf("Tee = %v, the other consumer ended with %v; want boom, and a ctx error", err, otherErr)
	}
}

func TestTeeReraisesAConsumersPanic(t *testing.T) {
	v := mustPanic(t, func() {
		asynciter.Tee(t.Context(), asynciter.FromSeq(slices.Values(ints(10))), func(ctx context.Context, s iter.Seq2[int, error]) error {
			for range s {
				panic("consumer")
			}
			return nil
		})
	})
	if got := panicValue(t, v); got != "consumer" {
		t.Fatalf("panic value %v", got)
	}
}

func TestTeeMisuse(t *testing.T) {
	in := asynciter.FromSeq(slices.Values(ints(1)))
	mustPanicWith(t, "Tee called with a nil consumer", func() { asynciter.Tee(t.Context(), in, nil) })
	mustPanicWith(t, "Tee called with a nil input sequence", func() { asynciter.Tee[int](t.Context(), nil) })
}
