//go:build go1.25

package asynciter_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/asynciter"
	"github.com/structured-go/structured/nursery"
)

func count(n int, l *live) func(ctx context.Context, yield func(int) bool) error {
	return func(ctx context.Context, yield func(int) bool) error {
		if l != nil {
			defer l.enter()()
		}
		for i := range n {
			if !yield(i) {
				return nil
			}
		}
		return nil
	}
}

func TestGenerateYieldsEveryValueInOrder(t *testing.T) {
	for _, buf := range []int{0, 1, 2, 7, 64} {
		var got []int
		for v, err := range asynciter.Generate(t.Context(), count(1000, nil), asynciter.WithBuffer(buf)) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		if len(got) != 1000 {
			t.Fatalf("WithBuffer(%d): %d values, want 1000", buf, len(got))
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("WithBuffer(%d): value %d = %d", buf, i, v)
			}
		}
	}
}

// S112
func TestGenerateDoesNotStartTheProducerBeforeTheLoop(t *testing.T) {
	var calls atomic.Int32
	produce := func(ctx context.Context, yield func(int) bool) error {
		calls.Add(1)
		yield(1)
		return nil
	}
	seq := asynciter.Generate(t.Context(), produce)
	if n := calls.Load(); n != 0 {
		t.Fatalf("producer called %d times before the loop", n)
	}

	// A ctx already done: the producer is never called, ctx.Err() is the
	// only pair.
	ctx, stop := context.WithCancel(t.Context())
	stop()
	var errs []error
	for _, err := range asynciter.Generate(ctx, produce) {
		errs = append(errs, err)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("producer called %d times with a cancelled ctx", n)
	}
	if len(errs) != 1 || errs[0] != context.Canceled {
		t.Fatalf("pairs = %v, want [context.Canceled]", errs)
	}
	for range seq {
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("producer called %d times by one loop, want 1", n)
	}
}

// S113
func TestGenerateIsLazyByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var asked atomic.Int32
		produce := func(ctx context.Context, yield func(int) bool) error {
			for i := 1; ; i++ {
				asked.Store(int32(i))
				if !yield(i) {
					return nil
				}
			}
		}
		for v, err := range asynciter.Generate(t.Context(), produce) {
			if err != nil {
				t.Fatal(err)
			}
			// The body of item v runs: the producer must not have been
			// asked for v+1 yet, however long the body takes.
			time.Sleep(time.Second)
			synctest.Wait()
			if got := asked.Load(); got != int32(v) {
				t.Fatalf("while the loop is on item %d, the producer was asked for %d", v, got)
			}
			if v == 5 {
				break
			}
		}
	})
}

func TestGenerateWithBufferRunsAtMostNAhead(t *testing.T) {
	for _, n := range []int{1, 3, 8} {
		synctest.Test(t, func(t *testing.T) {
			var made atomic.Int32
			produce := func(ctx context.Context, yield func(int) bool) error {
				for i := 1; ; i++ {
					made.Store(int32(i))
					if !yield(i) {
						return nil
					}
				}
			}
			for v, err := range asynciter.Generate(t.Context(), produce, asynciter.WithBuffer(n)) {
				if err != nil {
					t.Fatal(err)
				}
				synctest.Wait() // the producer runs as far as it may
				if got, want := made.Load(), int32(v+n); got != want {
					t.Fatalf("WithBuffer(%d): on item %d the producer made %d, want %d", n, v, got, want)
				}
				if v == 20 {
					break
				}
			}
		})
	}
}

// S114
func TestGenerateCancelsAndJoinsTheProducerOnBreak(t *testing.T) {
	for _, buf := range []int{0, 4} {
		var cleanedUp atomic.Bool
		var cause error
		produce := func(ctx context.Context, yield func(int) bool) error {
			defer func() {
				cause = context.Cause(ctx)
				time.Sleep(time.Millisecond) // a slow cleanup is still waited for
				cleanedUp.Store(true)
			}()
			for i := 0; ; i++ {
				if !yield(i) {
					return ctx.Err()
				}
			}
		}
		for v, err := range asynciter.Generate(t.Context(), produce, asynciter.WithBuffer(buf)) {
			if err != nil {
				t.Fatal(err)
			}
			if v == 1 {
				break
			}
		}
		if !cleanedUp.Load() {
			t.Fatalf("WithBuffer(%d): the loop finished before the producer's cleanup", buf)
		}
		if cause != asynciter.ErrStopped {
			t.Fatalf("WithBuffer(%d): the producer's ctx ended with cause %v, want ErrStopped", buf, cause)
		}
	}
}

func TestGenerateJoinsABlockedProducerOnBreak(t *testing.T) {
	var l live
	produce := func(ctx context.Context, yield func(int) bool) error {
		defer l.enter()()
		yield(1)
		<-ctx.Done() // blocked elsewhere than in yield: only ctx reaches it
		return ctx.Err()
	}
	for range asynciter.Generate(t.Context(), produce, asynciter.WithBuffer(1)) {
		break
	}
	l.check(t, "Generate")
}

// S115
func TestGenerateEndsWithTheProducersError(t *testing.T) {
	errOae := errors.New("oae")
	produce := func(ctx context.Context, yield func(int) bool) error {
		yield(1)
		return errOae
	}
	var vals []int
	var errs []error
	for v, err := range asynciter.Generate(t.Context(), produce) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		vals = append(vals, v)
	}
	if len(vals) != 1 || vals[0] != 1 || len(errs) != 1 || errs[0] != errOae {
		t.Fatalf("values %v, errors %v; want [1], [oae] as the last pair", vals, errs)
	}
}

// S115: the loop's own error is the loop's, and a producer's error after the
// loop stopped is dropped (there is nobody to yield it to), without a hang.
func TestGenerateDropsTheProducersErrorAfterTheLoopStopped(t *testing.T) {
	errAgen := errors.New("agen")
	errIter := errors.New("iterator")
	var returned atomic.Bool
	body := func() error {
		for _, err := range asynciter.Generate(t.Context(), func(ctx context.Context, yield func(int) bool) error {
			defer returned.Store(true)
			for yield(0) {
			}
			return errAgen
		}) {
			if err != nil {
				return err
			}
			return errIter
		}
		return nil
	}
	if err := body(); err != errIter {
		t.Fatalf("body() = %v, want %v", err, errIter)
	}
	if !returned.Load() {
		t.Fatal("the producer had not returned when the loop finished")
	}
}

// S115: a cancelled ctx ends the sequence with ctx.Err(), also when the
// producer only watches yield.
func TestGenerateEndsWithCtxErrWhenCancelledMidStream(t *testing.T) {
	for _, buf := range []int{0, 16} {
		ctx, stop := context.WithCancel(t.Context())
		n := 0
		var last error
		for _, err := range asynciter.Generate(ctx, func(ctx context.Context, yield func(int) bool) error {
			for i := 0; yield(i); i++ {
			}
			return nil // yield said stop; the sequence is cut short
		}, asynciter.WithBuffer(buf)) {
			if err != nil {
				last = err
				break
			}
			if n++; n == 10 {
				stop()
			}
		}
		stop()
		if last != context.Canceled {
			t.Fatalf("WithBuffer(%d): last error %v, want context.Canceled", buf, last)
		}
	}
}

// S116: several consumers share one producer through a memory channel:
// each value goes to exactly one of them.
func TestGenerateSharedByConsumersThroughAChannel(t *testing.T) {
	s, r := asynciter.OpenChannel[int](0)
	var got [2][]int
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			defer s.Close()
			for v, err := range asynciter.Generate(ctx, count(100, nil)) {
				if err != nil {
					return err
				}
				if err := s.Send(ctx, v); err != nil {
					return err
				}
			}
			return nil
		})
		r2, err := r.Clone()
		if err != nil {
			return err
		}
		for i, r := range []*asynciter.Receiver[int]{r, r2} {
			n.Go(func(ctx context.Context) error {
				defer r.Close()
				for v, err := range r.All(ctx) {
					if err != nil {
						return err
					}
					got[i] = append(got[i], v)
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[int]int)
	for _, vs := range got {
		for _, v := range vs {
			seen[v]++
		}
	}
	for i := range 100 {
		if seen[i] != 1 {
			t.Fatalf("value %d received %d times, want once", i, seen[i])
		}
	}
}

func TestGenerateReraisesAProducerPanicInTheLoop(t *testing.T) {
	for _, breakFirst := range []bool{false, true} {
		var l live
		v := mustPanic(t, func() {
			for range asynciter.Generate(t.Context(), func(ctx context.Context, yield func(int) bool) error {
				defer l.enter()()
				yield(1)
				panic("producer")
			}, asynciter.WithBuffer(1)) {
				if breakFirst {
					break
				}
			}
		})
		l.check(t, "Generate")
		if got := panicValue(t, v); got != "producer" {
			t.Fatalf("breakFirst=%v: panic value %v, want producer", breakFirst, got)
		}
	}
}

func TestGenerateNeverRecoversALoopBodyPanic(t *testing.T) {
	var l live
	v := mustPanic(t, func() {
		for range asynciter.Generate(t.Context(), func(ctx context.Context, yield func(int) bool) error {
			defer l.enter()()
			for yield(1) {
			}
			<-ctx.Done()
			return nil
		}, asynciter.WithBuffer(4)) {
			panic("body")
		}
	})
	l.check(t, "Generate")
	if v != "body" {
		t.Fatalf("panic %#v, want the loop body's own value", v)
	}
}

// A lazy producer is a coroutine of the loop: its runtime.Goexit ends the
// loop's goroutine too, once the producer's defers have run. With
// WithBuffer it runs in a goroutine of its own, and its Goexit ends the
// sequence with an error wrapping nursery.ErrGoexit.
func TestGenerateProducersGoexit(t *testing.T) {
	for _, buffer := range []int{0, 4} {
		var last error
		producerCleanedUp, loopFinished := false, false
		exited := make(chan struct{})
		go func() {
			defer close(exited)
			for _, err := range asynciter.Generate(t.Context(), func(ctx context.Context, yield func(int) bool) error {
				defer func() { producerCleanedUp = true }()
				yield(1)
				runtime_Goexit()
				return nil
			}, asynciter.WithBuffer(buffer)) {
				last = err
			}
			loopFinished = true
		}()
		<-exited
		if !producerCleanedUp {
			t.Fatalf("WithBuffer(%d): the producer's defers did not run", buffer)
		}
		if buffer == 0 && (loopFinished || last != nil) {
			t.Fatalf("lazy: the loop finished (%v) with %v; want its goroutine ended by the Goexit", loopFinished, last)
		}
		if buffer > 0 && (!loopFinished || !errors.Is(last, nursery.ErrGoexit)) {
			t.Fatalf("WithBuffer(%d): loop finished %v, last error %v; want it finished with one wrapping nursery.ErrGoexit", buffer, loopFinished, last)
		}
	}
}

func TestGenerateRangedTwiceRunsTheProducerTwice(t *testing.T) {
	seq := asynciter.Generate(t.Context(), count(3, nil))
	for range 2 {
		got, err := asynciter.Collect(seq)
		if err != nil || len(got) != 3 {
			t.Fatalf("Collect = %v, %v; want [0 1 2], nil", got, err)
		}
	}
}

func TestGenerateMisuse(t *testing.T) {
	ctx := t.Context()
	mustPanicWith(t, "Generate called with a nil context", func() { asynciter.Generate[int](nil, count(1, nil)) }) //nolint:staticcheck
	mustPanicWith(t, "Generate called with a nil produce function", func() { asynciter.Generate[int](ctx, nil) })
	mustPanicWith(t, "Generate called with a nil Option", func() { asynciter.Generate(ctx, count(1, nil), nil) })
	mustPanicWith(t, "Generate does not take WithLimit", func() { asynciter.Generate(ctx, count(1, nil), asynciter.WithLimit(2)) })
	mustPanicWith(t, "Generate does not take WithUnordered", func() { asynciter.Generate(ctx, count(1, nil), asynciter.WithUnordered()) })
	mustPanicWith(t, "WithBuffer(-1): the buffer must not be negative", func() { asynciter.WithBuffer(-1) })
}
