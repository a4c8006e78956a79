//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/structured-go/structured/nursery"
)

// After a failure under a limit, Go returns at once, and the tasks it was
// given still run, one by one, with their ctx already done: cleanup code can
// rely on running. A loop that feeds the nursery checks ctx to stop early.
func Example_limitAfterFailure() {
	var ran, ranCancelled atomic.Int32
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { return errors.New("disk full") })
		<-ctx.Done() // the failure has cancelled the nursery
		for range 5 {
			n.Go(func(ctx context.Context) error { // returns at once: the task waits in a queue
				ran.Add(1)
				if ctx.Err() != nil {
					ranCancelled.Add(1)
				}
				return ctx.Err()
			})
		}
		for range 5 {
			if ctx.Err() != nil {
				break // the one-line fix: stop feeding a cancelled nursery
			}
			n.Go(func(ctx context.Context) error { return nil })
		}
		return nil
	}, nursery.WithLimit(1))
	fmt.Println(err, "; ran:", ran.Load(), "; with a done ctx:", ranCancelled.Load())
	// Output: disk full ; ran: 5 ; with a done ctx: 5
}

// The trap: a task that starts a task in its own nursery under WithLimit,
// and waits for it. The child needs a slot, and the parent holds it: the
// parent's Spawn waits for ever. Here the body sees it and cancels the
// nursery, to show it; a cancelled nursery's Spawn returns at once.
func Example_limitTrapTaskStartsTask() {
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		parentDone := make(chan struct{})
		n.Go(func(ctx context.Context) error {
			defer close(parentDone)
			child := n.Spawn(func(ctx context.Context) error { return nil }) // waits for the slot this task holds
			_, err := child.Wait(ctx)
			fmt.Println("the parent's wait for its child:", err)
			return nil
		})
		select {
		case <-parentDone:
			fmt.Println("the parent finished")
		case <-time.After(20 * time.Millisecond):
			fmt.Println("the parent is stuck: its Spawn waits for the slot it holds itself")
			n.Cancel(nil) // the rescue
		}
		return nil
	}, nursery.WithLimit(1))
	fmt.Println("Run:", err)
	// Output:
	// the parent is stuck: its Spawn waits for the slot it holds itself
	// the parent's wait for its child: context canceled
	// Run: <nil>
}
