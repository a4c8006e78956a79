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

func TestThrottlePacesValues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var at []time.Duration
		for _, err := range asynciter.Throttle(t.Context(), asynciter.FromSeq(slices.Values(ints(4))), 10*time.Millisecond) {
			if err != nil {
				t.Fatal(err)
			}
			at = append(at, time.Since(start))
			time.Sleep(3 * time.Millisecond) // the body's time counts toward the interval
		}
		if fmt.Sprint(at) != "[0s 10ms 20ms 30ms]" {
			t.Fatalf("values at %v", at)
		}
	})
}

func TestThrottleAsksALazyInputOnlyAtItsPace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var asked []time.Duration
		in := asynciter.Generate(t.Context(), func(ctx context.Context, yield func(int) bool) error {
			for i := range 3 {
				asked = append(asked, time.Since(start))
				if !yield(i) {
					return nil
				}
			}
			return nil
		})
		for range asynciter.Throttle(t.Context(), in, time.Second) {
		}
		if fmt.Sprint(asked) != "[0s 0s 1s]" {
			// Item 2 is made when item 1 is let through (at 1s).
			t.Fatalf("the producer was asked at %v", asked)
		}
	})
}

func TestThrottleEndsWithCtxErr(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithTimeout(t.Context(), 25*time.Millisecond)
		defer stop()
		var n int
		var last error
		for _, err := range asynciter.Throttle(ctx, asynciter.FromSeq(slices.Values(ints(100))), 10*time.Millisecond) {
			if err != nil {
				last = err
				continue
			}
			n++
		}
		if n != 3 || last != context.DeadlineExceeded {
			t.Fatalf("%d values, last error %v; want 3, DeadlineExceeded", n, last)
		}
	})
}

// A ticketWaiter lets through a fixed number of events.
type ticketWaiter struct{ left int }

func (w *ticketWaiter) Wait(ctx context.Context) error {
	if w.left == 0 {
		return errBoom
	}
	w.left--
	return ctx.Err()
}

func TestThrottleWithUsesTheWaiter(t *testing.T) {
	got, err := asynciter.Collect(asynciter.ThrottleWith(t.Context(), asynciter.FromSeq(slices.Values(ints(10))), &ticketWaiter{left: 4}))
	if !slices.Equal(got, ints(4)) || err != errBoom {
		t.Fatalf("ThrottleWith = %v, %v; want 0..3 then the waiter's error", got, err)
	}
	got, err = asynciter.Collect(asynciter.ThrottleWith(t.Context(), failing(2), &ticketWaiter{left: 4}))
	if !slices.Equal(got, ints(2)) || err != errBoom {
		t.Fatalf("ThrottleWith of a failing stream = %v, %v", got, err)
	}
}

func TestThrottleMisuse(t *testing.T) {
	in := asynciter.FromSeq(slices.Values(ints(1)))
	mustPanicWith(t, "Throttle(0s): the interval must be positive", func() { asynciter.Throttle(t.Context(), in, 0) })
	mustPanicWith(t, "ThrottleWith called with a nil Waiter", func() { asynciter.ThrottleWith(t.Context(), in, nil) })
}
