package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
)

// rateChapter fetches 30 pages politely: at most 3 requests in flight (a
// Semaphore) and at most 20 started a second (a Limiter), then reports what
// it saw.
//
// In Python:
//
//	sem = asyncio.Semaphore(3)
//	async def fetch_politely(url):
//	    async with sem:
//	        await limiter.acquire()   # e.g. aiolimiter.AsyncLimiter(20, 1)
//	        return await fetch(url)
//	await asyncio.gather(*(fetch_politely(u) for u in urls))
func rateChapter(ctx context.Context, server string) error {
	const pages, inFlight, perSecond = 30, 3, 20
	// Each page takes 15 units, so 3 in flight also make about 20 a second:
	// both limits are at work.
	const path = "/15"
	fmt.Printf("%d requests of %v each, at most %d in flight and %d started a second.\n",
		pages, 15*unit, inFlight, perSecond)

	sem := ratelimit.NewSemaphore(inFlight)
	lim := ratelimit.NewLimiter(perSecond, 1)
	var mu sync.Mutex
	var now, peak int
	var starts []time.Duration
	t0 := time.Now()
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for range pages {
			n.Go(func(ctx context.Context) error {
				return sem.Do(ctx, 1, func(ctx context.Context) error { // async with sem:
					if err := lim.Wait(ctx); err != nil {
						return err
					}
					mu.Lock()
					now++
					peak = max(peak, now)
					starts = append(starts, time.Since(t0))
					mu.Unlock()
					defer func() {
						mu.Lock()
						now--
						mu.Unlock()
					}()
					return get(ctx, server, path)
				})
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(starts)

	// The busiest second: the most starts within any one second.
	busiest := 0
	for i := range starts {
		j, _ := slices.BinarySearch(starts, starts[i]+time.Second)
		busiest = max(busiest, j-i)
	}
	rate := float64(len(starts)-1) / (starts[len(starts)-1] - starts[0]).Seconds()
	fmt.Printf("  fetched %d; at most %d in flight at once\n", len(starts), peak)
	fmt.Printf("  the busiest second saw %d starts (at most 21 may: a burst of 1, plus 20)\n", busiest)
	fmt.Printf("  overall about %.0f a second\n", math.Round(rate))
	if len(starts) != pages || peak > inFlight || busiest > perSecond+1 || rate > perSecond*1.05 {
		return errors.New("the limits did not hold")
	}

	// A limit per client: each key has a bucket of its own.
	fmt.Println("\nA limit per client (ratelimit.NewKeyed): bursts of 2, then 1 a second, for each of three clients:")
	perClient := ratelimit.NewKeyed[string](1, 2)
	allowed := map[string]int{}
	for range 5 {
		for _, client := range []string{"ann", "bob", "cy"} {
			if perClient.Allow(client) {
				allowed[client]++
			}
		}
	}
	fmt.Printf("  5 requests each at once: ann %d allowed, bob %d, cy %d; the rest refused\n", allowed["ann"], allowed["bob"], allowed["cy"])
	if allowed["ann"] != 2 || allowed["bob"] != 2 || allowed["cy"] != 2 {
		return errors.New("the per-client limit did not hold")
	}
	return nil
}
