package barego

import (
	"context"
	"errors"
)

// Not reported: started and waited for under the same condition.
func maybeAsync(async bool, items []int) int {
	done := make(chan struct{})
	if async {
		go func() { defer close(done) }()
	}
	n := len(items)
	if async {
		<-done
	}
	return n
}

// Reported: the test may go the other way the second time.
func maybeAsyncRetested(async bool, again func() bool) {
	done := make(chan struct{})
	if async {
		go func() { defer close(done) }() // want `SV002: this goroutine outlives maybeAsyncRetested: the end of maybeAsyncRetested \(line 31\) is reached`
	}
	async = again()
	if async {
		<-done
	}
}

// Reported, every return that leaves the goroutine behind named.
func twoWaysOut(ctx context.Context, check func() error) (int, error) {
	ch := make(chan int)
	go func() { ch <- 42 }() // want `SV002: this goroutine outlives twoWaysOut: the returns on lines 38 and 44 are reached without waiting for it`
	if err := check(); err != nil {
		return 0, err
	}
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return 0, errors.Join(ctx.Err(), errors.New("gave up"))
	}
}
