//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/retry"
)

// While the downstream accepts at least 1/k of the requests of the window,
// the throttle refuses none.
func TestThrottleRefusesNothingWhileTheDownstreamAcceptsEnough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := retry.NewThrottle(2, 10*time.Second)
		for i := range 3000 {
			err := th.Do(bg, func(context.Context) error {
				if i%5 < 3 { // 60% accepted, and never less than half so far
					return nil
				}
				return errDown
			})
			if errors.Is(err, retry.ErrThrottled) {
				t.Fatalf("call %d refused with 60%% of the requests accepted, k=2", i)
			}
			time.Sleep(time.Millisecond)
		}
		if p := th.RefuseProbability(); p != 0 {
			t.Errorf("RefuseProbability() = %v, want 0", p)
		}
	})
}

// A downstream that is down: the throttle refuses with probability
// (requests - k·accepts)/(requests + 1), its own refusals counted as
// requests, and spares the downstream nearly all of them.
func TestThrottleSparesADownstreamThatIsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := retry.NewThrottle(2, 10*time.Second, seeded(1))
		reached, refused := 0, 0
		for range 10000 { // 1000 a second for 10s
			err := th.Do(bg, func(context.Context) error { reached++; return errDown })
			if errors.Is(err, retry.ErrThrottled) {
				refused++
				if !strings.HasPrefix(err.Error(), "retry: throttled by the client (k=2): ") {
					t.Fatalf("a refusal says %q", err)
				}
			}
			time.Sleep(time.Millisecond)
		}
		if reached+refused != 10000 {
			t.Fatalf("%d reached the downstream and %d were refused, of 10000", reached, refused)
		}
		// With no accepts, a request passes with probability 1/(requests+1):
		// about a harmonic sum, ln(10000) or so, over the whole run.
		if reached > 30 {
			t.Errorf("%d of 10000 requests reached a downstream that is down, want about ln(10000) (9)", reached)
		}
		if p := th.RefuseProbability(); math.Abs(p-10000.0/10001) > 0.001 {
			t.Errorf("RefuseProbability() = %v, want 10000/10001 (the requests of the window, none accepted)", p)
		}
	})
}

// When the downstream recovers, the throttle lets everything through again
// after about (window/k)·ln(requests in a window).
func TestThrottleNoticesTheRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := retry.NewThrottle(2, 2*time.Second, seeded(2))
		isDown := true
		call := func(context.Context) error {
			if isDown {
				return errDown
			}
			return nil
		}
		for range 4000 { // 1000 a second for 4s: down
			_ = th.Do(bg, call)
			time.Sleep(time.Millisecond)
		}
		isDown = false
		start := time.Now()
		for th.RefuseProbability() > 0 && time.Since(start) < 2*time.Minute {
			_ = th.Do(bg, call)
			time.Sleep(time.Millisecond)
		}
		// (2s/2)·ln(2000) = 7.6s, give or take the luck of the first
		// few calls let through.
		if d := time.Since(start); d < 2*time.Second || d > 30*time.Second {
			t.Errorf("the throttle let everything through again %v after the recovery, want about 7.6s", d)
		}
	})
}

// The caller's cancellation is not counted, nor is a panic, nor the
// refusal of a breaker further in; an error that FailureIf rejects is an
// accept.
func TestThrottleCountsOnlyTheDownstreamsRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		notFound := errors.New("404 Not Found")
		th := retry.NewThrottle(1, time.Minute, retry.FailureIf(func(err error) bool { return errors.Is(err, errDown) }), seeded(4))
		for range 100 {
			ctx, stop := context.WithCancel(bg)
			_ = th.Do(ctx, func(context.Context) error { stop(); return context.Canceled })
			if r := recoverPanic(func() { _ = th.Do(bg, func(context.Context) error { panic("boom") }) }); r != "boom" {
				t.Fatalf("Do's panic = %v, want the call's own", r)
			}
			_ = th.Do(bg, func(context.Context) error { return notFound })
		}
		if p := th.RefuseProbability(); p != 0 {
			t.Errorf("after cancellations, panics and 404s: RefuseProbability() = %v, want 0", p)
		}
		open := retry.NewBreaker(retry.ConsecutiveFailures(1))
		_ = open.Do(bg, down)
		for range 100 {
			_ = th.Do(bg, func(ctx context.Context) error { return open.Do(ctx, up) })
		}
		if p := th.RefuseProbability(); p != 0 {
			t.Errorf("after 100 refusals of an open breaker further in: RefuseProbability() = %v, want 0", p)
		}
		for range 100 {
			_ = th.Do(bg, down)
		}
		// 200 requests, 100 accepts, k=1: (200-100)/201.
		if p := th.RefuseProbability(); math.Abs(p-100.0/201) > 0.05 {
			t.Errorf("RefuseProbability() = %v, want about 100/201", p)
		}
	})
}

// retry.Do with a throttle: a refused attempt is retried like a failure,
// and does not drain a retry budget.
func TestDoWithThrottleRetriesRefusedAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A draw of 0 is under any probability above 0: every attempt is
		// refused, in every run (with math/rand's, 3 in 1000 runs let one
		// through).
		th := retry.NewThrottle(1, time.Minute, retry.ThrottleDraw(func() float64 { return 0 }))
		for range 1000 {
			_ = th.Do(bg, down)
		}
		budget := retry.NewBudget(10, 0.1)
		calls := 0
		err := retry.Do(bg, func(context.Context) error { calls++; return nil },
			retry.WithThrottle(th), retry.WithBudget(budget), retry.Attempts(3), retry.WithBackoff(retry.Constant(time.Millisecond)))
		if !errors.Is(err, retry.ErrThrottled) || !errors.Is(err, retry.ErrAttempts) || calls != 0 {
			t.Errorf("Do through a throttle refusing nearly all = %v after %d calls, want ErrThrottled and ErrAttempts, no call", err, calls)
		}
		if tokens := budget.Tokens(); tokens != 10 {
			t.Errorf("the budget holds %v tokens, want 10: the refusals are not the downstream's", tokens)
		}
	})
}

func TestThrottleBadInputPanicsNamingTheArgument(t *testing.T) {
	th := retry.NewThrottle(2, time.Second)
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"NewThrottle(0.5, 1s)", func() { retry.NewThrottle(0.5, time.Second) }, "NewThrottle(0.5, 1s): k must be at least 1"},
		{"NewThrottle(+Inf, 1s)", func() { retry.NewThrottle(math.Inf(1), time.Second) }, "NewThrottle(+Inf, 1s): k must be at least 1"},
		{"NewThrottle(NaN, 1s)", func() { retry.NewThrottle(math.NaN(), time.Second) }, "NewThrottle(NaN, 1s): k must be at least 1"},
		{"NewThrottle(2, 0)", func() { retry.NewThrottle(2, 0) }, "NewThrottle(2, 0s): the window must be positive"},
		{"NewThrottle(nil option)", func() { retry.NewThrottle(2, time.Second, nil) }, "nil ThrottleOption"},
		{"WithThrottle(nil)", func() { retry.WithThrottle(nil) }, "WithThrottle called with a nil *Throttle"},
		{"Do(nil ctx)", func() { _ = th.Do(nil, up) }, "Throttle.Do called with a nil context"}, //nolint:staticcheck // the point of the test
		{"Do(nil fn)", func() { _ = th.Do(bg, nil) }, "Throttle.Do called with a nil function"},
	}
	for _, tt := range tests {
		r := recoverPanic(tt.f)
		msg, _ := r.(string)
		if !strings.HasPrefix(msg, "retry: ") || !strings.Contains(msg, tt.want) {
			t.Errorf("%s panicked with %v, want a message with %q", tt.name, r, tt.want)
		}
	}
}

// A k closer to 1 spares the downstream more, and notices its recovery
// later; so does a longer window.
func TestThrottleSmallerKOrLongerWindowSparesMoreAndRecoversLater(t *testing.T) {
	spared := func(k float64) int { // calls refused while 40% are accepted
		refused := 0
		synctest.Test(t, func(t *testing.T) {
			th := retry.NewThrottle(k, 10*time.Second, seeded(3))
			for i := range 5000 {
				err := th.Do(bg, func(context.Context) error {
					if i%5 < 2 {
						return nil
					}
					return errDown
				})
				if errors.Is(err, retry.ErrThrottled) {
					refused++
				}
				time.Sleep(time.Millisecond)
			}
		})
		return refused
	}
	if a, b := spared(2), spared(1.1); b <= a {
		t.Errorf("with 40%% accepted, k=2 refused %d calls and k=1.1 %d, want more with k=1.1", a, b)
	}
	recovery := func(k float64, window time.Duration) time.Duration {
		var mean time.Duration
		for i := range 5 { // the first calls let through are luck: average 5 runs
			synctest.Test(t, func(t *testing.T) {
				th := retry.NewThrottle(k, window, seeded(10+uint64(i)))
				isDown := true
				call := func(context.Context) error {
					if isDown {
						return errDown
					}
					return nil
				}
				for end := time.Now().Add(2 * window); time.Now().Before(end); {
					_ = th.Do(bg, call)
					time.Sleep(time.Millisecond)
				}
				isDown = false
				start := time.Now()
				for th.RefuseProbability() > 0 && time.Since(start) < 5*time.Minute {
					_ = th.Do(bg, call)
					time.Sleep(time.Millisecond)
				}
				mean += time.Since(start) / 5
			})
		}
		return mean
	}
	base, smallK, longer := recovery(2, time.Second), recovery(1.1, time.Second), recovery(2, 4*time.Second)
	if smallK <= base || longer <= base {
		t.Errorf("recovered after %v with k=2 and a window of 1s, %v with k=1.1, %v with a window of 4s; want the last two later", base, smallK, longer)
	}
}

// seeded is a Throttle's draw from a source of its own, seeded: the same
// refusals in every run of a test.
func seeded(seed uint64) retry.ThrottleOption {
	return retry.ThrottleDraw(rand.New(rand.NewPCG(seed, 0x7407)).Float64)
}
