//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/structured-go/structured/retry"
)

// A timeout per attempt: an attempt that hangs is ended, and retried; the
// caller's deadline, if any, still bounds the whole.
func Example_retryAttemptTimeout() {
	calls := 0
	v, err := retry.DoValue(context.Background(), func(ctx context.Context) (string, error) {
		calls++
		if calls == 1 {
			return "", never(ctx) // hangs, until AttemptTimeout ends it
		}
		return "answer", nil
	}, retry.AttemptTimeout(10*time.Millisecond), retry.WithBackoff(retry.Constant(time.Millisecond)))
	fmt.Println(v, err, "after", calls, "calls")
	// Output: answer <nil> after 2 calls
}

// The end of the caller's ctx is never retried: Do stops, and its error
// says the caller gave up, not that the attempts ran out.
func Example_retryCancelled() {
	ctx, stop := context.WithCancel(context.Background())
	calls := 0
	err := retry.Do(ctx, func(ctx context.Context) error {
		calls++
		stop() // the caller gives up during the first attempt
		return errors.New("connection reset")
	})
	fmt.Println(calls, errors.Is(err, context.Canceled), errors.Is(err, retry.ErrAttempts))
	// Output: 1 true false
}

// The trap: a hand-written retry loop. It sleeps through cancellation,
// retries after the caller has given up, and retries errors that will
// never go away.
func Example_retryTrapSleepLoop() {
	ctx, stop := context.WithCancel(context.Background())
	calls := 0
	call := func(ctx context.Context) error {
		calls++
		stop() // the caller gives up during the first attempt
		return errors.New("connection reset")
	}

	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = call(ctx); err == nil {
			break
		}
		time.Sleep(time.Millisecond << attempt) // structvet: SV003, for sleeps of 100ms and more
	}
	fmt.Println("calls after the caller gave up:", calls-1, "; error:", err)
	// Output: calls after the caller gave up: 2 ; error: connection reset
}
