package barego

import (
	"context"
	"groups"
)

// Reported: Fetch's goroutine runs on after the caller gives up.
func firstOrCancel(ctx context.Context) (groups.Result, error) {
	ch := groups.Fetch(ctx, "a") // want `SV002: the goroutine that Fetch starts outlives firstOrCancel: the return on line 15 is reached without waiting for it; receive from ch on every path`
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return groups.Result{}, ctx.Err()
	}
}

func neverRead(ctx context.Context) {
	ch := groups.Fetch(ctx, "a") // want `SV002: nothing waits for the goroutine that Fetch starts before neverRead returns: receive from ch on every path`
	if ch == nil {
		return
	}
}

// The same with a helper of this package.
func fetchHere(url string) <-chan string {
	ch := make(chan string)
	go func() { ch <- url }()
	return ch
}

func firstOrCancelHere(ctx context.Context) string {
	ch := fetchHere("a") // want `SV002: the goroutine that fetchHere starts outlives firstOrCancelHere`
	select {
	case s := <-ch:
		return s
	case <-ctx.Done():
		return ""
	}
}

// Not reported: received on every path, handed on, or waited for by the
// helper itself.
func fetchOne(ctx context.Context) groups.Result {
	ch := groups.Fetch(ctx, "a")
	return <-ch
}

func fetchLater(ctx context.Context) <-chan groups.Result {
	ch := groups.Fetch(ctx, "a")
	return ch
}

func collectedByHelper(ctx context.Context) <-chan groups.Result {
	ch := groups.Collect(ctx, "a")
	select {
	case <-ctx.Done():
		return nil
	default:
	}
	return ch
}
