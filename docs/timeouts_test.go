//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/timeout"
)

// never stands for work that honours its ctx and would otherwise take for
// ever.
func never(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// A timeout per task: the task that runs out of time fails, and its
// failure is a real one, which cancels its siblings and is Run's error.
func Example_timeoutPerTask() {
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			return timeout.FailAfter(ctx, 10*time.Millisecond, never)
		}, nursery.WithName("balance"))
		n.Go(func(ctx context.Context) error {
			err := never(ctx) // a sibling, cancelled by the timeout's failure
			fmt.Println("sibling:", context.Cause(ctx))
			return err
		})
		return nil
	})
	fmt.Println("Run:", err)
	fmt.Println(errors.Is(err, timeout.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	// Output:
	// sibling: task "balance": timeout: deadline of 10ms exceeded
	// Run: task "balance": timeout: deadline of 10ms exceeded
	// true true
}

// Only the timeout that fired reports it: an inner FailAfter whose
// deadline is later lets the outer one's expiry pass through, and the
// outer MoveOnAfter absorbs it.
func Example_timeoutNested() {
	timedOut, err := timeout.MoveOnAfter(context.Background(), 10*time.Millisecond, func(ctx context.Context) error {
		err := timeout.FailAfter(ctx, time.Hour, never)
		fmt.Println("inner:", err, "; inner timed out:", errors.Is(err, timeout.ErrTimeout))
		return err
	})
	fmt.Println("outer timed out:", timedOut, "; error:", err)
	// Output:
	// inner: context deadline exceeded ; inner timed out: false
	// outer timed out: true ; error: <nil>
}

// The trap: a deadline on the ctx of the code that calls Go. The task's
// ctx is the nursery's, so the deadline does not reach the task.
func Example_timeoutTrapAroundGo() {
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		short, stop := context.WithTimeout(ctx, time.Millisecond)
		defer stop()
		_ = short // the task below does not get it
		n.Go(func(ctx context.Context) error {
			_, hasDeadline := ctx.Deadline()
			fmt.Println("the task has a deadline:", hasDeadline)
			return nil
		})
		return nil
	})
	fmt.Println(err)
	// Output:
	// the task has a deadline: false
	// <nil>
}

// The trap: work that makes a fresh context instead of using the one it
// was given. The deadline passes, and nothing listens.
func Example_timeoutTrapFreshContext() {
	query := func(ctx context.Context) error {
		t := time.NewTimer(20 * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := timeout.FailAfter(context.Background(), time.Millisecond, func(ctx context.Context) error {
		return query(context.Background()) // structvet: SV004
	})
	fmt.Println("err:", err, "; the work ran to its end, past the deadline")
	// Output: err: <nil> ; the work ran to its end, past the deadline
}
