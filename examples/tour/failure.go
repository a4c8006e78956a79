package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/multierr"

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

	// In Python, trio's nurseries and TaskGroups always cancel; gather
	// with return_exceptions=True does not:
	//
	//	outcomes = await asyncio.gather(*calls, return_exceptions=True)
	fmt.Println("\nThe same kind of requests with WithCollectAll: a failure cancels nothing, and Run returns every error.")
	collected := []string{"/5", "/fail/3", "/6", "/fail/1"}
	finished := 0
	err = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for _, p := range collected {
			n.Go(func(ctx context.Context) error {
				err := get(ctx, server, p)
				if err == nil {
					mu.Lock()
					finished++
					mu.Unlock()
				}
				return err
			})
		}
		return nil
	}, nursery.WithCollectAll())
	errs := multierr.Errors(err)
	for _, e := range errs {
		fmt.Println("  error:", e)
	}
	fmt.Printf("  the other %d requests ran to their end\n", finished)
	if len(errs) != 2 || finished != 2 {
		return fmt.Errorf("WithCollectAll gave %d errors and %d finished requests, want 2 and 2", len(errs), finished)
	}

	fmt.Println("\nThe same with WithFirstError as well: only the first error, as errgroup returns it.")
	err = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for _, p := range collected {
			n.Go(func(ctx context.Context) error { return get(ctx, server, p) })
		}
		return nil
	}, nursery.WithCollectAll(), nursery.WithFirstError())
	fmt.Println("  error:", err)
	if !errors.As(err, &status) || len(multierr.Errors(err)) != 1 {
		return fmt.Errorf("WithFirstError returned %v, want one error", err)
	}

	fmt.Println("\nAllSettled: every outcome, value or error, in the order asked:")
	settled := []string{"/2", "/fail/1", "/3"}
	results, err := nursery.AllSettled(ctx,
		func(ctx context.Context) (string, error) { return fetch(ctx, server, settled[0]) },
		func(ctx context.Context) (string, error) { return fetch(ctx, server, settled[1]) },
		func(ctx context.Context) (string, error) { return fetch(ctx, server, settled[2]) },
	)
	if err != nil {
		return err
	}
	for i, r := range results {
		fmt.Printf("  %-8s value %q, error %v\n", settled[i], r.Value, r.Err)
	}
	if results[0].Err != nil || results[1].Err == nil || results[2].Value != "slept 3" {
		return errors.New("AllSettled did not return every outcome in order")
	}

	fmt.Println("\nMapSettled: the same over a slice, with the nursery's options:")
	outcomes, err := nursery.MapSettled(ctx, settled, func(ctx context.Context, path string) (string, error) {
		return fetch(ctx, server, path)
	}, nursery.WithLimit(2))
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range outcomes {
		if r.Err != nil {
			failed++
		}
	}
	fmt.Printf("  %d outcomes, %d of them errors\n", len(outcomes), failed)
	if len(outcomes) != 3 || failed != 1 {
		return errors.New("MapSettled did not return every outcome")
	}
	return nil
}
