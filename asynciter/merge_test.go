//go:build go1.25

package asynciter_test

import (
	"context"
	"iter"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/asynciter"
)

// tagged is a stream of n values src*1000+i, one every d.
func tagged(src, n int, d time.Duration) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			time.Sleep(d)
			if !yield(src*1000+i, nil) {
				return
			}
		}
	}
}

func TestMergeYieldsEveryValueOnceInInputOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got, err := asynciter.Collect(asynciter.Merge(t.Context(),
			tagged(1, 50, time.Millisecond), tagged(2, 30, 2*time.Millisecond), tagged(3, 100, 0)))
		if err != nil || len(got) != 180 {
			t.Fatalf("Merge: %d values, %v; want 180", len(got), err)
		}
		next := map[int]int{}
		for _, v := range got {
			src, i := v/1000, v%1000
			if i != next[src] {
				t.Fatalf("input %d: value %d came when %d was due", src, i, next[src])
			}
			next[src]++
		}
	})
	if got, err := asynciter.Collect(asynciter.Merge[int](t.Context())); len(got) != 0 || err != nil {
		t.Fatalf("Merge() = %v, %v", got, err)
	}
}

func TestMergeEndsAtTheFirstErrorAndStopsTheOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l live
		endless := func(yield func(int, error) bool) {
			defer l.enter()()
			for i := 0; yield(i, nil); i++ {
				time.Sleep(time.Millisecond)
			}
		}
		fails := func(yield func(int, error) bool) {
			time.Sleep(10 * time.Millisecond)
			yield(0, errBoom)
		}
		var last error
		n := 0
		for _, err := range asynciter.Merge(t.Context(), endless, fails, endless) {
			if err != nil {
				last = err
				continue
			}
			n++
		}
		l.check(t, "Merge")
		if last != errBoom || n < 10 {
			t.Fatalf("%d values, last error %v; want about 20, then boom", n, last)
		}
	})
}

func TestMergeEndsWithCtxErrWhenCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer stop()
		var last error
		for _, err := range asynciter.Merge(ctx, tagged(1, 1000, time.Millisecond), tagged(2, 1000, time.Millisecond)) {
			last = err
		}
		if last != context.DeadlineExceeded {
			t.Fatalf("last error %v, want context.DeadlineExceeded", last)
		}
	})
}

func TestMergeReraisesAnInputsPanic(t *testing.T) {
	v := mustPanic(t, func() {
		boom := func(yield func(int, error) bool) { panic("input") }
		for range asynciter.Merge(t.Context(), tagged(1, 1000000, 0), boom) {
		}
	})
	if got := panicValue(t, v); got != "input" {
		t.Fatalf("panic value %v", got)
	}
}

func TestMergeMisuse(t *testing.T) {
	mustPanicWith(t, "Merge called with a nil input sequence", func() { asynciter.Merge[int](t.Context(), nil) })
	mustPanicWith(t, "Merge called with a nil context", func() { asynciter.Merge[int](nil) }) //nolint:staticcheck
}
