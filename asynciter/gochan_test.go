//go:build go1.25

package asynciter_test

import (
	"context"
	"errors"
	"iter"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/asynciter"
)

// careless is a sender that does not watch ctx: it sends n values on an
// unbuffered channel, closes it, and reports on done when it has returned.
func careless(n int) (<-chan int, <-chan struct{}) {
	ch := make(chan int)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		for i := range n {
			ch <- i
		}
	}()
	return ch, done
}

func TestFromChanYieldsUntilClosed(t *testing.T) {
	for _, mode := range []asynciter.StopMode{asynciter.LeaveOnStop, asynciter.DrainOnStop} {
		ch, done := careless(5)
		got, err := asynciter.Collect(asynciter.FromChan(t.Context(), ch, mode))
		if !slices.Equal(got, []int{0, 1, 2, 3, 4}) || err != nil {
			t.Fatalf("%v: Collect = %v, %v; want 0..4, nil", mode, got, err)
		}
		<-done
	}
}

// Cancelling is not draining: a stage that stops reading leaves a careless
// sender blocked for ever, unless FromChan drains the channel.
func TestFromChanDrainOnStopFreesACarelessSender(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, stop := range []string{"break", "ctx", "Map's error"} {
			for _, mode := range []asynciter.StopMode{asynciter.DrainOnStop, asynciter.LeaveOnStop} {
				ctx, cancel := context.WithCancel(t.Context())
				ch, done := careless(100)
				seq := asynciter.FromChan(ctx, ch, mode)
				var last error
				switch stop {
				case "break":
					for v := range seq {
						if v == 3 {
							break
						}
					}
				case "ctx":
					for v, err := range seq {
						if v == 3 {
							cancel()
						}
						last = err
					}
					if last != context.Canceled {
						t.Fatalf("%s, %v: last error %v, want context.Canceled", stop, mode, last)
					}
				case "Map's error":
					fail := func(ctx context.Context, v int) (int, error) {
						if v == 3 {
							return 0, errBoom
						}
						return v, nil
					}
					for _, err := range asynciter.MapStream(ctx, seq, fail, asynciter.WithLimit(2)) {
						last = err
					}
					if last != errBoom {
						t.Fatalf("%s, %v: last error %v, want errBoom", stop, mode, last)
					}
				}
				synctest.Wait()
				select {
				case <-done:
					if mode == asynciter.LeaveOnStop {
						t.Fatalf("%s, %v: the sender finished: nothing drained it", stop, mode)
					}
				default:
					if mode == asynciter.DrainOnStop {
						t.Fatalf("%s, %v: the sender is still blocked in its send", stop, mode)
					}
					for range ch { // free it, for the test
					}
				}
				cancel()
			}
		}
	})
}

func TestFromChanChecksCtxOnEntryAndMisuse(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ch := make(chan int, 1)
	ch <- 1
	got, err := asynciter.Collect(asynciter.FromChan(ctx, ch, asynciter.LeaveOnStop))
	if len(got) != 0 || err != context.Canceled || len(ch) != 1 {
		t.Fatalf("FromChan with a done ctx = %v, %v, %d left; want nothing, context.Canceled, 1 left", got, err, len(ch))
	}
	mustPanicWith(t, "FromChan(StopMode(0)): say what happens when the loop stops early: LeaveOnStop or DrainOnStop", func() { asynciter.FromChan(t.Context(), ch, 0) })
	mustPanicWith(t, "FromChan called with a nil channel", func() { asynciter.FromChan[int](t.Context(), nil, asynciter.DrainOnStop) })
	mustPanicWith(t, "FromChan called with a nil context", func() { asynciter.FromChan(nil, ch, asynciter.DrainOnStop) }) //nolint:staticcheck
}

func TestToChanSendsEveryValueThenCloses(t *testing.T) {
	var l live
	in := asynciter.Generate(t.Context(), count(100, &l))
	var got []int
	err := asynciter.ToChan(t.Context(), in, func(ctx context.Context, ch <-chan int) error {
		for v := range ch {
			got = append(got, v)
		}
		return nil
	})
	l.check(t, "ToChan")
	if err != nil || len(got) != 100 || got[99] != 99 {
		t.Fatalf("ToChan: %d values, %v; want 0..99, nil", len(got), err)
	}
}

// A body that returns early stops the sender and its input: nothing
// outlives ToChan, nothing is drained.
func TestToChanStopsTheSenderWhenBodyReturns(t *testing.T) {
	var l live
	var produced int
	in := asynciter.Generate(t.Context(), func(ctx context.Context, yield func(int) bool) error {
		defer l.enter()()
		for i := 0; yield(i); i++ {
			produced = i + 1
		}
		return nil
	})
	err := asynciter.ToChan(t.Context(), in, func(ctx context.Context, ch <-chan int) error {
		<-ch
		<-ch
		return nil
	})
	l.check(t, "ToChan")
	if err != nil || produced > 4 {
		t.Fatalf("ToChan = %v after %d values produced; want nil, the input stopped at once", err, produced)
	}
}

func TestToChanReturnsTheErrorsOfInputAndBody(t *testing.T) {
	errBody := errors.New("body failed")
	failing := asynciter.Generate(t.Context(), func(ctx context.Context, yield func(int) bool) error {
		yield(1)
		return errBoom
	})
	var cause error
	err := asynciter.ToChan(t.Context(), failing, func(ctx context.Context, ch <-chan int) error {
		for range ch {
		}
		<-ctx.Done()
		cause = context.Cause(ctx)
		return nil
	})
	if err != errBoom || cause != errBoom {
		t.Fatalf("ToChan over a failing input = %v, body's cause %v; want errBoom, errBoom", err, cause)
	}
	err = asynciter.ToChan(t.Context(), asynciter.Generate(t.Context(), count(10, nil)), func(ctx context.Context, ch <-chan int) error {
		return errBody
	})
	if err != errBody {
		t.Fatalf("ToChan with a failing body = %v, want errBody", err)
	}
	v := mustPanic(t, func() {
		_ = asynciter.ToChan(t.Context(), asynciter.Generate(t.Context(), count(10, nil)), func(ctx context.Context, ch <-chan int) error {
			panic("body")
		})
	})
	if panicValue(t, v) != "body" {
		t.Fatalf("panic %v, want the body's", v)
	}
	mustPanicWith(t, "ToChan called with a nil body", func() { _ = asynciter.ToChan[int](t.Context(), asynciter.FromSeq(slices.Values([]int{1})), nil) })
}

// A stream must go on past failures: Settled carries fn's errors as items.
func TestSettledCarriesErrorsAsItems(t *testing.T) {
	for _, unordered := range []bool{false, true} {
		opts := []asynciter.Option{asynciter.WithLimit(3)}
		if unordered {
			opts = append(opts, asynciter.WithUnordered())
		}
		fn := func(ctx context.Context, x int) (int, error) {
			if x%3 == 0 {
				return -x, errBoom
			}
			return x * 10, nil
		}
		var values, failed []int
		for r, err := range asynciter.Map(t.Context(), slices.Values(ints(30)), asynciter.Settled(fn), opts...) {
			if err != nil {
				t.Fatalf("unordered=%v: the stream ended with %v", unordered, err)
			}
			if r.Err != nil {
				failed = append(failed, r.Value)
				continue
			}
			values = append(values, r.Value)
		}
		slices.Sort(values)
		slices.Sort(failed)
		if len(values) != 20 || len(failed) != 10 || failed[0] != -27 || values[19] != 290 {
			t.Fatalf("unordered=%v: %d values, %d failures (%v); want 20 and 10", unordered, len(values), len(failed), failed)
		}
	}
	// The stream's own error is still the end of ctx.
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
		defer cancel()
		slow := func(ctx context.Context, x int) (int, error) {
			time.Sleep(time.Millisecond)
			return x, nil
		}
		var last error
		var items int
		for r, err := range asynciter.Map(ctx, slices.Values(ints(1000)), asynciter.Settled(slow), asynciter.WithLimit(1)) {
			if err != nil {
				last = err
				continue
			}
			if r.Err == nil {
				items++
			}
		}
		if last != context.DeadlineExceeded || items == 0 || items > 6 {
			t.Fatalf("Map(Settled) as ctx ends: %d items, last error %v; want a few, then DeadlineExceeded", items, last)
		}
	})
	mustPanicWith(t, "Settled called with a nil function", func() { asynciter.Settled[int, int](nil) })
}

// stream returns a stream of the values from, from+1, ..., from+n-1, one
// every d, that ends with err if err is not nil.
func stream(from, n int, d time.Duration, err error) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			time.Sleep(d)
			if !yield(from+i, nil) {
				return
			}
		}
		if err != nil {
			yield(0, err)
		}
	}
}

// FromChan starts no goroutine: the loop's receives are the only reader.
func TestFromChanStartsNoGoroutine(t *testing.T) {
	ch := make(chan int, 3)
	ch <- 1
	ch <- 2
	close(ch)
	before := runtime.NumGoroutine()
	for range asynciter.FromChan(t.Context(), ch, asynciter.DrainOnStop) {
		if n := runtime.NumGoroutine(); n != before {
			t.Fatalf("%d goroutines in the loop, %d before it", n, before)
		}
	}
}

// ToChan returns the errors of both, combined as nursery.Run does, and
// re-raises a panic of in.
func TestToChanCombinesErrorsAndReraisesAPanicOfIn(t *testing.T) {
	errBody := errors.New("body failed")
	failing := func(yield func(int, error) bool) {
		yield(1, nil)
		yield(0, errBoom)
	}
	err := asynciter.ToChan(t.Context(), failing, func(ctx context.Context, ch <-chan int) error {
		for range ch {
		}
		return errBody // fails on its own, after in has failed
	})
	if !errors.Is(err, errBoom) || !errors.Is(err, errBody) {
		t.Fatalf("ToChan = %v, want both errors", err)
	}
	panicking := func(yield func(int, error) bool) {
		yield(1, nil)
		panic("in")
	}
	v := mustPanic(t, func() {
		_ = asynciter.ToChan(t.Context(), panicking, func(ctx context.Context, ch <-chan int) error {
			for range ch {
			}
			return nil
		})
	})
	if panicValue(t, v) != "in" {
		t.Fatalf("panic %v, want in's", v)
	}
}

// A call that ctx cut short comes as an item whose Err is ctx's error,
// before the stream ends with it; a panic of fn is not a value.
func TestSettledCutShortAndPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
		defer cancel()
		waits := func(ctx context.Context, x int) (int, error) {
			if x == 2 {
				<-ctx.Done()
				return 0, ctx.Err()
			}
			return x, nil
		}
		var items []error
		var last error
		for r, err := range asynciter.Map(ctx, slices.Values(ints(10)), asynciter.Settled(waits), asynciter.WithLimit(1)) {
			if err != nil {
				last = err
				continue
			}
			items = append(items, r.Err)
		}
		if len(items) != 3 || items[2] != context.DeadlineExceeded || last != context.DeadlineExceeded {
			t.Fatalf("items %v, last %v; want two values, the cut-short call's DeadlineExceeded, then the stream's", items, last)
		}
	})
	v := mustPanic(t, func() {
		for range asynciter.Map(t.Context(), slices.Values(ints(3)), asynciter.Settled(func(ctx context.Context, x int) (int, error) {
			panic("fn")
		})) {
		}
	})
	if panicValue(t, v) != "fn" {
		t.Fatalf("panic %v, want fn's", v)
	}
}
