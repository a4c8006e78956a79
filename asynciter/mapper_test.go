//go:build go1.25

package asynciter_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/asynciter"
)

func ints(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func double(ctx context.Context, x int) (int, error) { return 2 * x, nil }

func TestMapKeepsInputOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Later items finish first; the results still come in input order.
		slow := func(ctx context.Context, x int) (int, error) {
			time.Sleep(time.Duration(10-x%10) * time.Millisecond)
			return x, nil
		}
		got, err := asynciter.Collect(asynciter.Map(t.Context(), slices.Values(ints(100)), slow, asynciter.WithLimit(5)))
		if err != nil || !slices.Equal(got, ints(100)) {
			t.Fatalf("Map = %v, %v; want 0..99 in order", got, err)
		}
	})
	for _, k := range []int{1, 2, 4, 9} {
		for _, buf := range []int{0, 1, 5} {
			got, err := asynciter.Collect(asynciter.Map(t.Context(), slices.Values(ints(2000)), double, asynciter.WithLimit(k), asynciter.WithBuffer(buf)))
			if err != nil || len(got) != 2000 {
				t.Fatalf("WithLimit(%d), WithBuffer(%d): %d results, %v", k, buf, len(got), err)
			}
			for i, v := range got {
				if v != 2*i {
					t.Fatalf("WithLimit(%d), WithBuffer(%d): result %d = %d", k, buf, i, v)
				}
			}
		}
	}
}

func TestMapUnorderedYieldsAsCallsFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Item 0 is slow; the others pass it.
		fn := func(ctx context.Context, x int) (int, error) {
			if x == 0 {
				time.Sleep(time.Second)
			}
			return x, nil
		}
		got, err := asynciter.Collect(asynciter.Map(t.Context(), slices.Values(ints(10)), fn, asynciter.WithLimit(3), asynciter.WithUnordered()))
		if err != nil || len(got) != 10 || got[9] != 0 {
			t.Fatalf("unordered Map = %v, %v; want the slow item last", got, err)
		}
		sort.Ints(got)
		if !slices.Equal(got, ints(10)) {
			t.Fatalf("unordered Map lost or duplicated results: %v", got)
		}
	})
	got, err := asynciter.Collect(asynciter.Map(t.Context(), slices.Values(ints(5000)), double, asynciter.WithLimit(4), asynciter.WithUnordered(), asynciter.WithBuffer(0)))
	sort.Ints(got)
	if err != nil || len(got) != 5000 || got[4999] != 9998 {
		t.Fatalf("unordered Map: %d results, %v", len(got), err)
	}
}

func TestMapRunsAtMostLimitCallsAtOnce(t *testing.T) {
	for _, unordered := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			var l live
			fn := func(ctx context.Context, x int) (int, error) {
				defer l.enter()()
				time.Sleep(time.Millisecond)
				return x, nil
			}
			opts := []asynciter.Option{asynciter.WithLimit(3)}
			if unordered {
				opts = append(opts, asynciter.WithUnordered())
			}
			start := time.Now()
			got, err := asynciter.Collect(asynciter.Map(t.Context(), slices.Values(ints(30)), fn, opts...))
			if err != nil || len(got) != 30 {
				t.Fatal(len(got), err)
			}
			if p := l.peak.Load(); p != 3 {
				t.Fatalf("unordered=%v: %d calls at once, want 3", unordered, p)
			}
			if d := time.Since(start); d != 10*time.Millisecond {
				t.Fatalf("unordered=%v: 30 calls of 1ms, 3 at once, took %v; want 10ms", unordered, d)
			}
		})
	}
}

func TestMapStartsNoMoreWorkersThanItems(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l live
		fn := func(ctx context.Context, x int) (int, error) {
			defer l.enter()()
			time.Sleep(time.Millisecond)
			return x, nil
		}
		asynciter.Collect(asynciter.Map(t.Context(), slices.Values(ints(2)), fn, asynciter.WithLimit(50)))
		if p := l.peak.Load(); p != 2 {
			t.Fatalf("peak %d calls for 2 items", p)
		}
	})
}

func TestMapReadsAtMostTheWindowAhead(t *testing.T) {
	for _, unordered := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			var read atomic.Int32
			in := func(yield func(int) bool) {
				for i := 0; ; i++ {
					read.Store(int32(i + 1))
					if !yield(i) {
						return
					}
				}
			}
			opts := []asynciter.Option{asynciter.WithLimit(2), asynciter.WithBuffer(3)}
			if unordered {
				opts = append(opts, asynciter.WithUnordered())
			}
			n := 0
			for _, err := range asynciter.Map(t.Context(), in, double, opts...) {
				if err != nil {
					t.Fatal(err)
				}
				n++
				synctest.Wait() // everyone runs as far as they may
				// k+n held, and one more made by in and waiting.
				if got, max := read.Load(), int32(n+5+1); got > max {
					t.Fatalf("unordered=%v: after %d results %d items read, window allows %d", unordered, n, got, max)
				}
				if n == 50 {
					break
				}
			}
		})
	}
}

func TestMapErrorInOrderComesInItsPlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var started atomic.Int32
		var l live
		fn := func(ctx context.Context, x int) (int, error) {
			defer l.enter()()
			started.Add(1)
			if x == 5 {
				return 0, errBoom // fails first
			}
			time.Sleep(time.Duration(x) * time.Millisecond)
			return x, ctx.Err()
		}
		var vals []int
		var errs []error
		for v, err := range asynciter.Map(t.Context(), slices.Values(ints(1000)), fn, asynciter.WithLimit(4)) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			vals = append(vals, v)
		}
		l.check(t, "Map")
		if !slices.Equal(vals, ints(5)) || len(errs) != 1 || errs[0] != errBoom {
			t.Fatalf("values %v, errors %v; want 0..4 then boom, last", vals, errs)
		}
		if n := started.Load(); n > 10 {
			t.Fatalf("%d calls started after an early failure", n)
		}
	})
}

func TestMapErrorUnorderedCancelsTheRest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l live
		var cancelled atomic.Int32
		fn := func(ctx context.Context, x int) (int, error) {
			defer l.enter()()
			if x == 3 {
				time.Sleep(time.Millisecond)
				return 0, errBoom
			}
			<-ctx.Done()
			cancelled.Add(1)
			return 0, ctx.Err()
		}
		var last error
		for _, err := range asynciter.Map(t.Context(), slices.Values(ints(100)), fn, asynciter.WithLimit(4), asynciter.WithUnordered()) {
			last = err
		}
		l.check(t, "Map")
		if last != errBoom || cancelled.Load() != 3 {
			t.Fatalf("last %v, %d cancelled; want boom, 3", last, cancelled.Load())
		}
	})
}

func TestMapEndsWithCtxErrWhenCancelled(t *testing.T) {
	for _, unordered := range []bool{false, true} {
		ctx, stop := context.WithCancel(t.Context())
		opts := []asynciter.Option{asynciter.WithLimit(3)}
		if unordered {
			opts = append(opts, asynciter.WithUnordered())
		}
		n := 0
		var last error
		for _, err := range asynciter.Map(ctx, slices.Values(ints(100000)), double, opts...) {
			if err != nil {
				last = err
				continue
			}
			if n++; n == 100 {
				stop()
			}
		}
		stop()
		if last != context.Canceled || n >= 100000 {
			t.Fatalf("unordered=%v: %d results, last error %v; want it cut short with context.Canceled", unordered, n, last)
		}
	}
	ctx, stop := context.WithCancel(t.Context())
	stop()
	var calls atomic.Int32
	got, err := asynciter.Collect(asynciter.Map(ctx, slices.Values(ints(3)), func(ctx context.Context, x int) (int, error) {
		calls.Add(1)
		return x, nil
	}))
	if len(got) != 0 || err != context.Canceled || calls.Load() != 0 {
		t.Fatalf("Map with a done ctx = %v, %v after %d calls", got, err, calls.Load())
	}
}

func TestMapStreamEndsWithTheInputsErrorAfterEarlierResults(t *testing.T) {
	for _, unordered := range []bool{false, true} {
		in := asynciter.Generate(t.Context(), func(ctx context.Context, yield func(int) bool) error {
			for i := range 10 {
				if !yield(i) {
					return nil
				}
			}
			return errBoom
		})
		opts := []asynciter.Option{asynciter.WithLimit(3)}
		if unordered {
			opts = append(opts, asynciter.WithUnordered())
		}
		got, err := asynciter.Collect(asynciter.MapStream(t.Context(), in, double, opts...))
		sort.Ints(got)
		if err != errBoom || len(got) != 10 || got[9] != 18 {
			t.Fatalf("unordered=%v: MapStream = %v, %v; want 10 results then boom", unordered, got, err)
		}
	}
}

func TestMapReraisesAPanicOfFnOrOfTheInput(t *testing.T) {
	for _, unordered := range []bool{false, true} {
		opts := []asynciter.Option{asynciter.WithLimit(3)}
		if unordered {
			opts = append(opts, asynciter.WithUnordered())
		}
		var l live
		v := mustPanic(t, func() {
			for range asynciter.Map(t.Context(), slices.Values(ints(100)), func(ctx context.Context, x int) (int, error) {
				defer l.enter()()
				if x == 7 {
					panic("fn")
				}
				return x, nil
			}, opts...) {
			}
		})
		l.check(t, "Map")
		if got := panicValue(t, v); got != "fn" {
			t.Fatalf("panic value %v", got)
		}
		v = mustPanic(t, func() {
			in := func(yield func(int) bool) {
				yield(1)
				panic("input")
			}
			for range asynciter.Map(t.Context(), in, double, opts...) {
			}
		})
		if got := panicValue(t, v); got != "input" {
			t.Fatalf("panic value %v", got)
		}
		// A panic of a Generate under the Map: re-raised once, unwrapped.
		v = mustPanic(t, func() {
			in := asynciter.Generate(t.Context(), func(ctx context.Context, yield func(int) bool) error {
				yield(1)
				panic("deep")
			})
			for range asynciter.MapStream(t.Context(), in, double, opts...) {
			}
		})
		if got := panicValue(t, v); got != "deep" {
			t.Fatalf("panic value %v, want deep", got)
		}
	}
}

func TestMapNeverRecoversALoopBodyPanic(t *testing.T) {
	for _, unordered := range []bool{false, true} {
		opts := []asynciter.Option{asynciter.WithLimit(3)}
		if unordered {
			opts = append(opts, asynciter.WithUnordered())
		}
		var l live
		v := mustPanic(t, func() {
			for range asynciter.Map(t.Context(), slices.Values(ints(100)), func(ctx context.Context, x int) (int, error) {
				defer l.enter()()
				return x, nil
			}, opts...) {
				panic(fmt.Sprint("body ", unordered))
			}
		})
		l.check(t, "Map")
		if v != fmt.Sprint("body ", unordered) {
			t.Fatalf("panic %#v, want the body's own value", v)
		}
	}
}

func TestMapReportsGoexitInFn(t *testing.T) {
	_, err := asynciter.Collect(asynciter.Map(t.Context(), slices.Values(ints(10)), func(ctx context.Context, x int) (int, error) {
		if x == 4 {
			runtime_Goexit()
		}
		return x, nil
	}, asynciter.WithLimit(2)))
	if !errors.Is(err, asynciterGoexit()) {
		t.Fatalf("err = %v, want one wrapping nursery.ErrGoexit", err)
	}
}

func TestMapMisuse(t *testing.T) {
	ctx := t.Context()
	in := slices.Values(ints(1))
	mustPanicWith(t, "Map called with a nil context", func() { asynciter.Map(nil, in, double) }) //nolint:staticcheck
	mustPanicWith(t, "Map called with a nil input sequence", func() { asynciter.Map(ctx, nil, double) })
	mustPanicWith(t, "Map called with a nil function", func() { asynciter.Map[int, int](ctx, in, nil) })
	mustPanicWith(t, "MapStream called with a nil function", func() { asynciter.MapStream[int, int](ctx, asynciter.FromSeq(in), nil) })
	mustPanicWith(t, "WithLimit(0): the limit must be at least 1", func() { asynciter.WithLimit(0) })
	mustPanicWith(t, "WithLimit(-3): the limit must be at least 1", func() { asynciter.WithLimit(-3) })
	mustPanicWith(t, "Map called with a nil Option", func() { asynciter.Map(ctx, in, double, nil) })
}

// Many runs of a trivial function, where the goroutines hand items to each
// other as fast as they can: a lost wake-up would stall one of them.
func TestMapManyFastRunsNeverStall(t *testing.T) {
	in := ints(20000)
	for _, unordered := range []bool{false, true} {
		opts := []asynciter.Option{asynciter.WithLimit(4)}
		if unordered {
			opts = append(opts, asynciter.WithUnordered())
		}
		for range 40 {
			sum, err := asynciter.Reduce(asynciter.Map(t.Context(), slices.Values(in), double, opts...), 0, func(a, v int) int { return a + v })
			if err != nil || sum != 20000*19999 {
				t.Fatalf("unordered=%v: sum %d, %v", unordered, sum, err)
			}
		}
	}
}
