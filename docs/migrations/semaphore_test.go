package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/structured-go/structured/ratelimit"
)

// squaresXSync is x/sync/semaphore's own worker pool: at most GOMAXPROCS
// workers at once, and an Acquire of the whole semaphore to wait for them.
// docs/migrating-from-x-sync-semaphore.md shows the diff to squares.
func squaresXSync(ctx context.Context, n int) []int {
	results := make([]int, n)
	sem := semaphore.NewWeighted(int64(runtime.GOMAXPROCS(0)))
	for i := range results {
		if err := sem.Acquire(ctx, 1); err != nil {
			break
		}
		go func() {
			defer sem.Release(1)
			results[i] = i * i
		}()
	}
	if err := sem.Acquire(ctx, int64(runtime.GOMAXPROCS(0))); err != nil { // wait for the workers
		return nil
	}
	return results
}

// squares is the same pool, ported to ratelimit.
func squares(ctx context.Context, n int) []int {
	results := make([]int, n)
	sem := ratelimit.NewWeighted(int64(runtime.GOMAXPROCS(0)))
	for i := range results {
		if err := sem.Acquire(ctx, 1); err != nil {
			break
		}
		go func() {
			defer sem.Release(1)
			results[i] = i * i
		}()
	}
	if err := sem.Acquire(ctx, int64(runtime.GOMAXPROCS(0))); err != nil { // wait for the workers
		return nil
	}
	return results
}

func Example_semaphorePort() {
	ctx := context.Background()
	fmt.Println("x/sync:   ", squaresXSync(ctx, 8))
	fmt.Println("ratelimit:", squares(ctx, 8))
	// Output:
	// x/sync:    [0 1 4 9 16 25 36 49]
	// ratelimit: [0 1 4 9 16 25 36 49]
}

// A request larger than the capacity: x/sync/semaphore waits until ctx
// ends; ratelimit fails at once.
func Example_semaphoreTooBig() {
	ctx, stop := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer stop()
	before := semaphore.NewWeighted(2)
	fmt.Println("x/sync:   ", before.Acquire(ctx, 3)) // after 10ms

	after := ratelimit.NewWeighted(2)
	err := after.Acquire(context.Background(), 3) // at once, even without a deadline
	fmt.Println("ratelimit:", errors.Is(err, ratelimit.ErrExceedsCapacity), err)
	// Output:
	// x/sync:    context deadline exceeded
	// ratelimit: true ratelimit: Semaphore.Acquire(n=3) exceeds the semaphore's capacity of 2
}
