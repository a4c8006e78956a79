//go:build go1.25

package asynciter_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/asynciter"
)

func TestBufferReadsAheadAndOverlaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var read atomic.Int32
		in := asynciter.FromSeq(func(yield func(int) bool) {
			for i := range 10 {
				time.Sleep(time.Millisecond) // a slow input
				read.Add(1)
				if !yield(i) {
					return
				}
			}
		})
		start := time.Now()
		got := []int{}
		for v, err := range asynciter.Buffer(t.Context(), in, 3) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
			time.Sleep(time.Millisecond) // a slow body
		}
		if !slices.Equal(got, ints(10)) {
			t.Fatalf("Buffer = %v", got)
		}
		// Overlapped: 1ms to the first value, then 1ms each, and the last
		// body; not 20ms.
		if d := time.Since(start); d != 11*time.Millisecond {
			t.Fatalf("took %v, want 11ms", d)
		}
	})
}

func TestBufferPassesErrorsAndStopsOnBreak(t *testing.T) {
	got, err := asynciter.Collect(asynciter.Buffer(t.Context(), failing(5), 2))
	if !slices.Equal(got, ints(5)) || err != errBoom {
		t.Fatalf("Buffer of a failing stream = %v, %v", got, err)
	}
	var l live
	in := func(yield func(int, error) bool) {
		defer l.enter()()
		for i := 0; yield(i, nil); i++ {
		}
	}
	for v := range asynciter.Buffer(t.Context(), in, 8) {
		if v == 3 {
			break
		}
	}
	l.check(t, "Buffer")
	mustPanicWith(t, "Buffer(0): the buffer must be at least 1", func() { asynciter.Buffer(context.Background(), in, 0) })
}
