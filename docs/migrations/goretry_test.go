package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	goretry "github.com/sethvargo/go-retry"

	"github.com/structured-go/structured/retry"
)

var errAuth = errors.New("password authentication failed")

// connectGoRetry dials a database with sethvargo/go-retry: only the errors
// marked RetryableError are retried.
func connectGoRetry(ctx context.Context, dial func(context.Context) (string, error)) (string, error) {
	b := goretry.NewExponential(time.Millisecond)
	b = goretry.WithMaxRetries(4, b)
	b = goretry.WithCappedDuration(10*time.Millisecond, b)
	return goretry.DoValue(ctx, b, func(ctx context.Context) (string, error) {
		conn, err := dial(ctx)
		if err != nil {
			if errors.Is(err, errAuth) {
				return "", err // not retryable
			}
			return "", goretry.RetryableError(err)
		}
		return conn, nil
	})
}

// connect dials it with retry: every error is retried, but those marked
// Permanent.
func connect(ctx context.Context, dial func(context.Context) (string, error)) (string, error) {
	return retry.DoValue(ctx, func(ctx context.Context) (string, error) {
		conn, err := dial(ctx)
		if err != nil {
			if errors.Is(err, errAuth) {
				return "", retry.Permanent(err) // not retryable
			}
			return "", err
		}
		return conn, nil
	},
		retry.Attempts(5),
		retry.WithBackoff(retry.Exponential{Initial: time.Millisecond, Max: 10 * time.Millisecond}),
		retry.WithLastError(),
	)
}

// The same dial before and after: a refused connection is retried 4 times,
// a wrong password not at all, and the error comes back bare.
func Example_goRetryConnect() {
	errRefused := errors.New("connection refused")
	for _, c := range []struct {
		name    string
		connect func(context.Context, func(context.Context) (string, error)) (string, error)
	}{{"go-retry", connectGoRetry}, {"retry   ", connect}} {
		for _, dialErr := range []error{errRefused, errAuth} {
			dials := 0
			_, err := c.connect(context.Background(), func(ctx context.Context) (string, error) {
				dials++
				return "", dialErr
			})
			fmt.Println(c.name, err == dialErr, "after", dials, "dials:", err)
		}
	}
	// Output:
	// go-retry true after 5 dials: connection refused
	// go-retry true after 1 dials: password authentication failed
	// retry    true after 5 dials: connection refused
	// retry    true after 1 dials: password authentication failed
}

// A go-retry Backoff counts the calls made to it: one made once and shared
// grows from call to call. A retry Backoff is a policy, which every call
// reads from the start.
func Example_goRetryBackoffState() {
	shared := goretry.NewExponential(time.Millisecond)
	for range 3 {
		d, _ := shared.Next()
		fmt.Print(d, " ")
	}
	fmt.Println("(go-retry, three calls sharing one Backoff: each first delay)")

	policy := retry.Exponential{Initial: time.Millisecond}
	for range 3 {
		fmt.Print(policy.Delay(1, 0), " ")
	}
	fmt.Println("(retry)")
	// Output:
	// 1ms 2ms 4ms (go-retry, three calls sharing one Backoff: each first delay)
	// 1ms 1ms 1ms (retry)
}
