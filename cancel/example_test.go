//go:build go1.25

package cancel_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/structured-go/structured/cancel"
)

// A scope cancelled from inside (or from any goroutine) ends the work; its
// own cancellation is not an error.
func ExampleScope() {
	s := cancel.New()
	err := s.Run(context.Background(), func(ctx context.Context) error {
		s.Cancel(errors.New("found what we were looking for"))
		<-ctx.Done()
		fmt.Println("stopped because:", context.Cause(ctx))
		return ctx.Err()
	})
	fmt.Println(err, s.CancelCalled(), s.CancelledCaught())
	// Output:
	// stopped because: found what we were looking for
	// <nil> true true
}

// Cleanup after cancellation: the work was cancelled, but the cleanup still
// needs to block (flush, say goodbye to the server) for a bounded time. A
// shielded scope with a timeout gives it a live context of its own.
func ExampleWithShield() {
	work, stop := context.WithCancel(context.Background())
	stop() // the work has been cancelled

	cleanup := cancel.New(cancel.WithShield(), cancel.WithTimeout(5*time.Second))
	err := cleanup.Run(work, func(ctx context.Context) error {
		fmt.Println("cleanup ctx.Err():", ctx.Err())
		_, hasDeadline := ctx.Deadline()
		fmt.Println("cleanup has a deadline:", hasDeadline)
		return nil
	})
	fmt.Println(err, "; the work's ctx.Err():", work.Err())
	// Output:
	// cleanup ctx.Err(): <nil>
	// cleanup has a deadline: true
	// <nil> ; the work's ctx.Err(): context canceled
}

// The deadline can move while the work runs: here into the past, which
// ends the work at once.
func ExampleScope_SetDeadline() {
	s := cancel.New(cancel.WithTimeout(time.Hour))
	err := s.Run(context.Background(), func(ctx context.Context) error {
		s.SetDeadline(time.Now().Add(-time.Second))
		<-ctx.Done()
		return ctx.Err()
	})
	fmt.Println(err, s.CancelledCaught())
	// Output: <nil> true
}

// Sleep ends early when the context does, and says why.
func ExampleSleep() {
	ctx, stop := context.WithCancelCause(context.Background())
	stop(errors.New("shutting down"))
	fmt.Println(cancel.Sleep(ctx, time.Hour))
	// Output: shutting down
}
