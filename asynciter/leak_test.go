//go:build go1.25

package asynciter_test

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/structured-go/structured/asynciter"
)

const leakItems = 12

// source is a Generate of 0..n-1 whose producer counts in l.
func source(ctx context.Context, l *live, n, buf int) iter.Seq2[int, error] {
	return asynciter.Generate(ctx, func(ctx context.Context, yield func(int) bool) error {
		defer l.enter()()
		for i := range n {
			if !yield(i) {
				return ctx.Err()
			}
		}
		return nil
	}, asynciter.WithBuffer(buf))
}

// operators returns every operator of the package over sources counted in l,
// each giving leakItems values (or batches) when ranged to the end.
func operators(ctx context.Context, l *live) map[string]iter.Seq2[int, error] {
	fn := func(ctx context.Context, x int) (int, error) {
		defer l.enter()()
		return x, nil
	}
	slowFn := func(ctx context.Context, x int) (int, error) {
		defer l.enter()()
		time.Sleep(time.Duration(x%3) * time.Millisecond)
		return x, nil
	}
	first := func(s iter.Seq2[[]int, error]) iter.Seq2[int, error] {
		return func(yield func(int, error) bool) {
			for b, err := range s {
				if !yield(len(b), err) || err != nil {
					return
				}
			}
		}
	}
	return map[string]iter.Seq2[int, error]{
		"Generate":            source(ctx, l, leakItems, 0),
		"Generate/WithBuffer": source(ctx, l, leakItems, 5),
		"Map":                 asynciter.Map(ctx, slices.Values(ints(leakItems)), fn, asynciter.WithLimit(3)),
		"Map/slow":            asynciter.Map(ctx, slices.Values(ints(leakItems)), slowFn, asynciter.WithLimit(3)),
		"Map/unordered":       asynciter.Map(ctx, slices.Values(ints(leakItems)), slowFn, asynciter.WithLimit(3), asynciter.WithUnordered()),
		"MapStream":           asynciter.MapStream(ctx, source(ctx, l, leakItems, 0), slowFn, asynciter.WithLimit(2)),
		"MapStream/unordered": asynciter.MapStream(ctx, source(ctx, l, leakItems, 2), slowFn, asynciter.WithUnordered()),
		"Batch":               first(asynciter.Batch(ctx, source(ctx, l, 3*leakItems, 0), 3, time.Millisecond)),
		"Merge":               asynciter.Merge(ctx, source(ctx, l, leakItems/3, 0), source(ctx, l, leakItems/3, 1), source(ctx, l, leakItems/3, 4)),
		"Buffer":              asynciter.Buffer(ctx, source(ctx, l, leakItems, 0), 3),
		"Throttle":            asynciter.Throttle(ctx, source(ctx, l, leakItems, 0), time.Millisecond),
		"Filter":              asynciter.Filter(source(ctx, l, 2*leakItems, 1), func(x int) bool { return x%2 == 0 }),
		"FlatMap":             asynciter.FlatMap(source(ctx, l, leakItems/2, 0), func(x int) iter.Seq2[int, error] { return source(ctx, l, 2, 0) }),
		"Take":                asynciter.Take(source(ctx, l, 1000, 2), leakItems),
		"Map of Map": asynciter.MapStream(ctx, source(ctx, l, leakItems, 0), func(ctx context.Context, x int) (int, error) {
			s, err := asynciter.Reduce(asynciter.Map(ctx, slices.Values(ints(3)), slowFn), 0, func(a, v int) int { return a + v })
			return s + x, err
		}),
	}
}

// Breaking at every position of every operator leaves nothing running: the
// callbacks' live count is zero as soon as the loop statement finishes, and
// no goroutine is left (synctest.Test fails if one outlives the bubble).
func TestEarlyBreakAtEveryPositionLeavesNothingRunning(t *testing.T) {
	names := func() []string {
		var l live
		var ns []string
		for name := range operators(context.Background(), &l) {
			ns = append(ns, name)
		}
		slices.Sort(ns)
		return ns
	}()
	for _, name := range names {
		for pos := 0; pos <= leakItems; pos++ {
			synctest.Test(t, func(t *testing.T) {
				var l live
				seq := operators(t.Context(), &l)[name]
				n := 0
				for _, err := range seq {
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if n == pos {
						break
					}
					n++
				}
				l.check(t, fmt.Sprintf("%s, break after %d", name, pos))
				if pos == leakItems && n != leakItems {
					t.Fatalf("%s: %d values, want %d", name, n, leakItems)
				}
			})
		}
	}
	goleak.VerifyNone(t)
}

// The same with the ctx cancelled at every position instead: every operator
// ends, with ctx.Err() as its last pair unless it had already ended.
func TestCancellationAtEveryPositionEndsEveryOperator(t *testing.T) {
	var l0 live
	for name := range operators(context.Background(), &l0) {
		for pos := 0; pos < leakItems; pos++ {
			synctest.Test(t, func(t *testing.T) {
				var l live
				ctx, stop := context.WithCancel(t.Context())
				defer stop()
				seq := operators(ctx, &l)[name]
				n := 0
				var last error
				for _, err := range seq {
					if err != nil {
						last = err
						continue
					}
					if n == pos {
						stop()
					}
					n++
				}
				l.check(t, name)
				if last != context.Canceled && n != leakItems {
					t.Fatalf("%s, cancelled after %d: %d values, last error %v", name, pos, n, last)
				}
			})
		}
	}
}

// A panic in the loop body at every position: the body's own value comes
// out, and nothing is left running.
func TestLoopBodyPanicAtEveryPosition(t *testing.T) {
	var l0 live
	for name := range operators(context.Background(), &l0) {
		for pos := 0; pos < leakItems; pos += 3 {
			synctest.Test(t, func(t *testing.T) {
				var l live
				v := mustPanic(t, func() {
					n := 0
					for range operators(t.Context(), &l)[name] {
						if n == pos {
							panic(name)
						}
						n++
					}
				})
				l.check(t, name)
				if v != name {
					t.Fatalf("%s: panic %#v, want the body's own value", name, v)
				}
			})
		}
	}
}
