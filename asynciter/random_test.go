//go:build go1.25

package asynciter_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/asynciter"
	"github.com/structured-go/structured/nursery"
)

// A scenario is one random pipeline and what was injected into it.
type scenario struct {
	rng    *rand.Rand
	l      live
	desc   []string
	fail   int // value whose processing fails, or -1
	boom   int // value whose processing panics, or -1
	errs   map[error]bool
	others int // pipelines merged in: the k-th has values 1000k..

	failed, panicked atomic.Bool // the injected failure or panic happened
}

type failure struct{ v int }

func (f *failure) Error() string { return fmt.Sprintf("value %d failed", f.v) }

// step is what every callback does with a value: it may sleep, fail or
// panic, as injected.
func (s *scenario) step(ctx context.Context, v int, delay time.Duration) error {
	if delay > 0 {
		time.Sleep(delay)
	}
	switch v {
	case s.fail:
		s.failed.Store(true)
		return &failure{v}
	case s.boom:
		s.panicked.Store(true)
		panic(fmt.Sprintf("panic at %d", v))
	}
	return nil
}

// source makes the first stage: the values lo..hi-1.
func (s *scenario) source(ctx context.Context, lo, hi int) iter.Seq2[int, error] {
	switch s.rng.IntN(4) {
	case 0:
		s.desc = append(s.desc, fmt.Sprintf("FromSeq(%d..%d)", lo, hi))
		return asynciter.FromSeq(slices.Values(rangeOf(lo, hi)))
	case 1:
		// A sender that does not watch ctx, drained when the loop stops.
		s.desc = append(s.desc, fmt.Sprintf("FromChan(%d..%d, DrainOnStop)", lo, hi))
		return func(yield func(int, error) bool) {
			ch := make(chan int)
			go func() {
				defer close(ch)
				defer s.l.enter()()
				for v := lo; v < hi; v++ {
					ch <- v
				}
			}()
			for v, err := range asynciter.FromChan(ctx, ch, asynciter.DrainOnStop) {
				if !yield(v, err) {
					return
				}
			}
		}
	default:
		buf := s.rng.IntN(4)
		delay := time.Duration(s.rng.IntN(2)) * time.Millisecond
		s.desc = append(s.desc, fmt.Sprintf("Generate(%d..%d, buf %d, delay %v)", lo, hi, buf, delay))
		return asynciter.Generate(ctx, func(ctx context.Context, yield func(int) bool) error {
			defer s.l.enter()()
			for v := lo; v < hi; v++ {
				if err := s.step(ctx, v, delay); err != nil {
					return err
				}
				if !yield(v) {
					return nil
				}
			}
			return nil
		}, asynciter.WithBuffer(buf))
	}
}

func rangeOf(lo, hi int) []int {
	var s []int
	for v := lo; v < hi; v++ {
		s = append(s, v)
	}
	return s
}

// stage wraps in in a random operator that keeps the set of values (so that
// what comes out can be checked against what went in), possibly nesting.
func (s *scenario) stage(ctx context.Context, in iter.Seq2[int, error], depth int) iter.Seq2[int, error] {
	k := 1 + s.rng.IntN(4)
	opts := []asynciter.Option{asynciter.WithLimit(k), asynciter.WithBuffer(s.rng.IntN(5))}
	unordered := s.rng.IntN(2) == 0
	if unordered {
		opts = append(opts, asynciter.WithUnordered())
	}
	delay := time.Duration(s.rng.IntN(3)) * time.Millisecond
	switch s.rng.IntN(9) {
	case 7:
		s.desc = append(s.desc, fmt.Sprintf("FlatMapConcurrent(k %d)", k))
		return asynciter.FlatMapConcurrent(ctx, in, func(ctx context.Context, v int) iter.Seq2[int, error] {
			return func(yield func(int, error) bool) {
				defer s.l.enter()()
				if err := s.step(ctx, v, delay); err != nil {
					yield(0, err)
					return
				}
				yield(v, nil)
			}
		}, asynciter.WithLimit(k))
	case 8:
		// Errors carried as values, then turned back into the end of the
		// stream.
		s.desc = append(s.desc, fmt.Sprintf("MapStream(k %d, unordered %v) of Settled", k, unordered))
		settled := asynciter.MapStream(ctx, in, asynciter.Settled(func(ctx context.Context, v int) (int, error) {
			defer s.l.enter()()
			return v, s.step(ctx, v, delay)
		}), opts...)
		return asynciter.FlatMap(settled, func(r nursery.Result[int]) iter.Seq2[int, error] {
			return func(yield func(int, error) bool) { yield(r.Value, r.Err) }
		})
	case 0, 1:
		s.desc = append(s.desc, fmt.Sprintf("MapStream(k %d, unordered %v)", k, unordered))
		return asynciter.MapStream(ctx, in, func(ctx context.Context, v int) (int, error) {
			defer s.l.enter()()
			return v, s.step(ctx, v, delay)
		}, opts...)
	case 2:
		// Map in Map: each value goes through an inner Map of its own.
		s.desc = append(s.desc, fmt.Sprintf("MapStream(k %d) of an inner Map", k))
		return asynciter.MapStream(ctx, in, func(ctx context.Context, v int) (int, error) {
			defer s.l.enter()()
			out, err := asynciter.Collect(asynciter.Map(ctx, slices.Values([]int{v}), func(ctx context.Context, v int) (int, error) {
				defer s.l.enter()()
				return v, s.step(ctx, v, delay)
			}, asynciter.WithLimit(2)))
			if err != nil {
				return 0, err
			}
			return out[0], nil
		}, opts...)
	case 3:
		size := 1 + s.rng.IntN(4)
		s.desc = append(s.desc, fmt.Sprintf("Batch(%d) flattened", size))
		return asynciter.FlatMap(
			asynciter.Filter(asynciter.Batch(ctx, in, size, time.Duration(1+s.rng.IntN(3))*time.Millisecond), func([]int) bool { return true }),
			func(b []int) iter.Seq2[int, error] { return asynciter.FromSeq(slices.Values(b)) })
	case 4:
		n := 1 + s.rng.IntN(4)
		s.desc = append(s.desc, fmt.Sprintf("Buffer(%d)", n))
		return asynciter.Buffer(ctx, in, n)
	case 5:
		s.desc = append(s.desc, "Throttle(1ms)")
		return asynciter.Throttle(ctx, in, time.Millisecond)
	default:
		if depth > 1 {
			return in
		}
		// Merge with another pipeline over values of its own.
		s.desc = append(s.desc, "Merge(")
		s.others++
		lo := 1000 * s.others
		other := s.pipeline(ctx, lo, lo+s.rng.IntN(20), depth+1)
		s.desc = append(s.desc, ")")
		return asynciter.Merge(ctx, in, other)
	}
}

func (s *scenario) pipeline(ctx context.Context, lo, hi, depth int) iter.Seq2[int, error] {
	seq := s.source(ctx, lo, hi)
	for range s.rng.IntN(3) + 1 {
		seq = s.stage(ctx, seq, depth)
	}
	return seq
}

// TestRandomPipelines composes the operators at random, with failures,
// panics in callbacks and in the loop body, cancellation and breaks at random
// positions, and checks the invariants: no value is lost or duplicated where
// the pipeline promises them all, no value is made up, an error is the last
// pair and is exactly the one injected (or ctx's), a panic comes out once
// with its own value, and nothing is left running when the loop ends.
func TestRandomPipelines(t *testing.T) {
	const runs = 400
	for seed := range uint64(runs) {
		synctest.Test(t, func(t *testing.T) {
			s := &scenario{rng: rand.New(rand.NewPCG(seed, 7)), fail: -1, boom: -1}
			n := 1 + s.rng.IntN(40)
			var injected []string
			if s.rng.IntN(4) == 0 {
				s.fail = s.rng.IntN(n)
				injected = append(injected, fmt.Sprintf("fail at %d", s.fail))
			}
			if s.rng.IntN(6) == 0 {
				s.boom = s.rng.IntN(n)
				injected = append(injected, fmt.Sprintf("panic at %d", s.boom))
			}
			breakAt, cancelAt, bodyPanicAt := -1, -1, -1
			switch s.rng.IntN(6) {
			case 0:
				breakAt = s.rng.IntN(n + 1)
				injected = append(injected, fmt.Sprintf("break after %d", breakAt))
			case 1:
				cancelAt = s.rng.IntN(n + 1)
				injected = append(injected, fmt.Sprintf("cancel after %d", cancelAt))
			case 2:
				bodyPanicAt = s.rng.IntN(n + 1)
				injected = append(injected, fmt.Sprintf("body panic after %d", bodyPanicAt))
			}
			ctx, stop := context.WithCancel(t.Context())
			defer stop()
			seq := s.pipeline(ctx, 0, n, 0)
			merged := s.others > 0
			what := fmt.Sprintf("seed %d: %v, injected %v", seed, s.desc, injected)

			seen := map[int]int{}
			var errs []error
			pairs := 0
			recovered := func() (r any) {
				defer func() { r = recover() }()
				for v, err := range seq {
					pairs++
					if err != nil {
						errs = append(errs, err)
						continue
					}
					if len(errs) > 0 {
						t.Errorf("%s: a value after the error", what)
					}
					seen[v]++
					got := len(seen)
					if got == breakAt {
						break
					}
					if got == cancelAt {
						stop()
					}
					if got == bodyPanicAt {
						panic("body")
					}
				}
				return nil
			}()
			s.l.check(t, what)

			// Values: none made up, none twice.
			for v, c := range seen {
				if c != 1 {
					t.Fatalf("%s: value %d yielded %d times", what, v, c)
				}
				if !(v >= 0 && v < n) && !(v >= 1000 && v/1000 <= s.others && v%1000 < 20) {
					t.Fatalf("%s: value %d made up", what, v)
				}
			}
			// Errors: at most one, the last pair, and an injected one or
			// ctx's.
			if len(errs) > 1 {
				t.Fatalf("%s: %d errors: %v", what, len(errs), errs)
			}
			var f *failure
			if len(errs) == 1 && !errors.As(errs[0], &f) && errs[0] != context.Canceled {
				t.Fatalf("%s: unexpected error %v", what, errs[0])
			}
			if f != nil && f.v != s.fail {
				t.Fatalf("%s: error for value %d, injected at %d", what, f.v, s.fail)
			}
			// Panics: the body's own value, or the injected one once.
			switch {
			case recovered == "body":
				if bodyPanicAt < 0 {
					t.Fatalf("%s: a body panic that was not injected", what)
				}
			case recovered != nil:
				if got := panicValue(t, recovered); got != fmt.Sprintf("panic at %d", s.boom) {
					t.Fatalf("%s: panic %v", what, got)
				}
			case s.panicked.Load() && bodyPanicAt < 0:
				t.Fatalf("%s: the injected panic happened and was lost", what)
			}
			// Everything, when nothing cut the stream short.
			cut := breakAt >= 0 || cancelAt >= 0 || bodyPanicAt >= 0 || s.failed.Load() || s.panicked.Load()
			if !cut {
				want := n
				if merged {
					want = -1 // the other pipeline's length is not tracked
				}
				if want >= 0 && len(seen) != want || len(errs) != 0 {
					t.Fatalf("%s: %d values, errors %v; want all %d and no error", what, len(seen), errs, n)
				}
			}
			if s.failed.Load() && !s.panicked.Load() && breakAt < 0 && cancelAt < 0 && bodyPanicAt < 0 {
				if len(errs) != 1 || f == nil {
					t.Fatalf("%s: the injected failure happened, but the stream ended with %v", what, errs)
				}
			}
		})
	}
}

// The nursery's panic type is what the stages re-raise.
var _ = (*nursery.PanicError)(nil)
