package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/structured-go/structured/nursery"
)

// The delays of the Python demonstration, in units.
var delays = []int{7, 2, 6, 4, 0, 9, 4, 2, 5, 5}

// fetchChapter is the classic demonstration: ten slow requests one after
// another take the sum of their delays; in a nursery they take about the
// longest one, and they finish in the order of their delays.
//
// In Python:
//
//	results = await asyncio.gather(*(fetch(f"/{d}") for d in delays))
func fetchChapter(ctx context.Context, server string) error {
	fmt.Printf("Ten requests; each takes its number in units of %v.\n\n", unit)

	fmt.Println("One after another:")
	t0 := time.Now()
	for _, d := range delays {
		if err := get(ctx, server, fmt.Sprintf("/%d", d)); err != nil {
			return err
		}
		fmt.Printf("  /%d done at %v\n", d, round(time.Since(t0)))
	}
	sequential := time.Since(t0)

	fmt.Println("\nIn a nursery, all at once (2, 4 and 5 are twice in the list, so those pairs finish together):")
	var mu sync.Mutex // serialises the printing
	t0 = time.Now()
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for _, d := range delays {
			n.Go(func(ctx context.Context) error {
				if err := get(ctx, server, fmt.Sprintf("/%d", d)); err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				fmt.Printf("  /%d done at %v\n", d, round(time.Since(t0)))
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	concurrent := time.Since(t0)

	sum, longest := 0, 0
	for _, d := range delays {
		sum += d
		longest = max(longest, d)
	}
	fmt.Printf("\nOne after another: %v (the sum of the delays is %v)\n", round(sequential), time.Duration(sum)*unit)
	fmt.Printf("In a nursery:      %v (the longest delay is %v), %.1fx faster\n",
		round(concurrent), time.Duration(longest)*unit, float64(sequential)/float64(concurrent))
	if concurrent >= sequential/2 {
		return errors.New("the nursery was not faster than one request after another")
	}
	return nil
}
