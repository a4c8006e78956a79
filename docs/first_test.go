//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/structured-go/structured/nursery"
)

// The first to finish, success or failure (asyncio's FIRST_COMPLETED):
// AsCompleted, and break after the first result. The break cancels the
// others, and the loop statement ends once they have returned.
func Example_firstCompleted() {
	mirror := func(i int) func(context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			if i != 1 {
				<-ctx.Done() // slower than mirror 1
				fmt.Printf("mirror %d: %v\n", i, ctx.Err())
				return "", ctx.Err()
			}
			return "file from mirror 1", nil
		}
	}
	for i, r := range nursery.AsCompleted(context.Background(), mirror(0), mirror(1)) {
		fmt.Println("first to finish:", i, r.Value, r.Err)
		break // cancels the others, and waits for them
	}
	fmt.Println("after the loop: nothing is left running")
	// Output:
	// first to finish: 1 file from mirror 1 <nil>
	// mirror 0: context canceled
	// after the loop: nothing is left running
}

// When every function fails, Race returns all their errors.
func Example_firstCompletedAllFail() {
	_, err := nursery.Race(context.Background(),
		func(ctx context.Context) (string, error) { return "", errors.New("dial 192.0.2.1: refused") },
		func(ctx context.Context) (string, error) { return "", errors.New("dial 192.0.2.2: refused") },
	)
	fmt.Println(err != nil, errors.Is(err, nursery.ErrNoTasks))
	// Output: true false
}

// firstOf is the trap: the first answer wins, and the loser is left
// running, with nobody to cancel it or to wait for it.
func firstOf(ctx context.Context, fns ...func(context.Context) string) string {
	answers := make(chan string, len(fns))
	for _, fn := range fns {
		go func() { answers <- fn(ctx) }()
	}
	return <-answers
}

func Example_firstCompletedTrapBareGoroutines() {
	ctx, stop := context.WithCancel(context.Background())
	var loserDone atomic.Bool
	finished := make(chan struct{})
	fast := func(ctx context.Context) string { return "fast" }
	slow := func(ctx context.Context) string {
		defer close(finished)
		<-ctx.Done() // nobody cancels this ctx for it
		loserDone.Store(true)
		return "slow"
	}
	fmt.Println(firstOf(ctx, fast, slow))
	fmt.Println("the loser had finished when firstOf returned:", loserDone.Load())
	stop() // here the caller cleans up after firstOf
	<-finished
	// Output:
	// fast
	// the loser had finished when firstOf returned: false
}
