//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/retry"
	"github.com/structured-go/structured/timeout"
)

// failing returns a function that fails n times, then succeeds, counting
// its calls in *calls and noting when each call happened.
func failing(n int, calls *int, at *[]time.Duration, start time.Time) func(context.Context) error {
	return func(context.Context) error {
		*calls++
		if at != nil {
			*at = append(*at, time.Since(start))
		}
		if *calls <= n {
			return fmt.Errorf("call %d: %w", *calls, errFlaky)
		}
		return nil
	}
}

// S83
func TestDoStopsAtFirstSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		err := retry.Do(bg, failing(2, &calls, nil, time.Now()))
		if err != nil || calls != 3 {
			t.Fatalf("Do(fails twice) = %v after %d calls, want nil after 3", err, calls)
		}
	})
}

// S83
func TestDoValueReturnsTheSucceedingValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		v, err := retry.DoValue(bg, func(context.Context) (int, error) {
			calls++
			if calls < 3 {
				return -calls, errFlaky
			}
			return calls * 10, nil
		}, retry.WithBackoff(retry.Constant(time.Second)))
		if v != 30 || err != nil || calls != 3 {
			t.Fatalf("DoValue = %d, %v after %d calls, want 30, nil after 3", v, err, calls)
		}
	})
}

// S84
func TestAttemptsCountsCallsWithNoSleepAfterTheLast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		calls := 0
		err := retry.Do(bg, func(context.Context) error {
			calls++
			if calls == 3 {
				return errLast
			}
			return errFlaky
		}, retry.Attempts(3), retry.WithBackoff(retry.Constant(time.Second)))
		if calls != 3 {
			t.Errorf("calls = %d, want 3", calls)
		}
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("Do returned after %v, want 2s (two sleeps, none after the last attempt)", got)
		}
		if !errors.Is(err, errLast) || !errors.Is(err, retry.ErrAttempts) {
			t.Errorf("err = %v, want it to match errLast and ErrAttempts", err)
		}
		if errors.Is(err, errFlaky) {
			t.Errorf("err = %v matches an earlier attempt's error; only the last one should", err)
		}
		var re *retry.Error
		if !errors.As(err, &re) || re.Attempts != 3 || re.Err != errLast {
			t.Errorf("err = %#v, want an *Error with Attempts 3 and Err errLast", err)
		}
	})
}

// S84
func TestAttemptsOneNeverRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		calls := 0
		err := retry.Do(bg, func(context.Context) error { calls++; return errLast }, retry.Attempts(1))
		if calls != 1 || time.Since(start) != 0 || !errors.Is(err, retry.ErrAttempts) || !errors.Is(err, errLast) {
			t.Fatalf("Do(Attempts(1)) = %v after %d calls and %v, want ErrAttempts+errLast after 1 call at once", err, calls, time.Since(start))
		}
	})
}

// The defaults are finite: an error that never clears costs 4 calls.
func TestDefaultsAreFinite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		calls := 0
		var delays []time.Duration
		err := retry.Do(bg, func(context.Context) error { calls++; return errLast },
			retry.OnRetry(func(_ int, _ error, d time.Duration) { delays = append(delays, d) }))
		if calls != 4 || !errors.Is(err, retry.ErrAttempts) {
			t.Fatalf("Do with the defaults = %v after %d calls, want ErrAttempts after 4", err, calls)
		}
		var total time.Duration
		for i, d := range delays {
			if limit := 100 * time.Millisecond << i; d < 0 || d > limit {
				t.Errorf("default delay %d = %v, want it in [0, %v] (full jitter)", i+1, d, limit)
			}
			total += d
		}
		if got := time.Since(start); got != total || got > 700*time.Millisecond {
			t.Errorf("Do took %v, want the sum of its delays %v, at most 700ms", got, total)
		}
	})
}

// Without options too, the defaults apply (the fast path shares them).
func TestDoWithoutOptionsRetriesWithTheDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		err := retry.Do(bg, func(context.Context) error { calls++; return errLast })
		if calls != 4 || !errors.Is(err, retry.ErrAttempts) {
			t.Fatalf("Do() = %v after %d calls, want ErrAttempts after 4", err, calls)
		}
		calls = 0
		_, err = retry.DoValue(bg, func(context.Context) (int, error) { calls++; return 0, errLast })
		if calls != 4 || !errors.Is(err, retry.ErrAttempts) {
			t.Fatalf("DoValue() = %v after %d calls, want ErrAttempts after 4", err, calls)
		}
	})
}

// S85
func TestPermanentStopsAndReturnsTheErrorUnwrapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		err := retry.Do(bg, func(context.Context) error { calls++; return retry.Permanent(io.EOF) })
		if err != io.EOF || calls != 1 {
			t.Fatalf("Do(Permanent(io.EOF)) = %v after %d calls, want io.EOF itself after 1", err, calls)
		}
	})
}

// S85
func TestPermanentIsFoundThroughWrapping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		err := retry.Do(bg, func(context.Context) error {
			calls++
			return fmt.Errorf("read config: %w", retry.Permanent(io.EOF))
		})
		if calls != 1 || !errors.Is(err, io.EOF) || err.Error() != "read config: EOF" {
			t.Fatalf("Do = %q after %d calls, want \"read config: EOF\" matching io.EOF after 1", err, calls)
		}
		if errors.Is(err, retry.ErrAttempts) {
			t.Fatalf("a permanent error matches ErrAttempts: %v", err)
		}
	})
}

// S85
func TestPermanentNilIsNil(t *testing.T) {
	if err := retry.Permanent(nil); err != nil {
		t.Fatalf("Permanent(nil) = %v, want nil", err)
	}
	if err := retry.After(time.Second, nil); err != nil {
		t.Fatalf("After(1s, nil) = %v, want nil", err)
	}
}

// S86 (a)
func TestDoWithADoneContextNeverCalls(t *testing.T) {
	ctx, stop := context.WithCancel(bg)
	stop()
	calls := 0
	err := retry.Do(ctx, func(context.Context) error { calls++; return nil })
	if err != context.Canceled || calls != 0 {
		t.Fatalf("Do(cancelled ctx) = %v after %d calls, want context.Canceled itself after 0", err, calls)
	}
	_, err = retry.DoValue(ctx, func(context.Context) (int, error) { calls++; return 1, nil }, retry.Attempts(2))
	if err != context.Canceled || calls != 0 {
		t.Fatalf("DoValue(cancelled ctx) = %v after %d calls, want context.Canceled itself after 0", err, calls)
	}
}

// S86 (b)
func TestCancellationDuringAnAttemptStopsRetrying(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithCancel(bg)
		defer stop()
		calls := 0
		err := retry.Do(ctx, func(context.Context) error {
			calls++
			if calls == 3 {
				stop()
				return errLast
			}
			return errFlaky
		}, retry.Attempts(10), retry.WithBackoff(retry.Constant(time.Second)))
		if calls != 3 || !errors.Is(err, context.Canceled) || !errors.Is(err, errLast) {
			t.Fatalf("Do = %v after %d calls, want Canceled and errLast after 3", err, calls)
		}
	})
}

// S86 (c)
func TestCancellationDuringASleepReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithCancel(bg)
		defer stop()
		time.AfterFunc(5*time.Second, stop)
		start := time.Now()
		err := retry.Do(ctx, func(context.Context) error { return errLast },
			retry.WithBackoff(retry.Constant(time.Hour)))
		if got := time.Since(start); got != 5*time.Second {
			t.Errorf("Do returned after %v, want 5s, when ctx was cancelled", got)
		}
		if !errors.Is(err, context.Canceled) || !errors.Is(err, errLast) || errors.Is(err, retry.ErrAttempts) {
			t.Errorf("err = %v, want it to match Canceled and errLast, not ErrAttempts", err)
		}
		want := "retry: context canceled after 1 attempt: flaky: the last failure"
		if err.Error() != want {
			t.Errorf("err.Error() = %q, want %q", err, want)
		}
	})
}

// The cause of ctx is reachable too.
func TestCancellationCauseIsReachable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errShutdown := errors.New("shutting down")
		ctx, stop := context.WithCancelCause(bg)
		time.AfterFunc(time.Second, func() { stop(errShutdown) })
		err := retry.Do(ctx, func(context.Context) error { return errLast },
			retry.WithBackoff(retry.Constant(time.Hour)))
		if !errors.Is(err, errShutdown) || !errors.Is(err, context.Canceled) || !errors.Is(err, errLast) {
			t.Fatalf("err = %v, want it to match the cause, Canceled and errLast", err)
		}
		if !strings.Contains(err.Error(), "shutting down") {
			t.Fatalf("err = %q, want the cause's text in it", err)
		}
	})
}

// An attempt that only echoes the end of ctx is not reported as a failure.
func TestEchoOfCancellationIsNotAnAttemptError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithCancel(bg)
		defer stop()
		time.AfterFunc(time.Second, stop)
		err := retry.Do(ctx, func(ctx context.Context) error {
			<-ctx.Done()
			return fmt.Errorf("waiting: %w", ctx.Err())
		})
		if err != context.Canceled {
			t.Fatalf("Do = %v, want context.Canceled itself: the attempt only echoed it", err)
		}
	})
}

// S90: the parent's deadline is not retried either.
func TestParentDeadlineIsNeverRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithTimeout(bg, 3*time.Second)
		defer stop()
		calls := 0
		start := time.Now()
		err := retry.Do(ctx, func(ctx context.Context) error {
			calls++
			<-ctx.Done()
			return ctx.Err()
		}, retry.Attempts(10))
		if err != context.DeadlineExceeded || calls != 1 || time.Since(start) != 3*time.Second {
			t.Fatalf("Do = %v after %d calls and %v, want DeadlineExceeded after 1 call and 3s", err, calls, time.Since(start))
		}
	})
}

// S87
func TestExponentialWithoutJitterIsExact(t *testing.T) {
	b := retry.Exponential{Initial: time.Second, Multiplier: 2, Max: 5 * time.Second}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	var prev time.Duration
	for i, w := range want {
		got := b.Delay(i+1, prev)
		if got != w {
			t.Errorf("Exponential{1s, 2, 5s}.Delay(%d) = %v, want %v", i+1, got, w)
		}
		prev = got
	}
	if got := (retry.Exponential{Initial: time.Second}).Delay(3, 0); got != 4*time.Second {
		t.Errorf("Exponential{Initial: 1s}.Delay(3) = %v, want 4s: the zero Multiplier means 2", got)
	}
}

// S87: slept delays are the policy's, in virtual time.
func TestDoSleepsTheBackoffsDelays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		calls := 0
		var at []time.Duration
		_ = retry.Do(bg, failing(10, &calls, &at, start), retry.Attempts(6),
			retry.WithBackoff(retry.Exponential{Initial: time.Second, Multiplier: 2, Max: 5 * time.Second}))
		want := []time.Duration{0, 1 * time.Second, 3 * time.Second, 7 * time.Second, 12 * time.Second, 17 * time.Second}
		if fmt.Sprint(at) != fmt.Sprint(want) {
			t.Fatalf("attempts at %v, want %v", at, want)
		}
	})
}

// S87: no overflow, however many retries.
func TestBackoffsNeverOverflow(t *testing.T) {
	policies := []retry.Backoff{
		retry.Exponential{Initial: time.Millisecond, Multiplier: 10},
		retry.Exponential{Initial: time.Millisecond, Multiplier: 10, Max: time.Hour},
		retry.Exponential{Initial: time.Hour, Max: 1<<63 - 1, Jitter: retry.FullJitter},
		retry.Exponential{Initial: time.Hour, Jitter: retry.EqualJitter},
		retry.Exponential{Initial: time.Hour, Jitter: retry.DecorrelatedJitter},
		retry.Linear{Initial: time.Hour, Step: time.Hour},
		retry.Linear{Initial: time.Hour, Step: time.Hour, Max: 2 * time.Hour, Jitter: retry.FullJitter},
	}
	for _, b := range policies {
		prev := time.Duration(0)
		for _, n := range []int{1, 2, 30, 62, 63, 64, 100, 1000, 1 << 20, 1<<31 - 1, math.MaxInt} {
			d := b.Delay(n, prev)
			if d < 0 {
				t.Fatalf("%+v.Delay(%d) = %v: overflowed", b, n, d)
			}
			if n > 1 && d < prev && !jittered(b) {
				t.Fatalf("%+v.Delay(%d) = %v < %v: a growing backoff shrank", b, n, d, prev)
			}
			prev = d
		}
	}
	if d := (retry.Exponential{Initial: time.Second, Multiplier: 2, Max: time.Minute}).Delay(math.MaxInt, 0); d != time.Minute {
		t.Fatalf("Delay(MaxInt) = %v, want the cap 1m", d)
	}
}

func jittered(b retry.Backoff) bool {
	switch b := b.(type) {
	case retry.Exponential:
		return b.Jitter != retry.NoJitter
	case retry.Linear:
		return b.Jitter != retry.NoJitter
	}
	return false
}

func TestLinearGrowsByStep(t *testing.T) {
	b := retry.Linear{Initial: time.Second, Step: 500 * time.Millisecond, Max: 2 * time.Second}
	want := []time.Duration{1000, 1500, 2000, 2000}
	for i, w := range want {
		if got := b.Delay(i+1, 0); got != w*time.Millisecond {
			t.Errorf("Linear{1s, 500ms, 2s}.Delay(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
}

func TestConstantAndBackoffFunc(t *testing.T) {
	if got := retry.Constant(3*time.Second).Delay(100, time.Hour); got != 3*time.Second {
		t.Errorf("Constant(3s).Delay(100) = %v, want 3s", got)
	}
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var at []time.Duration
		calls := 0
		// A custom backoff: 1s, 2s, 3s, ... and a negative delay counts as 0.
		b := retry.BackoffFunc(func(n int, prev time.Duration) time.Duration {
			if n == 3 {
				return -time.Second
			}
			return time.Duration(n) * time.Second
		})
		_ = retry.Do(bg, failing(10, &calls, &at, start), retry.Attempts(5), retry.WithBackoff(b))
		want := []time.Duration{0, time.Second, 3 * time.Second, 3 * time.Second, 7 * time.Second}
		if fmt.Sprint(at) != fmt.Sprint(want) {
			t.Fatalf("attempts at %v, want %v", at, want)
		}
	})
}

// S88
func TestMaxElapsedStopsWhenTheNextSleepWouldPassIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		calls := 0
		var at []time.Duration
		err := retry.Do(bg, failing(100, &calls, &at, start), retry.Attempts(100),
			retry.WithBackoff(retry.Constant(time.Second)), retry.MaxElapsed(2500*time.Millisecond))
		if fmt.Sprint(at) != "[0s 1s 2s]" {
			t.Errorf("attempts at %v, want [0s 1s 2s]", at)
		}
		if time.Since(start) != 2*time.Second {
			t.Errorf("Do returned after %v, want 2s: it does not sleep when the sleep would pass MaxElapsed", time.Since(start))
		}
		if !errors.Is(err, retry.ErrMaxElapsed) || !errors.Is(err, errFlaky) || errors.Is(err, retry.ErrAttempts) {
			t.Errorf("err = %v, want ErrMaxElapsed and the last error", err)
		}
	})
}

// S88: a sleep that ends exactly at MaxElapsed is allowed.
func TestMaxElapsedAllowsAnAttemptExactlyAtTheLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		_ = retry.Do(bg, failing(100, &calls, nil, time.Now()), retry.Attempts(100),
			retry.WithBackoff(retry.Constant(time.Second)), retry.MaxElapsed(2*time.Second))
		if calls != 3 {
			t.Fatalf("calls = %d, want 3 (at 0s, 1s and 2s)", calls)
		}
	})
}

// S88: zero means unlimited.
func TestMaxElapsedZeroIsUnlimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		err := retry.Do(bg, failing(1000, &calls, nil, time.Now()), retry.Attempts(50),
			retry.WithBackoff(retry.Constant(time.Hour)), retry.MaxElapsed(0))
		if calls != 50 || !errors.Is(err, retry.ErrAttempts) {
			t.Fatalf("Do = %v after %d calls, want ErrAttempts after 50 (49 hours)", err, calls)
		}
	})
}

// S89
func TestOnRetryIsCalledBeforeEachSleepNotOnGivingUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		type call struct {
			attempt int
			err     error
			delay   time.Duration
			at      time.Duration
		}
		var got []call
		var at []time.Duration
		calls := 0
		_ = retry.Do(bg, failing(10, &calls, &at, start), retry.Attempts(3),
			retry.WithBackoff(retry.Exponential{Initial: time.Second, Jitter: retry.FullJitter}),
			retry.OnRetry(func(attempt int, err error, delay time.Duration) {
				got = append(got, call{attempt, err, delay, time.Since(start)})
			}))
		if len(got) != 2 {
			t.Fatalf("OnRetry called %d times, want 2", len(got))
		}
		for i, c := range got {
			if c.attempt != i+1 || !errors.Is(c.err, errFlaky) || c.at != at[i] {
				t.Errorf("OnRetry call %d = %+v, want attempt %d, its error, at %v (before the sleep)", i, c, i+1, at[i])
			}
			if slept := at[i+1] - at[i]; slept != c.delay {
				t.Errorf("OnRetry said %v, but Do slept %v", c.delay, slept)
			}
		}
	})
}

func TestOnGiveUpIsCalledOnceWithTheReturnedError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cases := []struct {
			name string
			fn   func(context.Context) error
			opts []retry.Option
			want error // nil: success, OnGiveUp not called
		}{
			{"success", func(context.Context) error { return nil }, nil, nil},
			{"exhausted", func(context.Context) error { return errLast }, []retry.Option{retry.Attempts(2)}, retry.ErrAttempts},
			{"permanent", func(context.Context) error { return retry.Permanent(errLast) }, nil, errLast},
			{"rejected", func(context.Context) error { return errLast }, []retry.Option{retry.RetryIf(func(error) bool { return false })}, errLast},
		}
		for _, c := range cases {
			n := 0
			var seen error
			attempts := 0
			opts := append(c.opts, retry.OnGiveUp(func(a int, err error) { n++; seen = err; attempts = a }))
			err := retry.Do(bg, c.fn, opts...)
			if c.want == nil {
				if n != 0 {
					t.Errorf("%s: OnGiveUp called %d times, want 0", c.name, n)
				}
				continue
			}
			if n != 1 || seen != err || !errors.Is(err, c.want) || attempts < 1 {
				t.Errorf("%s: OnGiveUp called %d times with %v (%d attempts); Do returned %v; want once with it", c.name, n, seen, attempts, err)
			}
		}
	})
}

// S90
func TestRetryIfMakesRejectedErrorsPermanent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errBadRequest := errors.New("400 bad request")
		calls := 0
		err := retry.Do(bg, func(context.Context) error {
			calls++
			if calls < 3 {
				return errFlaky
			}
			return errBadRequest
		}, retry.RetryIf(func(err error) bool { return errors.Is(err, errFlaky) }), retry.Attempts(10))
		if err != errBadRequest || calls != 3 {
			t.Fatalf("Do = %v after %d calls, want errBadRequest itself after 3", err, calls)
		}
	})
}

// S90
func TestRetryIfIsNotAskedAboutCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithCancel(bg)
		asked := 0
		err := retry.Do(ctx, func(context.Context) error {
			stop()
			return errLast
		}, retry.RetryIf(func(error) bool { asked++; return true }))
		if asked != 0 || !errors.Is(err, context.Canceled) {
			t.Fatalf("RetryIf asked %d times, Do = %v; want 0 times and Canceled", asked, err)
		}
	})
}

// S90
func TestAttemptTimeoutIsRetryable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		calls := 0
		var errs []error
		err := retry.Do(bg, func(ctx context.Context) error {
			calls++
			<-ctx.Done()
			return ctx.Err()
		}, retry.AttemptTimeout(10*time.Millisecond), retry.Attempts(3),
			retry.WithBackoff(retry.Constant(time.Second)),
			retry.OnRetry(func(_ int, err error, _ time.Duration) { errs = append(errs, err) }))
		if calls != 3 {
			t.Errorf("calls = %d, want 3: a per-attempt timeout is retried", calls)
		}
		if got, want := time.Since(start), 3*10*time.Millisecond+2*time.Second; got != want {
			t.Errorf("Do took %v, want %v", got, want)
		}
		for _, e := range append(errs, err) {
			if !errors.Is(e, timeout.ErrTimeout) || !errors.Is(e, context.DeadlineExceeded) {
				t.Errorf("attempt error %v, want it to match timeout.ErrTimeout and DeadlineExceeded", e)
			}
		}
		if !errors.Is(err, retry.ErrAttempts) {
			t.Errorf("err = %v, want ErrAttempts", err)
		}
	})
}

// S90: with AttemptTimeout, the parent's cancellation still stops everything.
func TestAttemptTimeoutDoesNotRetryTheParentsCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithCancel(bg)
		defer stop()
		time.AfterFunc(5*time.Millisecond, stop)
		calls := 0
		err := retry.Do(ctx, func(ctx context.Context) error {
			calls++
			<-ctx.Done()
			return ctx.Err()
		}, retry.AttemptTimeout(10*time.Millisecond), retry.Attempts(5))
		if calls != 1 || err != context.Canceled {
			t.Fatalf("Do = %v after %d calls, want Canceled itself after 1", err, calls)
		}
	})
}

func TestErrorsKeepsTheFirstAndTheLatest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		err := retry.Do(bg, func(context.Context) error {
			calls++
			return fmt.Errorf("attempt %d", calls)
		}, retry.Attempts(20), retry.WithBackoff(retry.Constant(0)))
		var re *retry.Error
		if !errors.As(err, &re) {
			t.Fatalf("err = %v, want an *Error", err)
		}
		var got []string
		for _, e := range re.Errors() {
			got = append(got, e.Error())
		}
		want := "[attempt 1 attempt 14 attempt 15 attempt 16 attempt 17 attempt 18 attempt 19 attempt 20]"
		if fmt.Sprint(got) != want {
			t.Fatalf("Errors() = %v, want %v", got, want)
		}
		if re.Err.Error() != "attempt 20" || re.Attempts != 20 {
			t.Fatalf("Err = %v, Attempts = %d, want attempt 20 and 20", re.Err, re.Attempts)
		}
		if want := "retry: attempts exhausted after 20 attempts: attempt 20"; err.Error() != want {
			t.Fatalf("err.Error() = %q, want %q", err, want)
		}
	})
}

func TestErrorsWithFewAttemptsListsThemAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		err := retry.Do(bg, func(context.Context) error {
			calls++
			return fmt.Errorf("attempt %d", calls)
		}, retry.Attempts(3), retry.WithBackoff(retry.Constant(0)))
		var re *retry.Error
		errors.As(err, &re)
		if got := fmt.Sprint(re.Errors()); got != "[attempt 1 attempt 2 attempt 3]" {
			t.Fatalf("Errors() = %v, want all three", got)
		}
	})
}

// errors.As reaches the last attempt's error through the *Error.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("status %d", e.code) }

func TestErrorsAsReachesTheLastAttemptsError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		err := retry.Do(bg, func(context.Context) error {
			calls++
			return fmt.Errorf("GET /: %w", &statusError{500 + calls})
		}, retry.Attempts(2))
		var se *statusError
		if !errors.As(err, &se) || se.code != 502 {
			t.Fatalf("errors.As(err, *statusError) = %v, want the last attempt's status 502", se)
		}
	})
}

func TestBadInputPanicsWithAClearMessage(t *testing.T) {
	var nilCtx context.Context
	nop := func(context.Context) error { return nil }
	cases := []struct {
		name string
		f    func()
		want string
	}{
		{"nil ctx", func() { _ = retry.Do(nilCtx, nop) }, "retry: Do called with a nil context"},
		{"nil fn", func() { _ = retry.Do(bg, nil) }, "retry: Do called with a nil function"},
		{"nil ctx value", func() { _, _ = retry.DoValue[int](nilCtx, nil) }, "retry: DoValue called with a nil context"},
		{"nil fn value", func() { _, _ = retry.DoValue[int](bg, nil) }, "retry: DoValue called with a nil function"},
		{"nil option", func() { _ = retry.Do(bg, nop, nil) }, "retry: Do called with a nil Option"},
		{"nil option policy", func() { retry.Policy(retry.Attempts(2), nil) }, "retry: Policy called with a nil Option"},
		{"attempts 0", func() { retry.Attempts(0) }, "retry: Attempts(0): the number of attempts must be at least 1"},
		{"max elapsed", func() { retry.MaxElapsed(-1) }, "retry: MaxElapsed(-1ns): the duration must not be negative"},
		{"attempt timeout", func() { retry.AttemptTimeout(-time.Second) }, "retry: AttemptTimeout(-1s): the timeout must not be negative"},
		{"max hint", func() { retry.MaxHint(-time.Second) }, "retry: MaxHint(-1s): the duration must not be negative"},
		{"constant", func() { retry.Constant(-time.Second) }, "retry: Constant(-1s): the delay must not be negative"},
		{"retry if", func() { retry.RetryIf(nil) }, "retry: RetryIf called with a nil function"},
		{"on retry", func() { retry.OnRetry(nil) }, "retry: OnRetry called with a nil function"},
		{"on give up", func() { retry.OnGiveUp(nil) }, "retry: OnGiveUp called with a nil function"},
		{"backoff nil", func() { retry.WithBackoff(nil) }, "retry: WithBackoff called with a nil Backoff"},
		{"budget nil", func() { retry.WithBudget(nil) }, "retry: WithBudget called with a nil *Budget"},
		{"hedge", func() { retry.Hedge(-time.Second) }, "retry: Hedge(-1s): the delay must not be negative"},
		{"hedge adaptive", func() { retry.HedgeAdaptive(nil) }, "retry: HedgeAdaptive called with a nil *Latency"},
		{"exp initial", func() { retry.WithBackoff(retry.Exponential{Initial: -1}) }, "Initial -1ns must not be negative (0 means 100ms)"},
		{"exp max below the default initial", func() { retry.WithBackoff(retry.Exponential{Max: time.Millisecond}) }, "Max 1ms must be 0 (no cap) or at least Initial 100ms"},
		{"exp spread", func() { retry.WithBackoff(retry.Exponential{Spread: 1.5}) }, "Spread 1.5 must be between 0 and 1"},
		{"exp spread NaN", func() { retry.WithBackoff(retry.Exponential{Spread: math.NaN()}) }, "Spread NaN must be between 0 and 1"},
		{"exp spread and jitter", func() { retry.WithBackoff(retry.Exponential{Spread: 0.5, Jitter: retry.FullJitter}) }, "Spread and FullJitter both randomize the delay: choose one"},
		{"linear spread", func() { retry.WithBackoff(retry.Linear{Spread: -0.1}) }, "Spread -0.1 must be between 0 and 1"},
		{"exp multiplier", func() { retry.WithBackoff(retry.Exponential{Initial: 1, Multiplier: 0.5}) }, "Multiplier 0.5 must be 0 (for 2) or a finite number of at least 1"},
		{"exp max", func() { retry.WithBackoff(retry.Exponential{Initial: time.Second, Max: time.Millisecond}) }, "Max 1ms must be 0 (no cap) or at least Initial 1s"},
		{"exp jitter", func() { retry.WithBackoff(retry.Exponential{Initial: 1, Jitter: 9}) }, "unknown Jitter(9)"},
		{"linear negative", func() { retry.WithBackoff(retry.Linear{Step: -1}) }, "must not be negative"},
		{"budget tokens", func() { retry.NewBudget(0, 0.1) }, "retry: NewBudget(0, 0.1): maxTokens must be at least 1"},
		{"budget ratio", func() { retry.NewBudget(10, 0) }, "retry: NewBudget(10, 0): tokenRatio must be between 0.001 and maxTokens"},
		{"latency p", func() { retry.NewLatency(1, 10, 0) }, "retry: NewLatency(1, 10, 0s): p must be between 0 and 1"},
		{"latency window", func() { retry.NewLatency(0.9, 0, 0) }, "the window must hold at least 1 latency"},
		{"latency initial", func() { retry.NewLatency(0.9, 10, -1) }, "the initial delay must not be negative"},
	}
	for _, c := range cases {
		r := recoverPanic(c.f)
		if s, ok := r.(string); !ok || !strings.Contains(s, c.want) {
			t.Errorf("%s: panicked with %v, want a message containing %q", c.name, r, c.want)
		}
	}
	if r := recoverPanic(func() { retry.WithBackoff(retry.Exponential{Initial: time.Second}) }); r != nil {
		t.Errorf("WithBackoff(Exponential{Initial: 1s}) panicked: %v", r)
	}
}

func TestPolicyIsSharedAndCombines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.Policy(retry.Attempts(2), retry.WithBackoff(retry.Constant(time.Second)))
		calls := 0
		start := time.Now()
		err := retry.Do(bg, func(context.Context) error { calls++; return errLast }, p)
		if calls != 2 || time.Since(start) != time.Second || !errors.Is(err, retry.ErrAttempts) {
			t.Fatalf("Do(Policy(Attempts(2), 1s)) = %v after %d calls and %v", err, calls, time.Since(start))
		}
		// An option after the policy overrides it; one before is overridden.
		calls = 0
		_ = retry.Do(bg, func(context.Context) error { calls++; return errLast }, p, retry.Attempts(5))
		if calls != 5 {
			t.Fatalf("Do(p, Attempts(5)) made %d calls, want 5", calls)
		}
		calls = 0
		_ = retry.Do(bg, func(context.Context) error { calls++; return errLast }, retry.Attempts(5), p)
		if calls != 2 {
			t.Fatalf("Do(Attempts(5), p) made %d calls, want 2", calls)
		}
	})
}

// The Policy stays the same after the options given to make it change:
// it is immutable.
func TestPolicyCopiesItsOptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts := []retry.Option{retry.Attempts(2)}
		p := retry.Policy(opts...)
		opts[0] = retry.Attempts(7)
		calls := 0
		_ = retry.Do(bg, func(context.Context) error { calls++; return errLast }, p, retry.WithBackoff(retry.Constant(0)))
		if calls != 2 {
			t.Fatalf("calls = %d, want 2", calls)
		}
	})
}

// Attempts(Unlimited) retries until fn succeeds, as cenkalti/backoff does
// by default; MaxElapsed and ctx still bound it.
func TestUnlimitedAttemptsRetryUntilSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		err := retry.Do(bg, failing(1000, &calls, nil, time.Now()), retry.Attempts(retry.Unlimited), retry.WithBackoff(retry.Constant(time.Second)))
		if err != nil || calls != 1001 {
			t.Fatalf("Do(Attempts(Unlimited)) = %v after %d calls, want nil after 1001", err, calls)
		}
		calls = 0
		err = retry.Do(bg, failing(1000, &calls, nil, time.Now()), retry.Attempts(retry.Unlimited),
			retry.WithBackoff(retry.Constant(time.Second)), retry.MaxElapsed(time.Minute))
		if calls != 61 || !errors.Is(err, retry.ErrMaxElapsed) {
			t.Fatalf("Do(Attempts(Unlimited), MaxElapsed(1m)) = %v after %d calls, want ErrMaxElapsed after 61", err, calls)
		}
	})
}

// WithLastError: when Do gives up, it returns the last attempt's error
// itself, as cenkalti/backoff does, and hands the same to OnGiveUp. The
// end of ctx still comes as ctx's error.
func TestWithLastErrorReturnsTheBareError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var gaveUp error
		for _, o := range []retry.Option{retry.Attempts(3), retry.MaxElapsed(time.Second), retry.WithBudget(retry.NewBudget(1, 1))} {
			err := retry.Do(bg, func(context.Context) error { return errLast }, o, retry.WithLastError(),
				retry.WithBackoff(retry.Constant(time.Second)), retry.OnGiveUp(func(_ int, err error) { gaveUp = err }))
			if err != errLast || gaveUp != errLast {
				t.Errorf("Do(%T, WithLastError()) = %v, OnGiveUp got %v; want errLast itself", o, err, gaveUp)
			}
		}
		ctx, stop := context.WithCancel(bg)
		err := retry.Do(ctx, func(context.Context) error { stop(); return errLast }, retry.WithLastError())
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Do(WithLastError()) as ctx ends = %v, want an error matching context.Canceled", err)
		}
		v, err := retry.DoValue(bg, func(context.Context) (int, error) { return 7, errLast }, retry.Attempts(2), retry.WithLastError())
		if v != 7 || err != errLast {
			t.Errorf("DoValue(WithLastError()) = %v, %v; want 7, errLast", v, err)
		}
	})
}

// DoValue returns, beside its error, the value that the last attempt
// returned with its error, as cenkalti/backoff does: a response with a
// status that failed, a partial result.
func TestDoValueKeepsTheLastAttemptsValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		partial := func(context.Context) (string, error) {
			calls++
			return fmt.Sprintf("partial %d", calls), errLast
		}
		cases := []struct {
			name string
			fn   func(context.Context) (string, error)
			opts []retry.Option
			want string
		}{
			{"attempts", partial, []retry.Option{retry.Attempts(2)}, "partial 2"},
			{"max elapsed", partial, []retry.Option{retry.MaxElapsed(time.Second), retry.WithBackoff(retry.Constant(time.Second))}, "partial 2"},
			{"permanent", func(context.Context) (string, error) { return "404 page", retry.Permanent(errLast) }, nil, "404 page"},
			{"retry if", partial, []retry.Option{retry.RetryIf(func(error) bool { return false })}, "partial 1"},
			{"hedge", partial, []retry.Option{retry.Attempts(2), retry.Hedge(time.Second)}, "partial 2"},
		}
		for _, c := range cases {
			calls = 0
			v, err := retry.DoValue(bg, c.fn, c.opts...)
			if v != c.want || err == nil {
				t.Errorf("%s: DoValue = %q, %v; want %q and an error", c.name, v, err, c.want)
			}
		}
		// Without options, on the fast path too.
		calls = 0
		if v, _ := retry.DoValue(bg, partial); v != "partial 4" {
			t.Errorf("DoValue without options = %q, want \"partial 4\"", v)
		}
		// ctx ending during a sleep: the value of the attempt before it.
		ctx, stop := context.WithTimeout(bg, time.Second)
		defer stop()
		calls = 0
		if v, err := retry.DoValue(ctx, partial, retry.WithBackoff(retry.Constant(time.Hour))); v != "partial 1" || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("DoValue as ctx ends = %q, %v; want \"partial 1\" and DeadlineExceeded", v, err)
		}
		// No attempt, no value.
		done, stopped := context.WithCancel(bg)
		stopped()
		if v, err := retry.DoValue(done, partial); v != "" || err != context.Canceled {
			t.Errorf("DoValue(a done ctx) = %q, %v; want \"\", context.Canceled", v, err)
		}
	})
}
