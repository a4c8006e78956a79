package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	backoff4 "github.com/cenkalti/backoff/v4"
	"github.com/cenkalti/backoff/v5"

	"github.com/structured-go/structured/retry"
)

// RetryConfig is a message router's retry middleware, configured from a
// file, as watermill's is: the fields map onto cenkalti/backoff's.
type RetryConfig struct {
	MaxRetries          int // retries after the first attempt
	InitialInterval     time.Duration
	MaxInterval         time.Duration
	Multiplier          float64
	MaxElapsedTime      time.Duration
	RandomizationFactor float64
	OnRetryHook         func(retryNum int, delay time.Duration)
}

// A Handler handles a message, and returns the messages it produces.
type Handler func(ctx context.Context, msg string) ([]string, error)

// middlewareBackoffV5 is the middleware on cenkalti/backoff v5.
func (r RetryConfig) middlewareBackoffV5(h Handler) Handler {
	return func(ctx context.Context, msg string) ([]string, error) {
		expBackoff := backoff.NewExponentialBackOff()
		expBackoff.InitialInterval = r.InitialInterval
		expBackoff.MaxInterval = r.MaxInterval
		expBackoff.Multiplier = r.Multiplier
		expBackoff.RandomizationFactor = r.RandomizationFactor

		retryNum := 1
		return backoff.Retry(ctx, func() ([]string, error) {
			return h(ctx, msg)
		},
			backoff.WithBackOff(expBackoff),
			backoff.WithMaxElapsedTime(r.MaxElapsedTime),
			backoff.WithMaxTries(uint(r.MaxRetries+1)),
			backoff.WithNotify(func(err error, d time.Duration) {
				if r.OnRetryHook != nil {
					r.OnRetryHook(retryNum, d)
				}
				retryNum++
			}),
		)
	}
}

// middleware is the same middleware on retry.
func (r RetryConfig) middleware(h Handler) Handler {
	return func(ctx context.Context, msg string) ([]string, error) {
		var policy retry.Backoff = retry.Exponential{
			Initial:    r.InitialInterval,
			Max:        time.Duration(float64(r.MaxInterval) * (1 + r.RandomizationFactor)),
			Multiplier: r.Multiplier,
			Spread:     r.RandomizationFactor,
		}
		if r.InitialInterval == 0 {
			policy = retry.Constant(0) // cenkalti retries at once
		}

		return retry.DoValue(ctx, func(ctx context.Context) ([]string, error) {
			return h(ctx, msg)
		},
			retry.WithBackoff(policy),
			retry.MaxElapsed(r.MaxElapsedTime),
			retry.Attempts(r.MaxRetries+1),
			retry.WithLastError(),
			retry.OnRetry(func(attempt int, err error, d time.Duration) {
				if r.OnRetryHook != nil {
					r.OnRetryHook(attempt, d)
				}
			}),
		)
	}
}

// flaky is a handler that fails n times, then handles the message.
func flaky(n int, errFailed error) Handler {
	calls := 0
	return func(ctx context.Context, msg string) ([]string, error) {
		calls++
		if calls <= n {
			return nil, fmt.Errorf("%w (call %d)", errFailed, calls)
		}
		return []string{msg + ": handled"}, nil
	}
}

// The middleware before and after the port, side by side: the same
// retries, the same delays (without randomization, to print them), the
// same bare error when the retries run out, and the same at-once retries
// for a config without InitialInterval.
func Example_cenkaltiMiddleware() {
	errDB := errors.New("database is down")
	for _, cfg := range []RetryConfig{
		{MaxRetries: 3, InitialInterval: time.Millisecond, MaxInterval: time.Second, Multiplier: 2, MaxElapsedTime: time.Minute},
		{MaxRetries: 3, MaxInterval: time.Second, Multiplier: 2, MaxElapsedTime: time.Minute},
	} {
		for _, port := range []struct {
			name string
			make func(RetryConfig, Handler) Handler
		}{
			{"backoff v5", RetryConfig.middlewareBackoffV5},
			{"retry     ", RetryConfig.middleware},
		} {
			var delays []time.Duration
			cfg.OnRetryHook = func(_ int, d time.Duration) { delays = append(delays, d) }
			out, err := port.make(cfg, flaky(2, errDB))(context.Background(), "order 7")
			fmt.Println(port.name, "handled:", out, err, "after waiting", delays)
			_, err = port.make(cfg, flaky(10, errDB))(context.Background(), "order 8")
			fmt.Println(port.name, "gave up:", err, errors.Is(err, errDB))
		}
	}
	// Output:
	// backoff v5 handled: [order 7: handled] <nil> after waiting [1ms 2ms]
	// backoff v5 gave up: database is down (call 4) true
	// retry      handled: [order 7: handled] <nil> after waiting [1ms 2ms]
	// retry      gave up: database is down (call 4) true
	// backoff v5 handled: [order 7: handled] <nil> after waiting [0s 0s]
	// backoff v5 gave up: database is down (call 4) true
	// retry      handled: [order 7: handled] <nil> after waiting [0s 0s]
	// retry      gave up: database is down (call 4) true
}

// The same call on backoff v4, whose ctx rides in the BackOff, and
// RetryWithData, whose retries are counted by WithMaxRetries.
func Example_cenkaltiV4() {
	ctx := context.Background()
	fetch := func(ctx context.Context) (string, error) { return "config v3", nil }

	// Before: backoff v4.
	b := backoff4.WithContext(backoff4.WithMaxRetries(backoff4.NewExponentialBackOff(), 3), ctx)
	cfg, err := backoff4.RetryWithData(func() (string, error) {
		return fetch(ctx)
	}, b)
	fmt.Println(cfg, err)

	// After: retry. WithMaxRetries(3) is 3 retries, 4 attempts.
	cfg, err = retry.DoValue(ctx, fetch, retry.Attempts(4))
	fmt.Println(cfg, err)
	// Output:
	// config v3 <nil>
	// config v3 <nil>
}

// Code that still marks errors with backoff.Permanent, such as a helper
// shared with callers not yet ported: the one option that makes retry stop
// at them.
func Example_cenkaltiPermanent() {
	errNotFound := errors.New("order 9: not found")
	calls := 0
	load := func(ctx context.Context) error {
		calls++
		return backoff.Permanent(errNotFound) // from code not yet ported
	}
	err := retry.Do(context.Background(), load,
		retry.RetryIf(func(err error) bool { return !errors.As(err, new(*backoff.PermanentError)) }))
	fmt.Println(err, "after", calls, "call;", errors.Is(err, errNotFound))
	// Output: order 9: not found after 1 call; true
}

// Unlimited attempts, cenkalti's default: Attempts(Unlimited), bounded by
// MaxElapsed or ctx as cenkalti's is by MaxElapsedTime (15 minutes unless
// set).
func Example_cenkaltiUnlimited() {
	calls := 0
	err := retry.Do(context.Background(), func(ctx context.Context) error {
		if calls++; calls < 50 {
			return errors.New("busy")
		}
		return nil
	}, retry.Attempts(retry.Unlimited), retry.WithBackoff(retry.Constant(0)), retry.MaxElapsed(15*time.Minute))
	fmt.Println(err, "after", calls, "calls")
	// Output: <nil> after 50 calls
}
