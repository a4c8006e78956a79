// Package clean is structured: every goroutine is joined before its
// function returns, and every wait takes the caller's context.
package clean

import (
	"context"
	"sync"
	"time"
)

func fetch(ctx context.Context, id int) error { return ctx.Err() }

// FetchAll waits for every fetch it starts.
func FetchAll(ctx context.Context, ids []int) error {
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = fetch(ctx, id)
		}()
	}
	wg.Wait()
	return nil
}

// Retry waits between attempts for as long as ctx lets it.
func Retry(ctx context.Context) error {
	var err error
	for i := range 3 {
		if err = fetch(ctx, i); err == nil {
			return nil
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

// Suppressed shows the ignore comment.
func Suppressed() {
	//structvet:ignore SV002 the profiler runs as long as the process
	go func() {}()
}
