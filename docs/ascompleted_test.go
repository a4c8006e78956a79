//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"go.uber.org/goleak"

	"github.com/structured-go/structured/nursery"
)

// Results as they finish. A failure cancels nothing: the loop gets every
// result, failures included.
func Example_asCompleted() {
	check := func(name string, err error) func(context.Context) (string, error) {
		return func(ctx context.Context) (string, error) { return name, err }
	}
	for i, r := range nursery.AsCompleted(context.Background(),
		check("disk", nil), check("dns", errors.New("dns: no answer")), check("db", nil)) {
		if r.Err != nil {
			fmt.Println(i, "failed:", r.Err)
			continue // the others go on
		}
		fmt.Println(i, "passed:", r.Value)
	}
	// Unordered output:
	// 0 passed: disk
	// 1 failed: dns: no answer
	// 2 passed: db
}

// Enough results: break. The functions still running are cancelled, and
// the range statement ends only once they have returned.
func Example_asCompletedBreak() {
	var running atomic.Int32
	search := func(i int) func(context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			running.Add(1)
			defer running.Add(-1)
			if i >= 2 {
				<-ctx.Done() // slow replicas: still searching
				return 0, ctx.Err()
			}
			return i, nil
		}
	}
	got := 0
	for _, r := range nursery.AsCompleted(context.Background(), search(0), search(1), search(2), search(3)) {
		if r.Err == nil {
			got++
		}
		if got == 2 {
			break
		}
	}
	fmt.Println("results:", got, "still running after the loop:", running.Load())
	// Output: results: 2 still running after the loop: 0
}

// The trap: results on a channel from bare goroutines, and a loop that
// stops early. The senders that come after it block for ever: goleak finds
// them.
func Example_asCompletedTrapChannel() {
	ctx := context.Background()
	before := goleak.IgnoreCurrent()
	gate := make(chan struct{})
	fetch := func(ctx context.Context, i int) int {
		if i > 0 {
			<-gate // the later ones finish after the loop has stopped
		}
		return i
	}

	results := make(chan int)
	for i := range 3 {
		go func() { results <- fetch(ctx, i) }()
	}
	first := <-results // enough: stop after the first
	close(gate)

	leaks := goleak.Find(before)
	fmt.Println("first:", first)
	fmt.Println("goroutines blocked on their send:", strings.Count(fmt.Sprint(leaks), "in state chan send"))
	<-results // the clean-up the trap never does
	<-results
	// Output:
	// first: 0
	// goroutines blocked on their send: 2
}
