//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/structured-go/structured/cancel"
	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/timeout"
)

// flush stands for cleanup that needs a live ctx: a request, a write.
func flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}

// Cleanup after cancellation: the task's ctx is done, so cleanup that
// must still block needs a ctx of its own: shielded from the
// cancellation, with a deadline so that it cannot block for ever.
func Example_cancelCleanupUnderShield() {
	var unshielded, shielded error
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			defer func() {
				unshielded = flush(ctx) // the task's ctx is done: this fails at once
				_, shielded = timeout.MoveOnAfter(ctx, 5*time.Second, flush, timeout.WithShield())
			}()
			return never(ctx)
		})
		n.Cancel(errors.New("shutting down"))
		return nil
	})
	fmt.Println("without a shield:", unshielded)
	fmt.Println("with a shield:", shielded)
	fmt.Println("Run:", err)
	// Output:
	// without a shield: flush: context canceled
	// with a shield: <nil>
	// Run: <nil>
}

// Contexts are level-triggered: once done, every later wait on it ends at
// once, and every later check sees it. The cancellation cannot be
// "swallowed" by catching it once.
func Example_cancelLevelTriggered() {
	ctx, stop := context.WithCancelCause(context.Background())
	stop(errors.New("user pressed Ctrl-C"))
	for i := range 3 {
		err := cancel.Sleep(ctx, time.Hour)
		fmt.Println("wait", i, "ended at once:", err)
	}
	// Output:
	// wait 0 ended at once: user pressed Ctrl-C
	// wait 1 ended at once: user pressed Ctrl-C
	// wait 2 ended at once: user pressed Ctrl-C
}

// A cancel scope, cancelled from another task: it knows afterwards that it
// was, and its own cancellation is not an error.
func Example_cancelScopeFromAnotherTask() {
	s := cancel.New()
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			return s.Run(ctx, never) // a search that runs until told to stop
		})
		n.Go(func(ctx context.Context) error {
			s.Cancel(errors.New("found it elsewhere"))
			return nil
		})
		return nil
	})
	fmt.Println(err, s.CancelCalled(), s.CancelledCaught())
	// Output: <nil> true true
}

// The trap: a loop that carries on after its operations fail, without
// asking why. After cancellation every operation fails at once, and the
// loop spins through the rest of its work.
func Example_cancelTrapSwallow() {
	attempted := 0
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			<-ctx.Done() // the nursery is cancelled before the task gets to its items
			for _, item := range []string{"a", "b", "c", "d"} {
				if err := flush(ctx); err != nil {
					attempted++
					continue // logged and skipped: the cancellation is swallowed
				}
				_ = item
			}
			return nil
		})
		n.Cancel(nil)
		return nil
	})
	fmt.Println(err, "; items attempted after the cancellation:", attempted)
	// Output: <nil> ; items attempted after the cancellation: 4
}
