//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/structured-go/structured/retry"
)

func ExampleDo() {
	calls := 0
	err := retry.Do(context.Background(), func(ctx context.Context) error {
		calls++
		if calls < 3 {
			return fmt.Errorf("attempt %d: connection refused", calls)
		}
		return nil
	}, retry.WithBackoff(retry.Constant(time.Millisecond)))
	fmt.Println(err, "after", calls, "calls")
	// Output: <nil> after 3 calls
}

func ExampleDoValue() {
	calls := 0
	balance, err := retry.DoValue(context.Background(), func(ctx context.Context) (int, error) {
		calls++
		if calls == 1 {
			return 0, errors.New("503 service unavailable")
		}
		return 42, nil
	}, retry.WithBackoff(retry.Constant(time.Millisecond)))
	fmt.Println(balance, err)
	// Output: 42 <nil>
}

// The error says why retrying stopped, and keeps the last attempt's error.
func ExampleError() {
	errRefused := errors.New("connection refused")
	err := retry.Do(context.Background(), func(ctx context.Context) error {
		return errRefused
	}, retry.Attempts(3), retry.WithBackoff(retry.Constant(time.Millisecond)))

	fmt.Println(err)
	fmt.Println("attempts exhausted:", errors.Is(err, retry.ErrAttempts))
	fmt.Println("last error reachable:", errors.Is(err, errRefused))
	fmt.Println("caller gave up:", errors.Is(err, context.Canceled))
	var re *retry.Error
	if errors.As(err, &re) {
		fmt.Println("attempts:", re.Attempts, "errors kept:", len(re.Errors()))
	}
	// Output:
	// retry: attempts exhausted after 3 attempts: connection refused
	// attempts exhausted: true
	// last error reachable: true
	// caller gave up: false
	// attempts: 3 errors kept: 3
}

// A permanent error stops at once, and comes back as it was.
func ExamplePermanent() {
	calls := 0
	err := retry.Do(context.Background(), func(ctx context.Context) error {
		calls++
		return retry.Permanent(io.ErrUnexpectedEOF)
	})
	fmt.Println(err == io.ErrUnexpectedEOF, "after", calls, "call")
	// Output: true after 1 call
}

// RetryIf decides which errors are worth retrying; the others are permanent.
func ExampleRetryIf() {
	errNotFound := errors.New("404 not found")
	calls := 0
	err := retry.Do(context.Background(), func(ctx context.Context) error {
		calls++
		return errNotFound
	}, retry.RetryIf(func(err error) bool { return !errors.Is(err, errNotFound) }))
	fmt.Println(err, "after", calls, "call")
	// Output: 404 not found after 1 call
}

func ExampleExponential() {
	b := retry.Exponential{Initial: time.Second, Multiplier: 2, Max: 5 * time.Second}
	var prev time.Duration
	for n := 1; n <= 5; n++ {
		prev = b.Delay(n, prev)
		fmt.Print(prev, " ")
	}
	fmt.Println()

	// With full jitter each delay is random, and still never above Max.
	b.Jitter = retry.FullJitter
	for n := 1; n <= 1000; n++ {
		if d := b.Delay(n, 0); d < 0 || d > b.Max {
			fmt.Println("out of range:", d)
		}
	}
	// Output: 1s 2s 4s 5s 5s
}

// RetryAfter reads a server's Retry-After header; After hands it to Do.
func ExampleRetryAfter() {
	resp := &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}}
	resp.Header.Set("Retry-After", "120")
	d, ok := retry.RetryAfter(resp)
	fmt.Println(d, ok)

	err := retry.After(d, errors.New(http.StatusText(resp.StatusCode)))
	fmt.Println(err) // the hint does not change the error
	// Output:
	// 2m0s true
	// Service Unavailable
}

// A hedge is sent when the first attempt is slow; the first answer wins and
// the slow attempt is cancelled before DoValue returns.
func ExampleHedge() {
	var calls atomic.Int32
	answer, err := retry.DoValue(context.Background(), func(ctx context.Context) (string, error) {
		if calls.Add(1) == 1 {
			<-ctx.Done() // a replica that never answers
			fmt.Println("the slow attempt was cancelled:", context.Cause(ctx) == retry.ErrAnotherSucceeded)
			return "", ctx.Err()
		}
		return "answer from the second replica", nil
	}, retry.Hedge(time.Millisecond), retry.Attempts(2))
	fmt.Println(answer, err)
	// Output:
	// the slow attempt was cancelled: true
	// answer from the second replica <nil>
}

// A Budget shared by every call to a server stops retries when most of
// them fail, however many callers there are.
func ExampleNewBudget() {
	budget := retry.NewBudget(10, 0.1)
	down := func(ctx context.Context) error { return errors.New("503 service unavailable") }
	calls := 0
	for range 20 {
		_ = retry.Do(context.Background(), func(ctx context.Context) error {
			calls++
			return down(ctx)
		}, retry.WithBudget(budget), retry.WithBackoff(retry.Constant(0)))
	}
	fmt.Println("calls for 20 requests:", calls, "(without a budget: 80)")
	fmt.Println("retries allowed now:", budget.Allow())
	// Output:
	// calls for 20 requests: 23 (without a budget: 80)
	// retries allowed now: false
}

// A Policy is parsed once and shared by every call that uses it.
func ExamplePolicy() {
	fetchPolicy := retry.Policy(
		retry.Attempts(5),
		retry.WithBackoff(retry.Exponential{Initial: time.Millisecond, Max: 10 * time.Millisecond, Jitter: retry.FullJitter}),
		retry.OnRetry(func(attempt int, err error, delay time.Duration) {
			fmt.Printf("attempt %d failed: %v\n", attempt, err)
		}),
	)
	calls := 0
	err := retry.Do(context.Background(), func(ctx context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("timeout")
		}
		return nil
	}, fetchPolicy)
	fmt.Println(err)
	// Output:
	// attempt 1 failed: timeout
	// attempt 2 failed: timeout
	// <nil>
}

// Linear grows by a fixed step. A zero field takes its default: Step
// alone, or Initial alone, is enough, and Linear{} starts at 100ms.
func ExampleLinear() {
	for _, b := range []retry.Linear{
		{Initial: time.Second, Step: 500 * time.Millisecond, Max: 2 * time.Second},
		{Step: time.Second},
		{},
	} {
		var delays []time.Duration
		for n := 1; n <= 4; n++ {
			delays = append(delays, b.Delay(n, 0))
		}
		fmt.Println(delays)
	}
	// Output:
	// [1s 1.5s 2s 2s]
	// [1s 2s 3s 4s]
	// [100ms 200ms 300ms 400ms]
}

// Spread randomizes each delay by ±Spread around it, as cenkalti/backoff's
// RandomizationFactor does: here the first delay is between 500ms and
// 1.5s, the second between 1s and 3s.
func ExampleExponential_spread() {
	b := retry.Exponential{Initial: time.Second, Multiplier: 2, Spread: 0.5}
	inRange := true
	for range 1000 {
		d1, d2 := b.Delay(1, 0), b.Delay(2, 0)
		inRange = inRange && d1 >= 500*time.Millisecond && d1 <= 1500*time.Millisecond && d2 >= time.Second && d2 <= 3*time.Second
	}
	fmt.Println("every delay within ±50%:", inRange)
	// Output: every delay within ±50%: true
}

// HedgeAdaptive sends the hedge after the 95th percentile of the latencies
// of recent successful calls, and the initial delay until it has seen 20 of
// them.
func ExampleHedgeAdaptive() {
	latency := retry.NewLatency(0.95, 100, time.Second)
	fmt.Println("before any call, hedge after", latency.Percentile())
	for ms := 1; ms <= 20; ms++ {
		latency.Observe(time.Duration(ms) * time.Millisecond) // calls that succeeded
	}
	fmt.Println("after 20 calls, hedge after", latency.Percentile())

	var calls atomic.Int32
	answer, err := retry.DoValue(context.Background(), func(ctx context.Context) (string, error) {
		if calls.Add(1) == 1 {
			<-ctx.Done() // a replica that never answers
			return "", ctx.Err()
		}
		return "answer from the second replica", nil
	}, retry.HedgeAdaptive(latency), retry.Attempts(2))
	fmt.Println(answer, err)
	// Output:
	// before any call, hedge after 1s
	// after 20 calls, hedge after 19ms
	// answer from the second replica <nil>
}

// WithLastError returns the last attempt's error itself when Do gives up,
// as cenkalti/backoff does: == works, and the reason is no longer in the
// error.
func ExampleWithLastError() {
	errUnavailable := errors.New("503 service unavailable")
	err := retry.Do(context.Background(), func(ctx context.Context) error {
		return errUnavailable
	}, retry.Attempts(3), retry.WithBackoff(retry.Constant(time.Millisecond)), retry.WithLastError())
	fmt.Println(err == errUnavailable, errors.Is(err, retry.ErrAttempts))
	// Output: true false
}
