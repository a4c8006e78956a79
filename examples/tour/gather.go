package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/structured-go/structured/nursery"
)

// gatherChapter collects values: Gather in the order asked, whatever the
// order of finishing; Map over a slice, at most 4 at once.
//
// In Python:
//
//	bodies = await asyncio.gather(fetch("/6"), fetch("/2"), fetch("/4"))
func gatherChapter(ctx context.Context, server string) error {
	fmt.Println("Three pages with Gather: the values come back in the order asked, not the order they finished.")
	page := func(path string) func(context.Context) (string, error) {
		return func(ctx context.Context) (string, error) { return fetch(ctx, server, path) }
	}
	bodies, err := nursery.Gather(ctx, page("/6"), page("/2"), page("/4"))
	if err != nil {
		return err
	}
	fmt.Printf("  Gather(/6, /2, /4) = %q\n", bodies)
	if !slices.Equal(bodies, []string{"slept 6", "slept 2", "slept 4"}) {
		return errors.New("Gather did not keep the order of its arguments")
	}

	// In Python:
	//
	//	sem = asyncio.Semaphore(4)
	//	async def bounded(path):
	//	    async with sem:
	//	        return await fetch(path)
	//	bodies = await asyncio.gather(*(bounded(p) for p in paths))
	fmt.Println("\nTwelve pages with Map, at most 4 requests at once (WithLimit):")
	paths := []string{"/3", "/1", "/4", "/1", "/5", "/9", "/2", "/6", "/5", "/3", "/5", "/8"}
	var mu sync.Mutex
	running, peak := 0, 0
	bodies, err = nursery.Map(ctx, paths, func(ctx context.Context, path string) (string, error) {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		defer func() {
			mu.Lock()
			running--
			mu.Unlock()
		}()
		return fetch(ctx, server, path)
	}, nursery.WithLimit(4))
	if err != nil {
		return err
	}
	fmt.Printf("  %d bodies, in the order of the paths: the first %q, the last %q\n", len(bodies), bodies[0], bodies[len(bodies)-1])
	fmt.Printf("  at most %d requests in flight at once\n", peak)
	if len(bodies) != len(paths) || bodies[0] != "slept 3" || bodies[11] != "slept 8" || peak > 4 {
		return errors.New("Map did not keep its order or its limit")
	}

	fmt.Println("\nForEach: the same for work with no value, here warming a cache with the twelve pages:")
	var warmed atomic.Int32
	err = nursery.ForEach(ctx, paths, func(ctx context.Context, path string) error {
		if err := get(ctx, server, path); err != nil {
			return err
		}
		warmed.Add(1)
		return nil
	}, nursery.WithLimit(4))
	fmt.Printf("  %d pages warmed, error: %v\n", warmed.Load(), err)
	if err != nil || warmed.Load() != int32(len(paths)) {
		return errors.New("ForEach did not visit every page")
	}
	return nil
}
