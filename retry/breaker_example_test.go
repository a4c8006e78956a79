//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/structured-go/structured/retry"
)

// A downstream that is down: after 3 failures in a row the breaker opens,
// and the next calls fail at once, naming the failure that opened it.
func ExampleNewBreaker() {
	b := retry.NewBreaker(retry.ConsecutiveFailures(3)) // 5 unless set
	calls := 0
	down := func(ctx context.Context) error {
		calls++
		return errors.New("503 Service Unavailable")
	}
	for range 10 {
		_ = b.Do(context.Background(), down)
	}
	err := b.Do(context.Background(), down)
	fmt.Println("calls that reached the downstream:", calls)
	fmt.Println(b.State(), errors.Is(err, retry.ErrOpen))
	_, cause, _ := strings.Cut(err.Error(), "opened by: ")
	fmt.Println("opened by:", cause)
	// Output:
	// calls that reached the downstream: 3
	// open true
	// opened by: 503 Service Unavailable
}

// retry.Do through a breaker: when the breaker is open, Do waits the time
// it stays open before its next attempt, which is then a probe.
func ExampleWithBreaker() {
	b := retry.NewBreaker(retry.ConsecutiveFailures(2), retry.OpenFor(20*time.Millisecond), retry.HalfOpen(1, 1))
	calls := 0
	err := retry.Do(context.Background(), func(ctx context.Context) error {
		calls++
		if calls <= 2 {
			return errors.New("503 Service Unavailable") // the second opens the breaker
		}
		return nil
	}, retry.WithBreaker(b), retry.WithBackoff(retry.Constant(time.Millisecond)), retry.Attempts(5))
	fmt.Println(err, "after", calls, "calls; the breaker is", b.State())
	// Output: <nil> after 3 calls; the breaker is closed
}
