//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/structured-go/structured/nursery"
)

// A plain channel between tasks of a nursery: the producer closes it when
// it is done (no sentinel value), and selects on ctx.Done() so that it
// stops when the consumers have failed.
func Example_producerConsumerChannel() {
	var mu sync.Mutex
	var squares []int
	jobs := make(chan int)
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { // the producer
			defer close(jobs) // only the sender closes
			for j := range 5 {
				select {
				case jobs <- j:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
		for range 2 { // the consumers
			n.Go(func(ctx context.Context) error {
				for j := range jobs {
					mu.Lock()
					squares = append(squares, j*j)
					mu.Unlock()
				}
				return nil
			})
		}
		return nil
	})
	slices.Sort(squares)
	fmt.Println(squares, err)
	// Output: [0 1 4 9 16] <nil>
}

// A consumer fails: the producer's send gives up, since it selects on
// ctx.Done(), and Run returns the consumer's error.
func Example_producerConsumerFailure() {
	jobs := make(chan int)
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			defer close(jobs)
			for j := 0; ; j++ { // an endless producer
				select {
				case jobs <- j:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		})
		n.Go(func(ctx context.Context) error {
			for j := range jobs {
				if j == 2 {
					return errors.New("job 2: bad input")
				}
			}
			return nil
		})
		return nil
	})
	fmt.Println(err)
	// Output: job 2: bad input
}

// The trap: a producer whose send does not select on ctx.Done(). Once the
// consumer has failed, nobody receives, the send blocks for ever, and Run,
// which waits for every task, never returns. Here the program drains the
// channel to rescue it; without that, it would hang.
func Example_producerConsumerTrapBlockedSend() {
	ctx := context.Background()
	jobs := make(chan int)
	done := make(chan error, 1)
	go func() {
		done <- nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				for j := range 10 {
					jobs <- j // blocks for ever once the consumer has gone
				}
				close(jobs)
				return nil
			})
			n.Go(func(ctx context.Context) error {
				for j := range jobs {
					if j == 2 {
						return errors.New("job 2: bad input")
					}
				}
				return nil
			})
			return nil
		})
	}()
	select {
	case err := <-done:
		fmt.Println("Run returned:", err)
	case <-time.After(20 * time.Millisecond):
		fmt.Println("Run is still waiting: the producer is stuck in its send")
	}
	for range jobs { // the rescue: drain, so that the producer can finish
	}
	fmt.Println("after draining, Run:", <-done)
	// Output:
	// Run is still waiting: the producer is stuck in its send
	// after draining, Run: job 2: bad input
}
