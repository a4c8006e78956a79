//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/nursery"
)

// after returns a function that sleeps d (or until cancelled) and returns v.
func after[T any](d time.Duration, v T) func(context.Context) (T, error) {
	return func(ctx context.Context) (T, error) {
		if err := sleep(ctx, d); err != nil {
			var zero T
			return zero, err
		}
		return v, nil
	}
}

func failAfter[T any](d time.Duration, err error) func(context.Context) (T, error) {
	return func(ctx context.Context) (T, error) {
		var zero T
		if e := sleep(ctx, d); e != nil {
			return zero, e
		}
		return zero, err
	}
}

// S73: Gather returns values in argument order.
func TestGatherOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got, err := nursery.Gather(t.Context(),
			after(30*time.Millisecond, "a"), after(10*time.Millisecond, "b"), after(20*time.Millisecond, "c"))
		if err != nil || fmt.Sprint(got) != "[a b c]" {
			t.Fatalf("Gather() = %v, %v; want [a b c], nil", got, err)
		}
	})
}

// S74: Gather with no functions returns an empty, non-nil slice, even with a
// cancelled ctx.
func TestGatherEmpty(t *testing.T) {
	ctx, stop := context.WithCancel(t.Context())
	stop()
	got, err := nursery.Gather[int](ctx)
	if got == nil || len(got) != 0 || err != nil {
		t.Fatalf("Gather() = %#v, %v; want []int{}, nil", got, err)
	}
}

// S75: Gather fails fast: the first error cancels the rest, and only real
// errors come back, with nil values.
func TestGatherFailFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		got, err := nursery.Gather(t.Context(), after(time.Hour, 1), failAfter[int](10*time.Millisecond, errB))
		if got != nil || err != errB {
			t.Fatalf("Gather() = %v, %v; want nil, errB alone", got, err)
		}
		if time.Since(t0) != 10*time.Millisecond {
			t.Fatalf("Gather returned after %v, want 10ms", time.Since(t0))
		}
	})
}

// S76: AllSettled cancels nothing and returns every outcome in order; a
// failure in the middle does not drop later results (sourcegraph/conc#156).
func TestAllSettled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got, err := nursery.AllSettled(t.Context(),
			after(10*time.Millisecond, 1), failAfter[int](time.Millisecond, errB), after(20*time.Millisecond, 3))
		if err != nil {
			t.Fatalf("AllSettled() error = %v, want nil", err)
		}
		want := []nursery.Result[int]{{Value: 1}, {Err: errB}, {Value: 3}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("AllSettled() = %v, want %v", got, want)
		}
	})
}

// S76: parent cancellation reaches every unfinished function; their slots
// hold their errors and AllSettled returns the parent's error.
func TestAllSettledParentCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer stop()
		got, err := nursery.AllSettled(ctx, after(10*time.Millisecond, 1), after(time.Hour, 2))
		if err != context.DeadlineExceeded {
			t.Fatalf("AllSettled() error = %v, want DeadlineExceeded", err)
		}
		if got[0].Value != 1 || got[0].Err != nil || got[1].Err != context.DeadlineExceeded {
			t.Fatalf("AllSettled() = %v, want [{1 <nil>} {0 deadline}]", got)
		}
	})
}

// S77: Race returns the first success, not the first failure, cancels the
// losers and waits for them.
func TestRaceFirstSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var loserExited atomic.Bool
		t0 := time.Now()
		got, err := nursery.Race(t.Context(),
			failAfter[string](time.Millisecond, errA),
			after(100*time.Millisecond, "foo"),
			func(ctx context.Context) (string, error) {
				defer loserExited.Store(true)
				<-ctx.Done()
				return "", ctx.Err()
			})
		if got != "foo" || err != nil || time.Since(t0) != 100*time.Millisecond {
			t.Fatalf("Race() = %q, %v after %v; want foo, nil after 100ms", got, err, time.Since(t0))
		}
		if !loserExited.Load() {
			t.Fatal("Race returned before a loser exited")
		}
	})
}

// S77: a zero value with a nil error is a win.
func TestRaceZeroValueWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got, err := nursery.Race(t.Context(), after(time.Millisecond, (*int)(nil)), after(time.Hour, new(int)))
		if got != nil || err != nil {
			t.Fatalf("Race() = %v, %v; want nil, nil", got, err)
		}
	})
}

// S78: all failing → every error; no functions → ErrNoTasks.
func TestRaceAllFailAndEmpty(t *testing.T) {
	_, err := nursery.Race(t.Context(), failAfter[int](0, errA), failAfter[int](0, errB))
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Fatalf("Race(all failing) = %v, want errA and errB", err)
	}
	ctx, stop := context.WithCancel(t.Context())
	stop()
	if _, err := nursery.Race[int](ctx); !errors.Is(err, nursery.ErrNoTasks) {
		t.Fatalf("Race() with no functions = %v, want ErrNoTasks", err)
	}
}

// S79: the helpers honour parent cancellation: they return the parent's
// error after joining; with a done ctx they call nothing.
func TestHelpersParentCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithTimeout(t.Context(), time.Second)
		defer stop()
		var running atomic.Int64
		slow := func(ctx context.Context) (int, error) {
			running.Add(1)
			defer running.Add(-1)
			<-ctx.Done()
			return 0, ctx.Err()
		}
		if _, err := nursery.Gather(ctx, slow, slow); err != context.DeadlineExceeded {
			t.Errorf("Gather() = %v, want DeadlineExceeded", err)
		}
		if _, err := nursery.Race(ctx, slow, slow); err != context.DeadlineExceeded {
			t.Errorf("Race() = %v, want DeadlineExceeded", err)
		}
		if running.Load() != 0 {
			t.Errorf("%d functions still running", running.Load())
		}

		var called atomic.Bool
		never := func(ctx context.Context) (int, error) { called.Store(true); return 1, nil }
		if _, err := nursery.Gather(ctx, never); err != context.DeadlineExceeded {
			t.Errorf("Gather(done ctx) = %v", err)
		}
		if _, err := nursery.Race(ctx, never); err != context.DeadlineExceeded {
			t.Errorf("Race(done ctx) = %v", err)
		}
		res, err := nursery.AllSettled(ctx, never, never)
		if err != context.DeadlineExceeded || res[0].Err != err || res[1].Err != err {
			t.Errorf("AllSettled(done ctx) = %v, %v", res, err)
		}
		n := 0
		for _, r := range nursery.AsCompleted(ctx, never, never) {
			if r.Err != context.DeadlineExceeded {
				t.Errorf("AsCompleted(done ctx) yielded %v", r)
			}
			n++
		}
		if n != 2 || called.Load() {
			t.Errorf("AsCompleted(done ctx) yielded %d items, called=%v; want 2, false", n, called.Load())
		}
	})
}

// S80: AsCompleted yields in completion order, once per function, and a
// failure does not cancel the others.
func TestAsCompletedOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var order []int
		var results []nursery.Result[string]
		for i, r := range nursery.AsCompleted(t.Context(),
			after(20*time.Millisecond, "x"), failAfter[string](30*time.Millisecond, errA), after(10*time.Millisecond, "z")) {
			order = append(order, i)
			results = append(results, r)
		}
		if fmt.Sprint(order) != "[2 0 1]" {
			t.Fatalf("order = %v, want [2 0 1]", order)
		}
		if results[0].Value != "z" || results[1].Value != "x" || results[2].Err != errA {
			t.Fatalf("results = %v", results)
		}
	})
}

// S81: breaking out of the loop cancels the rest, and the loop statement
// ends only after they have returned.
func TestAsCompletedBreak(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var exited atomic.Int64
		slow := func(ctx context.Context) (int, error) {
			defer exited.Add(1)
			<-ctx.Done()
			return 0, ctx.Err()
		}
		for _, r := range nursery.AsCompleted(t.Context(), slow, after(time.Millisecond, 1), slow) {
			if r.Value != 1 {
				t.Fatalf("first result = %v, want 1", r)
			}
			break
		}
		if exited.Load() != 2 {
			t.Fatalf("%d of 2 remaining functions had returned when the loop ended", exited.Load())
		}
	})
}

// S82: parent cancelled after one of three completes: two more items with
// context errors, three in all.
func TestAsCompletedParentCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithCancel(t.Context())
		defer stop()
		var errs []error
		for _, r := range nursery.AsCompleted(ctx, after(time.Millisecond, 1), after(time.Hour, 2), after(time.Hour, 3)) {
			errs = append(errs, r.Err)
			stop()
		}
		if len(errs) != 3 || errs[0] != nil || errs[1] != context.Canceled || errs[2] != context.Canceled {
			t.Fatalf("errors yielded = %v, want [nil Canceled Canceled]", errs)
		}
	})
}

// A panic in a function, or in the loop body, comes back to the loop's
// goroutine after every function has returned.
func TestAsCompletedPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var exited atomic.Int64
		slow := func(ctx context.Context) (int, error) {
			defer exited.Add(1)
			<-ctx.Done()
			return 0, ctx.Err()
		}
		boom := func(ctx context.Context) (int, error) { panic("in fn") }
		r := recoverPanic(func() {
			for range nursery.AsCompleted(t.Context(), slow, boom) {
			}
		})
		if p, ok := r.(*nursery.PanicError); !ok || p.Value != "in fn" || exited.Load() != 1 {
			t.Fatalf("panic %v with %d exited, want PanicError{in fn} after 1 exited", r, exited.Load())
		}
		r = recoverPanic(func() {
			for range nursery.AsCompleted(t.Context(), slow, after(time.Millisecond, 1)) {
				panic("in loop")
			}
		})
		if p, ok := r.(*nursery.PanicError); !ok || p.Value != "in loop" || exited.Load() != 2 {
			t.Fatalf("panic %v with %d exited, want PanicError{in loop} after 2 exited", r, exited.Load())
		}
	})
}

// Helpers re-panic a function's panic.
func TestHelpersPanic(t *testing.T) {
	boom := func(ctx context.Context) (int, error) { panic("helper") }
	for name, call := range map[string]func(){
		"Gather":     func() { _, _ = nursery.Gather(t.Context(), boom) },
		"AllSettled": func() { _, _ = nursery.AllSettled(t.Context(), boom) },
		"Race":       func() { _, _ = nursery.Race(t.Context(), boom) },
	} {
		if p, ok := recoverPanic(call).(*nursery.PanicError); !ok || p.Value != "helper" {
			t.Errorf("%s did not re-panic with the function's panic", name)
		}
	}
}
