package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/structured-go/structured/nursery"
)

// failureChapter shows one failing request cancelling its siblings: Run
// returns the failure, not a pile of "context canceled", and returns as soon
// as the siblings have stopped, not when they would have finished.
//
// In Python:
//
//	async with asyncio.TaskGroup() as tg:
//	    for url in urls:
//	        tg.create_task(fetch(url))
//	# raises ExceptionGroup([HTTPError(...)]); the other tasks were cancelled
func failureChapter(ctx context.Context, server string) error {
	paths := []string{"/50", "/fail/3", "/60", "/70"}
	fmt.Printf("Four requests; %s fails after 3 units, the others would take 50 to 70.\n\n", paths[1])

	var mu sync.Mutex
	cancelled := 0
	t0 := time.Now()
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for _, p := range paths {
			n.Go(func(ctx context.Context) error {
				err := get(ctx, server, p)
				if ctx.Err() != nil {
					mu.Lock()
					defer mu.Unlock()
					cancelled++
					fmt.Printf("  %s cancelled at %v, because: %v\n", p, round(time.Since(t0)), context.Cause(ctx))
				}
				return err
			})
		}
		return nil
	})
	elapsed := time.Since(t0)
	fmt.Printf("\nRun returned after %v: %v\n", round(elapsed), err)

	var status *statusError
	switch {
	case !errors.As(err, &status):
		return fmt.Errorf("want the 500 back from Run, got %v", err)
	case cancelled != 3:
		return fmt.Errorf("%d siblings were cancelled, want 3", cancelled)
	case elapsed >= 50*unit:
		return errors.New("Run waited for the siblings to finish instead of cancelling them")
	}
	return nil
}
