//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/retry"
)

var errDown = errors.New("503 Service Unavailable")

// down and up are calls that end at once: the downstream is down, or up.
func down(context.Context) error { return errDown }
func up(context.Context) error   { return nil }

// state is b.State() as a string, for messages.
func state(b *retry.Breaker) string { return b.State().String() }

func TestBreakerOpensAfterConsecutiveFailuresNamingTheCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker()
		for i := range 5 {
			if err := b.Do(bg, down); err != errDown {
				t.Fatalf("call %d = %v, want the call's own error", i+1, err)
			}
			if want := map[bool]string{true: "open", false: "closed"}[i == 4]; state(b) != want {
				t.Fatalf("after %d failures in a row: %s, want %s", i+1, state(b), want)
			}
		}
		called := false
		err := b.Do(bg, func(context.Context) error { called = true; return nil })
		if !errors.Is(err, retry.ErrOpen) || called {
			t.Fatalf("Do on an open breaker = %v (called: %v), want ErrOpen without a call", err, called)
		}
		if want := "retry: circuit breaker open for 5s more: opened by: 503 Service Unavailable"; err.Error() != want {
			t.Errorf("the refusal says %q, want %q", err, want)
		}
		time.Sleep(2 * time.Second)
		if err := b.Do(bg, up); !strings.Contains(err.Error(), "open for 3s more") {
			t.Errorf("2s later the refusal says %q, want it to say 3s more", err)
		}
	})
}

// A success in between resets the count of failures in a row.
func TestBreakerCountsOnlyFailuresInARow(t *testing.T) {
	b := retry.NewBreaker(retry.FailureRatio(0, 1))
	for range 10 {
		for range 4 {
			_ = b.Do(bg, down)
		}
		_ = b.Do(bg, up)
	}
	if state(b) != "closed" {
		t.Errorf("after 10 runs of 4 failures and a success: %s, want closed", state(b))
	}
}

func TestBreakerOpensOnTheFailureRatioOfItsWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker(retry.ConsecutiveFailures(0), retry.FailureRatio(0.5, 10), retry.Window(time.Second))
		// 9 calls, 5 failures: too few calls.
		for i := range 9 {
			if i%2 == 0 {
				_ = b.Do(bg, down)
			} else {
				_ = b.Do(bg, up)
			}
		}
		if state(b) != "closed" {
			t.Fatalf("after 9 calls: %s, want closed (fewer than 10 calls)", state(b))
		}
		_ = b.Do(bg, up)   // 10 calls, 5 failures: a half, but a success does not open it
		_ = b.Do(bg, down) // 11 calls, 6 failures
		if state(b) != "open" {
			t.Fatalf("after 11 calls, 6 failures: %s, want open", state(b))
		}
	})
}

// Calls older than the window are forgotten.
func TestBreakerWindowForgetsOldCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker(retry.ConsecutiveFailures(0), retry.FailureRatio(0.5, 4), retry.Window(time.Second))
		for range 3 {
			_ = b.Do(bg, down)
		}
		time.Sleep(1100 * time.Millisecond)
		_ = b.Do(bg, down) // 4 failures, but 3 of them a second old
		if state(b) != "closed" {
			t.Errorf("3 failures forgotten and 1 new: %s, want closed", state(b))
		}
		for range 3 {
			_ = b.Do(bg, down)
		}
		if state(b) != "open" {
			t.Errorf("4 failures within the window: %s, want open", state(b))
		}
	})
}

func TestBreakerWindowCallsCountsTheLastCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker(retry.ConsecutiveFailures(0), retry.FailureRatio(0.5, 4), retry.WindowCalls(4))
		_ = b.Do(bg, down)
		time.Sleep(time.Hour) // however old
		for range 8 {
			_ = b.Do(bg, up)
		}
		_ = b.Do(bg, down)
		if state(b) != "closed" {
			t.Fatalf("1 failure in the last 4 calls: %s, want closed", state(b))
		}
		_ = b.Do(bg, down)
		if state(b) != "open" {
			t.Errorf("2 failures in the last 4 calls: %s, want open", state(b))
		}
	})
}

func TestBreakerCountsSlowCallsAsFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker(retry.ConsecutiveFailures(2), retry.SlowCall(100*time.Millisecond))
		slow := func(context.Context) error { time.Sleep(150 * time.Millisecond); return nil }
		if err := b.Do(bg, slow); err != nil {
			t.Fatalf("a slow call = %v, want its own nil", err)
		}
		_ = b.Do(bg, slow)
		err := b.Do(bg, up)
		if !errors.Is(err, retry.ErrOpen) || !strings.Contains(err.Error(), "opened by: slow call: took 150ms, more than 100ms") {
			t.Errorf("after 2 slow calls: %v, want ErrOpen naming the slow call", err)
		}
	})
}

// After its open time the breaker is half-open, reported so without a call;
// it lets 3 probes through at once and no more, and closes when the 3
// succeed.
func TestBreakerHalfOpenLetsItsProbesThroughThenCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker(retry.ConsecutiveFailures(1), retry.OpenFor(time.Second))
		_ = b.Do(bg, down)
		time.Sleep(999 * time.Millisecond)
		if state(b) != "open" {
			t.Fatalf("1ms before its open time: %s, want open", state(b))
		}
		time.Sleep(time.Millisecond)
		if state(b) != "half-open" {
			t.Fatalf("at its open time: %s, want half-open", state(b))
		}
		release := make(chan struct{})
		var admitted atomic.Int32
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				err := b.Do(bg, func(context.Context) error {
					admitted.Add(1)
					<-release
					return nil
				})
				if err != nil && !errors.Is(err, retry.ErrOpen) {
					t.Errorf("Do half-open = %v", err)
				}
			})
		}
		synctest.Wait()
		if n := admitted.Load(); n != 3 {
			t.Errorf("%d calls let through half-open, want 3 (the probes)", n)
		}
		err := b.Do(bg, up)
		if want := "retry: circuit breaker half-open, its probes in flight: opened by: 503 Service Unavailable"; err == nil || err.Error() != want {
			t.Errorf("a fourth call half-open: %v, want %q", err, want)
		}
		close(release)
		wg.Wait()
		if state(b) != "closed" {
			t.Errorf("after 3 probes succeeded: %s, want closed", state(b))
		}
	})
}

func TestBreakerHalfOpenOpensAgainWhenTooManyProbesFail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker(retry.ConsecutiveFailures(1), retry.OpenFor(time.Second), retry.HalfOpen(3, 2))
		_ = b.Do(bg, down)
		time.Sleep(time.Second)
		_ = b.Do(bg, down) // 1 failure of 3 probes: 2 may still succeed
		if state(b) != "half-open" {
			t.Fatalf("1 probe of 3 failed, 2 needed: %s, want half-open", state(b))
		}
		_ = b.Do(bg, up)
		_ = b.Do(bg, down) // 2 failures: 2 successes out of reach
		if state(b) != "open" {
			t.Fatalf("2 probes of 3 failed, 2 needed: %s, want open", state(b))
		}
		time.Sleep(time.Second)
		_ = b.Do(bg, up)
		_ = b.Do(bg, down)
		_ = b.Do(bg, up)
		if state(b) != "closed" {
			t.Errorf("2 probes of 3 succeeded: %s, want closed", state(b))
		}
	})
}

// A probe whose caller gives up gives its place to another call.
func TestBreakerAbandonedProbeGivesItsPlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker(retry.ConsecutiveFailures(1), retry.OpenFor(time.Second), retry.HalfOpen(1, 1))
		_ = b.Do(bg, down)
		time.Sleep(time.Second)
		ctx, stop := context.WithCancel(bg)
		go func() {
			time.Sleep(10 * time.Millisecond)
			stop()
		}()
		if err := b.Do(ctx, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }); err != context.Canceled {
			t.Fatalf("an abandoned probe = %v, want context.Canceled", err)
		}
		if err := b.Do(bg, up); err != nil {
			t.Fatalf("the next call = %v, want it let through as the probe", err)
		}
		if state(b) != "closed" {
			t.Errorf("after the probe succeeded: %s, want closed", state(b))
		}
	})
}

// The caller's cancellation is not a failure; a deadline is (the
// downstream was too slow); a panic is not counted and goes up.
func TestBreakerCountsDeadlinesButNotCancellationsNorPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker(retry.ConsecutiveFailures(2), retry.FailureRatio(0, 1))
		for range 5 {
			ctx, stop := context.WithCancel(bg)
			_ = b.Do(ctx, func(context.Context) error { stop(); return fmt.Errorf("wrapped: %w", context.Canceled) })
			if r := recoverPanic(func() { _ = b.Do(bg, func(context.Context) error { panic("boom") }) }); r != "boom" {
				t.Fatalf("Do's panic = %v, want the call's own", r)
			}
		}
		if state(b) != "closed" {
			t.Fatalf("after cancellations and panics: %s, want closed", state(b))
		}
		for range 2 {
			ctx, stop := context.WithTimeout(bg, time.Millisecond)
			_ = b.Do(ctx, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
			stop()
		}
		if state(b) != "open" {
			t.Errorf("after 2 deadlines: %s, want open", state(b))
		}
	})
}

// Calls that another breaker refused never reached the downstream: they
// are not failures.
func TestBreakerDoesNotCountTheRefusalsOfAnother(t *testing.T) {
	inner := retry.NewBreaker(retry.ConsecutiveFailures(1))
	_ = inner.Do(bg, down)
	outer := retry.NewBreaker(retry.ConsecutiveFailures(2))
	for range 10 {
		if err := outer.Do(bg, func(ctx context.Context) error { return inner.Do(ctx, down) }); !errors.Is(err, retry.ErrOpen) {
			t.Fatalf("through an open inner breaker: %v, want its ErrOpen", err)
		}
	}
	if state(outer) != "closed" {
		t.Errorf("the outer breaker after 10 refusals of the inner one: %s, want closed", state(outer))
	}
}

func TestBreakerFailureIfNarrowsTheFailures(t *testing.T) {
	notFound := errors.New("404 Not Found")
	b := retry.NewBreaker(retry.ConsecutiveFailures(2), retry.FailureIf(func(err error) bool { return errors.Is(err, errDown) }))
	for range 5 {
		_ = b.Do(bg, func(context.Context) error { return notFound })
	}
	if state(b) != "closed" {
		t.Fatalf("after 5 errors FailureIf rejects: %s, want closed", state(b))
	}
	_ = b.Do(bg, down)
	_ = b.Do(bg, down)
	if state(b) != "open" {
		t.Errorf("after 2 failures: %s, want open", state(b))
	}
}

func TestBreakerReportsEveryChangeInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []string
		b := retry.NewBreaker(retry.ConsecutiveFailures(1), retry.OpenFor(time.Second), retry.HalfOpen(1, 1),
			retry.OnStateChange(func(from, to retry.BreakerState) { got = append(got, from.String()+"→"+to.String()) }))
		_ = b.Do(bg, down)
		time.Sleep(time.Second)
		_ = b.Do(bg, down)
		time.Sleep(time.Second)
		_ = b.Do(bg, up)
		want := "closed→open open→half-open half-open→open open→half-open half-open→closed"
		if strings.Join(got, " ") != want {
			t.Errorf("changes reported: %q, want %q", strings.Join(got, " "), want)
		}
	})
}

// An OnStateChange that panics when a call moves the breaker to half-open:
// the panic reaches the caller of Do, the probe and the throttle's request
// that the call took are given back, and the next changes are reported.
func TestBreakerPanickingOnStateChangeGivesTheProbeBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []string
		panicked := false
		b := retry.NewBreaker(retry.ConsecutiveFailures(1), retry.OpenFor(time.Second), retry.HalfOpen(1, 1), retry.CancelOnOpen(),
			retry.OnStateChange(func(from, to retry.BreakerState) {
				got = append(got, from.String()+"→"+to.String())
				if to == retry.BreakerHalfOpen && !panicked {
					panicked = true
					panic("callback boom")
				}
			}))
		th := retry.NewThrottle(2, time.Minute)
		_ = b.Do(bg, down)
		time.Sleep(time.Second)
		called := false
		r := recoverPanic(func() {
			_ = retry.Do(bg, func(context.Context) error { called = true; return nil },
				retry.WithBreaker(b), retry.WithThrottle(th), retry.Attempts(1))
		})
		if r != "callback boom" {
			t.Fatalf("Do's panic = %v, want OnStateChange's", r)
		}
		if called {
			t.Error("fn was called although OnStateChange panicked before it")
		}
		if p := th.RefuseProbability(); p != 0 {
			t.Errorf("the throttle's reject probability = %v, want 0: the call was not made", p)
		}
		if err := b.Do(bg, up); err != nil {
			t.Fatalf("the next call = %v, want it let through as the probe", err)
		}
		if state(b) != "closed" {
			t.Errorf("after the probe succeeded: %s, want closed", state(b))
		}
		want := "closed→open open→half-open half-open→closed"
		if strings.Join(got, " ") != want {
			t.Errorf("changes reported: %q, want %q", strings.Join(got, " "), want)
		}
	})
}

// An OnStateChange that panics when a call's outcome opens the breaker:
// the panic reaches the caller of Do, and the changes after it are still
// reported.
func TestBreakerReportsChangesAfterOnStateChangePanicked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []string
		b := retry.NewBreaker(retry.ConsecutiveFailures(1), retry.OpenFor(time.Second),
			retry.OnStateChange(func(from, to retry.BreakerState) {
				got = append(got, from.String()+"→"+to.String())
				if len(got) == 1 {
					panic("callback boom")
				}
			}))
		if r := recoverPanic(func() { _ = b.Do(bg, down) }); r != "callback boom" {
			t.Fatalf("Do's panic = %v, want OnStateChange's", r)
		}
		if state(b) != "open" {
			t.Fatalf("after the failure: %s, want open", state(b))
		}
		time.Sleep(time.Second)
		if state(b) != "half-open" {
			t.Fatalf("at its open time: %s, want half-open", state(b))
		}
		want := "closed→open open→half-open"
		if strings.Join(got, " ") != want {
			t.Errorf("changes reported: %q, want %q", strings.Join(got, " "), want)
		}
	})
}

// Under CancelOnOpen, the calls in flight when the breaker opens are
// cancelled at once, and their Do says why.
func TestBreakerCancelOnOpenCancelsTheCallsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker(retry.ConsecutiveFailures(1), retry.CancelOnOpen())
		var wg sync.WaitGroup
		errs := make([]error, 3)
		start := time.Now()
		for i := range errs {
			wg.Go(func() {
				errs[i] = b.Do(bg, func(ctx context.Context) error {
					select {
					case <-time.After(time.Minute): // a call that hangs
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				})
			})
		}
		synctest.Wait()
		_ = b.Do(bg, func(context.Context) error {
			time.Sleep(10 * time.Millisecond)
			return errDown
		})
		wg.Wait()
		if d := time.Since(start); d != 10*time.Millisecond {
			t.Errorf("the calls in flight returned after %v, want 10ms (when the breaker opened)", d)
		}
		for i, err := range errs {
			if !errors.Is(err, retry.ErrOpen) || !strings.Contains(err.Error(), "opened by: 503 Service Unavailable") {
				t.Errorf("call %d in flight = %v, want ErrOpen naming the failure", i, err)
			}
		}
	})
}

// retry.Do with a breaker waits the time the breaker stays open, then
// probes it.
func TestDoWithBreakerWaitsTheOpenTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker(retry.ConsecutiveFailures(2), retry.OpenFor(3*time.Second), retry.HalfOpen(1, 1))
		calls := 0
		var at []time.Duration
		start := time.Now()
		err := retry.Do(bg, func(context.Context) error {
			calls++
			at = append(at, time.Since(start))
			if calls <= 2 {
				return errDown
			}
			return nil
		}, retry.WithBreaker(b), retry.WithBackoff(retry.Constant(100*time.Millisecond)), retry.Attempts(5))
		if err != nil {
			t.Fatalf("Do = %v, want nil", err)
		}
		// Two failures (the second opens the breaker at 100ms), a refusal
		// at 200ms with a hint of 2.9s, the probe at 3.1s.
		if fmt.Sprint(at) != "[0s 100ms 3.1s]" {
			t.Errorf("fn called at %v, want [0s 100ms 3.1s]", at)
		}
		if state(b) != "closed" {
			t.Errorf("after the probe succeeded: %s, want closed", state(b))
		}
	})
}

// Attempts used up while the breaker stays open: Do says so, and why.
func TestDoWithBreakerGivesUpSayingWhy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker(retry.ConsecutiveFailures(1), retry.OpenFor(time.Minute))
		budget := retry.NewBudget(10, 0.1)
		err := retry.Do(bg, down, retry.WithBreaker(b), retry.Attempts(3), retry.MaxHint(time.Second), retry.WithBudget(budget),
			retry.WithBackoff(retry.Constant(100*time.Millisecond)))
		if !errors.Is(err, retry.ErrAttempts) || !errors.Is(err, retry.ErrOpen) {
			t.Fatalf("Do = %v, want ErrAttempts and ErrOpen", err)
		}
		// Opened at 0s; refused at 100ms (the backoff), and at 1.1s
		// (the hint of 59.9s, capped by MaxHint).
		want := "retry: attempts exhausted after 3 attempts: retry: circuit breaker open for 58.9s more: opened by: 503 Service Unavailable"
		if err.Error() != want {
			t.Errorf("Do's error says %q, want %q", err, want)
		}
		if tokens := budget.Tokens(); tokens != 9 {
			t.Errorf("the budget holds %v tokens, want 9: the refusals are not the downstream's failures", tokens)
		}
	})
}

// A nursery's tasks call one downstream through one breaker: the first
// failure opens it, and the calls after fail at once, each naming the
// failure that opened it, instead of each waiting for its own timeout.
// Without collect-all, Run returns one error, which names the cause.
func TestBreakerFailsTheRestOfANurseryFastNamingTheCause(t *testing.T) {
	slow := func(ctx context.Context) error { // answers after 1s, with an error
		select {
		case <-time.After(time.Second):
			return errDown
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker(retry.ConsecutiveFailures(1))
		start := time.Now()
		err := nursery.Run(bg, func(ctx context.Context, n *nursery.Nursery) error {
			for range 20 {
				n.Go(func(ctx context.Context) error { return b.Do(ctx, slow) })
			}
			return nil
		}, nursery.WithLimit(2), nursery.WithCollectAll())
		errs := multierr.Errors(err)
		opened := 0
		for _, e := range errs {
			if errors.Is(e, retry.ErrOpen) {
				opened++
				if !strings.Contains(e.Error(), "opened by: 503 Service Unavailable") {
					t.Errorf("a refusal says %q, want it to name the failure", e)
				}
			}
		}
		if len(errs) != 20 || opened != 18 {
			t.Errorf("Run returned %d errors, %d of them refusals, want 20 and 18", len(errs), opened)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("Run took %v, want 1s (the first two calls failed, the rest were refused at once)", d)
		}

		b = retry.NewBreaker(retry.ConsecutiveFailures(2))
		err = nursery.Run(bg, func(ctx context.Context, n *nursery.Nursery) error {
			for range 20 {
				n.Go(func(ctx context.Context) error { return b.Do(ctx, slow) })
			}
			return nil
		}, nursery.WithLimit(2))
		if !errors.Is(err, errDown) || len(multierr.Errors(err)) != 1 {
			t.Errorf("Run without collect-all = %v, want one error, the downstream's", err)
		}
	})
}

func TestBreakerBadInputPanicsNamingTheArgument(t *testing.T) {
	b := retry.NewBreaker()
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"ConsecutiveFailures(-1)", func() { retry.ConsecutiveFailures(-1) }, "ConsecutiveFailures(-1)"},
		{"FailureRatio(1.5, 10)", func() { retry.FailureRatio(1.5, 10) }, "FailureRatio(1.5, 10)"},
		{"FailureRatio(0.5, 0)", func() { retry.FailureRatio(0.5, 0) }, "FailureRatio(0.5, 0)"},
		{"Window(0)", func() { retry.Window(0) }, "Window(0s)"},
		{"WindowCalls(0)", func() { retry.WindowCalls(0) }, "WindowCalls(0)"},
		{"SlowCall(0)", func() { retry.SlowCall(0) }, "SlowCall(0s)"},
		{"OpenFor(-1s)", func() { retry.OpenFor(-time.Second) }, "OpenFor(-1s)"},
		{"HalfOpen(2, 3)", func() { retry.HalfOpen(2, 3) }, "HalfOpen(2, 3)"},
		{"HalfOpen(2, 0)", func() { retry.HalfOpen(2, 0) }, "HalfOpen(2, 0)"},
		{"FailureIf(nil)", func() { retry.FailureIf(nil) }, "FailureIf called with a nil function"},
		{"OnStateChange(nil)", func() { retry.OnStateChange(nil) }, "OnStateChange called with a nil function"},
		{"NewBreaker(nil)", func() { retry.NewBreaker(nil) }, "nil BreakerOption"},
		{"WithBreaker(nil)", func() { retry.WithBreaker(nil) }, "WithBreaker called with a nil *Breaker"},
		{"Do(nil ctx)", func() { _ = b.Do(nil, up) }, "Breaker.Do called with a nil context"}, //nolint:staticcheck // the point of the test
		{"Do(nil fn)", func() { _ = b.Do(bg, nil) }, "Breaker.Do called with a nil function"},
	}
	for _, tt := range tests {
		r := recoverPanic(tt.f)
		msg, _ := r.(string)
		if !strings.HasPrefix(msg, "retry: ") || !strings.Contains(msg, tt.want) {
			t.Errorf("%s panicked with %v, want a message with %q", tt.name, r, tt.want)
		}
	}
}

// The defaults: half of at least 20 calls of the last 10 seconds open the
// breaker; 3 probes, any failure among them opens it again.
func TestBreakerDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker()
		for i := range 19 { // 10 failures in 19 calls, never 5 in a row
			if i%2 == 0 {
				_ = b.Do(bg, down)
			} else {
				_ = b.Do(bg, up)
			}
		}
		if state(b) != "closed" {
			t.Fatalf("10 failures in 19 calls: %s, want closed (fewer than 20 calls)", state(b))
		}
		time.Sleep(10 * time.Second) // the window forgets them
		for i := range 20 {
			if i%2 == 0 {
				_ = b.Do(bg, up)
			} else {
				_ = b.Do(bg, down)
			}
		}
		if state(b) != "open" {
			t.Fatalf("10 failures in the last 20 calls: %s, want open", state(b))
		}
		time.Sleep(5 * time.Second)
		_ = b.Do(bg, up)
		_ = b.Do(bg, up)
		_ = b.Do(bg, down)
		if state(b) != "open" {
			t.Errorf("2 probes succeeded and the third failed: %s, want open again", state(b))
		}
	})
}

// MaxElapsed reached while the breaker stays open: Do says so, and why.
func TestDoWithBreakerGivesUpAtMaxElapsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker(retry.ConsecutiveFailures(1), retry.OpenFor(time.Minute))
		start := time.Now()
		err := retry.Do(bg, down, retry.WithBreaker(b), retry.Attempts(100), retry.MaxElapsed(3*time.Second),
			retry.WithBackoff(retry.Constant(100*time.Millisecond)))
		if !errors.Is(err, retry.ErrMaxElapsed) || !errors.Is(err, retry.ErrOpen) {
			t.Fatalf("Do = %v, want ErrMaxElapsed and ErrOpen", err)
		}
		// The hint reaches past MaxElapsed: Do waits until it, and tries
		// once more.
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("Do gave up after %v, want 3s (MaxElapsed)", d)
		}
	})
}

// A FailureIf that panics: the panic reaches the caller of Do, and the
// breaker stays usable (it ran under the breaker's lock, which the panic
// left locked: every later call hung); a half-open probe gives its place.
func TestBreakerSurvivesAPanickingFailureIf(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBreaker(retry.ConsecutiveFailures(1), retry.HalfOpen(1, 1),
			retry.FailureIf(func(err error) bool {
				if err.Error() == "odd" {
					panic("FailureIf broke")
				}
				return true
			}))
		if r := recoverPanic(func() { _ = b.Do(bg, func(context.Context) error { return errors.New("odd") }) }); r != "FailureIf broke" {
			t.Fatalf("Do's panic = %v, want FailureIf's", r)
		}
		if err := b.Do(bg, up); err != nil {
			t.Fatalf("Do after the panic = %v, want nil", err)
		}
		_ = b.Do(bg, down) // opens it
		time.Sleep(time.Minute)
		if r := recoverPanic(func() { _ = b.Do(bg, func(context.Context) error { return errors.New("odd") }) }); r != "FailureIf broke" {
			t.Fatalf("the probe's panic = %v, want FailureIf's", r)
		}
		if err := b.Do(bg, up); err != nil {
			t.Errorf("a probe after the panicking one = %v, want nil: the panicking probe kept its place", err)
		}
	})
}
