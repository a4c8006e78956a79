package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/structured-go/structured/cancel"
	"github.com/structured-go/structured/nursery"
)

// scopeChapter cancels a block of work from another task, and sleeps until
// a ctx ends.
//
// In Python (trio):
//
//	with trio.CancelScope() as scope:
//	    await search()              # another task calls scope.cancel()
//	print(scope.cancel_called, scope.cancelled_caught)
func scopeChapter(ctx context.Context, server string) error {
	fmt.Println("A search in a cancel scope, cancelled by another task once the answer turns up elsewhere (cancel.New):")
	s := cancel.New()
	t0 := time.Now()
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			return s.Run(ctx, func(ctx context.Context) error {
				return get(ctx, server, "/100") // a long search
			})
		})
		n.Go(func(ctx context.Context) error {
			if err := get(ctx, server, "/3"); err != nil {
				return err
			}
			s.Cancel(errors.New("found it elsewhere"))
			return nil
		})
		return nil
	})
	fmt.Printf("  Run returned after %v: %v\n", round(time.Since(t0)), err)
	fmt.Printf("  CancelCalled: %v, CancelledCaught: %v (the scope's own cancellation is not an error)\n", s.CancelCalled(), s.CancelledCaught())
	if err != nil || !s.CancelCalled() || !s.CancelledCaught() {
		return errors.New("the scope did not catch its own cancellation")
	}

	fmt.Println("\ncancel.Sleep(ctx, time.Hour), and a task that cancels ctx after 2 units:")
	t0 = time.Now()
	var slept error
	err = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		sleepCtx, stop := context.WithCancelCause(ctx)
		defer stop(nil)
		n.Go(func(ctx context.Context) error {
			if err := get(ctx, server, "/2"); err != nil {
				return err
			}
			stop(errors.New("the user pressed Stop"))
			return nil
		})
		slept = cancel.Sleep(sleepCtx, time.Hour)
		return nil
	})
	fmt.Printf("  the hour's sleep ended after %v, saying why: %v\n", round(time.Since(t0)), slept)
	if err != nil || slept == nil || time.Since(t0) > time.Minute {
		return errors.New("cancel.Sleep did not end with its ctx")
	}
	return nil
}
