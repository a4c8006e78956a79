//go:build go1.25

package asynciter_test

import (
	"context"
	"iter"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/asynciter"
)

// Streams are read at once, up to the limit: values interleave as they
// come, each stream's in order, and a slow stream holds back only itself.
func TestFlatMapConcurrentReadsStreamsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var running, peak atomic.Int64
		fn := func(ctx context.Context, src int) iter.Seq2[int, error] {
			return func(yield func(int, error) bool) {
				n := running.Add(1)
				defer running.Add(-1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				d := time.Millisecond
				if src == 0 {
					d = time.Hour / 100 // the slow one
				}
				for v, err := range stream(src*1000, 10, d, nil) {
					if !yield(v, err) {
						return
					}
				}
			}
		}
		start := time.Now()
		var got []int
		var firstFastDone time.Duration
		for v, err := range asynciter.FlatMapConcurrent(t.Context(), asynciter.FromSeq(slices.Values(ints(6))), fn, asynciter.WithLimit(3)) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
			if v == 1009 {
				firstFastDone = time.Since(start)
			}
		}
		if len(got) != 60 || peak.Load() != 3 {
			t.Fatalf("%d values, at most %d streams at once; want 60, 3", len(got), peak.Load())
		}
		next := map[int]int{}
		for _, v := range got {
			if src, i := v/1000, v%1000; i != next[src] {
				t.Fatalf("stream %d: value %d came when %d was due", src, i, next[src])
			} else {
				next[src]++
			}
		}
		if firstFastDone != 10*time.Millisecond {
			t.Fatalf("stream 1 ended at %v, want 10ms: the slow stream 0 held it back", firstFastDone)
		}
	})
}

func TestFlatMapConcurrentEndsAtTheFirstError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l live
		var started atomic.Int64
		fn := func(ctx context.Context, src int) iter.Seq2[int, error] {
			started.Add(1)
			if src == 2 {
				return stream(src*1000, 3, time.Millisecond, errBoom)
			}
			return func(yield func(int, error) bool) {
				defer l.enter()()
				for v, err := range stream(src*1000, 1000, time.Millisecond, nil) {
					if !yield(v, err) {
						return
					}
				}
			}
		}
		var last error
		for _, err := range asynciter.FlatMapConcurrent(t.Context(), asynciter.FromSeq(slices.Values(ints(100))), fn, asynciter.WithLimit(4)) {
			last = err
		}
		l.check(t, "FlatMapConcurrent")
		if last != errBoom || started.Load() != 4 {
			t.Fatalf("last %v, %d streams started; want errBoom, 4: none after the failure", last, started.Load())
		}
		// An error of in ends it too, after the values before it.
		in := func(yield func(int, error) bool) {
			yield(1, nil)
			time.Sleep(10 * time.Millisecond)
			yield(0, errBoom)
		}
		got, err := asynciter.Collect(asynciter.FlatMapConcurrent(t.Context(), in, func(ctx context.Context, src int) iter.Seq2[int, error] {
			return stream(0, 3, time.Millisecond, nil)
		}))
		if !slices.Equal(got, []int{0, 1, 2}) || err != errBoom {
			t.Fatalf("Collect = %v, %v; want [0 1 2], errBoom", got, err)
		}
	})
}

func TestFlatMapConcurrentStopsEverythingWhenTheLoopStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l live
		fn := func(ctx context.Context, src int) iter.Seq2[int, error] {
			return asynciter.Generate(ctx, func(ctx context.Context, yield func(int) bool) error {
				defer l.enter()()
				for i := 0; yield(src*1000 + i); i++ {
					time.Sleep(time.Millisecond)
				}
				return nil
			})
		}
		n := 0
		for range asynciter.FlatMapConcurrent(t.Context(), asynciter.FromSeq(slices.Values(ints(100))), fn, asynciter.WithLimit(3)) {
			if n++; n == 20 {
				break
			}
		}
		l.check(t, "FlatMapConcurrent")
		// ctx ends: the sequence ends with its error.
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
		defer cancel()
		var last error
		for _, err := range asynciter.FlatMapConcurrent(ctx, asynciter.FromSeq(slices.Values(ints(100))), fn, asynciter.WithLimit(3)) {
			last = err
		}
		l.check(t, "FlatMapConcurrent")
		if last != context.DeadlineExceeded {
			t.Fatalf("last error %v, want DeadlineExceeded", last)
		}
	})
}

func TestFlatMapConcurrentReraisesPanics(t *testing.T) {
	for _, where := range []string{"fn", "stream", "in"} {
		var l live
		in := asynciter.FromSeq(slices.Values(ints(10)))
		if where == "in" {
			in = func(yield func(int, error) bool) {
				yield(0, nil)
				panic("in")
			}
		}
		fn := func(ctx context.Context, src int) iter.Seq2[int, error] {
			if where == "fn" && src == 3 {
				panic("fn")
			}
			return func(yield func(int, error) bool) {
				defer l.enter()()
				for i := 0; ; i++ {
					if where == "stream" && src == 3 {
						panic("stream")
					}
					if !yield(i, nil) {
						return
					}
				}
			}
		}
		v := mustPanic(t, func() {
			for range asynciter.FlatMapConcurrent(t.Context(), in, fn, asynciter.WithLimit(4)) {
			}
		})
		l.check(t, "FlatMapConcurrent")
		if got := panicValue(t, v); got != where {
			t.Fatalf("panic %v, want %q", got, where)
		}
	}
}

func TestFlatMapConcurrentMisuse(t *testing.T) {
	in := asynciter.FromSeq(slices.Values([]int{1}))
	fn := func(ctx context.Context, v int) iter.Seq2[int, error] { return nil }
	mustPanicWith(t, "FlatMapConcurrent called with a nil context", func() { asynciter.FlatMapConcurrent(nil, in, fn) }) //nolint:staticcheck
	mustPanicWith(t, "FlatMapConcurrent called with a nil input sequence", func() { asynciter.FlatMapConcurrent[int, int](t.Context(), nil, fn) })
	mustPanicWith(t, "FlatMapConcurrent called with a nil function", func() { asynciter.FlatMapConcurrent[int, int](t.Context(), in, nil) })
	mustPanicWith(t, "FlatMapConcurrent does not take WithUnordered", func() { asynciter.FlatMapConcurrent(t.Context(), in, fn, asynciter.WithUnordered()) })
	v := mustPanic(t, func() {
		for range asynciter.FlatMapConcurrent(t.Context(), in, fn) {
		}
	})
	if got := panicValue(t, v); got != "asynciter: FlatMapConcurrent's function returned a nil stream" {
		t.Fatalf("panic %v", got)
	}
}

// Each stream runs at most 16 values ahead of the loop.
func TestFlatMapConcurrentStreamsRunAtMost16Ahead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var made atomic.Int64
		endless := func(ctx context.Context, src int) iter.Seq2[int, error] {
			return func(yield func(int, error) bool) {
				for i := 0; ; i++ {
					made.Add(1)
					if !yield(i, nil) {
						return
					}
				}
			}
		}
		for range asynciter.FlatMapConcurrent(t.Context(), asynciter.FromSeq(slices.Values([]int{0})), endless) {
			synctest.Wait() // the stream runs as far ahead as it may
			if n := made.Load(); n > 1+16+1 {
				t.Fatalf("%d values made while the loop holds its first", n)
			}
			break
		}
	})
}
