package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/structured-go/structured/nursery"
)

// raceChapter prints pages as they finish, and races two replicas.
//
// In Python:
//
//	for next_done in asyncio.as_completed([fetch(p) for p in paths]):
//	    print(await next_done)
//
//	done, pending = await asyncio.wait(replicas, return_when=FIRST_COMPLETED)
func raceChapter(ctx context.Context, server string) error {
	paths := []string{"/8", "/3", "/6", "/1", "/4"}
	fmt.Println("Five pages at once; AsCompleted yields each as it finishes, with its index:")
	fns := make([]func(context.Context) (time.Duration, error), len(paths))
	for i, p := range paths {
		fns[i] = func(ctx context.Context) (time.Duration, error) {
			t0 := time.Now()
			err := get(ctx, server, p)
			return time.Since(t0), err
		}
	}
	t0 := time.Now()
	var cumulative time.Duration
	var order []string
	for i, r := range nursery.AsCompleted(ctx, fns...) {
		if r.Err != nil {
			return r.Err
		}
		cumulative += r.Value
		order = append(order, paths[i])
		fmt.Printf("  %d: %s done at %v\n", i, paths[i], round(time.Since(t0)))
	}
	total := time.Since(t0)
	fmt.Printf("  all five in %v; their times add up to %v, what one after another would take\n", round(total), round(cumulative))
	if order[0] != "/1" || order[4] != "/8" || total >= cumulative/2 {
		return fmt.Errorf("AsCompleted yielded %v in %v", order, total)
	}

	fmt.Println("\nRace: the same page from two replicas, /50 and /5; the first answer wins, the other is cancelled:")
	var slowErr error
	body, err := nursery.Race(ctx,
		func(ctx context.Context) (string, error) {
			b, err := fetch(ctx, server, "/50")
			slowErr = err // written before Race returns: it waits for the loser
			return b, err
		},
		func(ctx context.Context) (string, error) { return fetch(ctx, server, "/5") },
	)
	fmt.Printf("  Race = %q, error %v\n", body, err)
	fmt.Printf("  the slow replica's request, when Race returned: %v\n", slowErr)
	if err != nil || body != "slept 5" || slowErr == nil {
		return errors.New("Race did not take the first answer and cancel the other")
	}
	return nil
}
