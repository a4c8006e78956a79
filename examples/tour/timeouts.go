package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/timeout"
)

// timeoutChapter shows three ways of giving up on slow work.
func timeoutChapter(ctx context.Context, server string) error {
	// An optional extra: give up quietly and carry on without it.
	//
	//	with trio.move_on_after(0.1):
	//	    recommendations = await fetch("/50")
	fmt.Println("An optional request that would take 50 units, abandoned after 10 (MoveOnAfter):")
	t0 := time.Now()
	timedOut, err := timeout.MoveOnAfter(ctx, 10*unit, func(ctx context.Context) error {
		return get(ctx, server, "/50")
	})
	fmt.Printf("  timed out: %v, error: %v, after %v: the page renders without it\n", timedOut, err, round(time.Since(t0)))
	if !timedOut || err != nil {
		return errors.New("MoveOnAfter did not move on")
	}

	// A required piece: give up with an error.
	//
	//	async with asyncio.timeout(0.1):   # or asyncio.wait_for(fetch("/50"), 0.1)
	//	    balance = await fetch("/50")   # raises TimeoutError
	fmt.Println("\nA required request, failing after 10 units (FailAfter):")
	t0 = time.Now()
	err = timeout.FailAfter(ctx, 10*unit, func(ctx context.Context) error {
		return get(ctx, server, "/50")
	})
	fmt.Printf("  error after %v: %v\n", round(time.Since(t0)), err)
	fmt.Printf("  errors.Is(err, timeout.ErrTimeout): %v, errors.Is(err, context.DeadlineExceeded): %v\n",
		errors.Is(err, timeout.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	if !errors.Is(err, timeout.ErrTimeout) {
		return errors.New("FailAfter did not fail with ErrTimeout")
	}

	// A deadline that moves while the work runs.
	//
	//	async with asyncio.timeout(0.1) as cm:
	//	    for step in steps:
	//	        await step()
	//	        cm.reschedule(loop.time() + 0.1)   # progress earns more time
	fmt.Println("\nA deadline of 10 units that moves 10 units later after each step (timeout.New, Reschedule):")
	t := timeout.New(10 * unit)
	steps := 0
	err = t.Run(ctx, func(ctx context.Context) error {
		for range 3 {
			if err := get(ctx, server, "/6"); err != nil { // 6 units a step, 18 in all
				return err
			}
			steps++
			if err := t.Reschedule(time.Now().Add(10 * unit)); err != nil {
				return err
			}
		}
		return nil
	})
	fmt.Printf("  %d steps of 6 units, 18 in all, each within the moving deadline; error: %v, expired: %v\n", steps, err, t.Expired())
	if err != nil || steps != 3 || t.Expired() {
		return errors.New("the rescheduled deadline did not give the work its time")
	}

	// Cleanup after cancellation: a task is cancelled, but it must still
	// tell the server it is leaving, which takes a request. Its context is
	// done, so the request needs a shield, and a deadline of its own.
	//
	//	except trio.Cancelled:
	//	    with trio.move_on_after(1, shield=True):
	//	        await tell_the_server_we_are_leaving()
	//	    raise
	fmt.Println("\nA cancelled task that must still send one cleanup request, without and with a shield (WithShield):")
	var unshielded, shielded error
	err = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			defer func() {
				unshielded = get(ctx, server, "/2")
				_, shielded = timeout.MoveOnAfter(ctx, 50*unit, func(ctx context.Context) error {
					return get(ctx, server, "/2")
				}, timeout.WithShield())
			}()
			return get(ctx, server, "/100") // cancelled long before it ends
		})
		n.Cancel(errors.New("the user closed the page"))
		return nil
	})
	fmt.Printf("  the cleanup request with the task's ctx: %v\n", unshielded)
	fmt.Printf("  the cleanup request under a shield:    %v (nil: it got through)\n", shielded)
	fmt.Printf("  the nursery: %v (cancelling is not a failure)\n", err)
	if unshielded == nil || shielded != nil || err != nil {
		return errors.New("the shield did not protect the cleanup")
	}
	return nil
}
