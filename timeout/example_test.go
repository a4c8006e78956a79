//go:build go1.25

package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/structured-go/structured/timeout"
)

// slowQuery stands for work that honours its context but would take
// forever.
func slowQuery(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// MoveOnAfter gives up quietly: the deadline is not an error.
func ExampleMoveOnAfter() {
	timedOut, err := timeout.MoveOnAfter(context.Background(), 10*time.Millisecond, slowQuery)
	fmt.Println(timedOut, err)
	// Output: true <nil>
}

// FailAfter gives up with an error that matches ErrTimeout and
// context.DeadlineExceeded.
func ExampleFailAfter() {
	err := timeout.FailAfter(context.Background(), 10*time.Millisecond, slowQuery)
	fmt.Println(err)
	fmt.Println(errors.Is(err, timeout.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	// Output:
	// timeout: deadline of 10ms exceeded
	// true true
}

// FailAt takes an absolute deadline; one in the past still runs the work,
// with a context that is already done.
func ExampleFailAt() {
	err := timeout.FailAt(context.Background(), time.Now().Add(-time.Second), func(ctx context.Context) error {
		fmt.Println("runs anyway; ctx.Err():", ctx.Err())
		return ctx.Err()
	})
	fmt.Println(errors.Is(err, timeout.ErrTimeout))
	// Output:
	// runs anyway; ctx.Err(): context deadline exceeded
	// true
}

// MoveOnAt is MoveOnAfter with an absolute deadline; work that finishes in
// time keeps its result.
func ExampleMoveOnAt() {
	timedOut, err := timeout.MoveOnAt(context.Background(), time.Now().Add(time.Hour), func(ctx context.Context) error {
		return nil // done well before the deadline
	})
	fmt.Println(timedOut, err)
	// Output: false <nil>
}

// Call is asyncio.wait_for: a timeout around work that returns a value.
func ExampleCall() {
	v, err := timeout.Call(context.Background(), time.Second, func(ctx context.Context) (string, error) {
		return "answer", nil
	})
	fmt.Println(v, err)
	// Output: answer <nil>
}

// WithShield lets cleanup run for a bounded time after the work around it
// was cancelled.
func ExampleWithShield() {
	cancelled, stop := context.WithCancel(context.Background())
	stop()
	timedOut, err := timeout.MoveOnAfter(cancelled, 10*time.Millisecond, func(ctx context.Context) error {
		fmt.Println("cleanup starts with ctx.Err():", ctx.Err())
		return slowQuery(ctx) // ended by the cleanup's own deadline
	}, timeout.WithShield())
	fmt.Println(timedOut, err)
	// Output:
	// cleanup starts with ctx.Err(): <nil>
	// true <nil>
}

// A Timeout's deadline moves while the work runs: later to give it more
// time, to the zero time to disable it, or to now to end it.
func ExampleTimeout() {
	t := timeout.New(10 * time.Millisecond)
	err := t.Run(context.Background(), func(ctx context.Context) error {
		_ = t.Reschedule(time.Time{}) // no deadline any more
		_, ok := t.When()
		fmt.Println("has a deadline:", ok)
		_ = t.Reschedule(time.Now()) // end it now
		return slowQuery(ctx)
	})
	fmt.Println(errors.Is(err, timeout.ErrTimeout), t.Expired())
	// Output:
	// has a deadline: false
	// true true
}
