package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/structured-go/structured/cancel"
	"github.com/structured-go/structured/nursery"
)

// computeChapter shows what concurrency buys: waits overlap, computing
// overlaps only as far as there are cores.
//
// In Python:
//
//	await asyncio.gather(*(asyncio.sleep(0.1) for _ in range(100)))  # about 0.1s
//	# but CPU-bound work in coroutines takes as long as one after another
func computeChapter(ctx context.Context, server string) error {
	fmt.Println("100 waits of 1 unit each (cancel.Sleep), one after another, then 100 tasks at once:")
	t0 := time.Now()
	for range 100 {
		if err := cancel.Sleep(ctx, unit); err != nil {
			return err
		}
	}
	sequential := time.Since(t0)
	t0 = time.Now()
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for range 100 {
			n.Go(func(ctx context.Context) error { return cancel.Sleep(ctx, unit) })
		}
		return nil
	})
	if err != nil {
		return err
	}
	concurrent := time.Since(t0)
	fmt.Printf("  one after another: %v; at once: %v\n", round(sequential), round(concurrent))
	if concurrent >= sequential/5 {
		return errors.New("the waits did not overlap")
	}

	cores := runtime.GOMAXPROCS(0)
	chunks := []int{0, 100_000, 200_000, 300_000, 400_000, 500_000, 600_000, 700_000}
	fmt.Printf("\nCounting primes below 800,000 in 8 chunks: one after another, then with Map and WithLimit(%d), one task per core (GOMAXPROCS):\n", cores)
	t0 = time.Now()
	want := 0
	for _, lo := range chunks {
		want += countPrimes(lo, lo+100_000)
	}
	sequential = time.Since(t0)
	t0 = time.Now()
	counts, err := nursery.Map(ctx, chunks, func(ctx context.Context, lo int) (int, error) {
		return countPrimes(lo, lo+100_000), nil
	}, nursery.WithLimit(cores))
	if err != nil {
		return err
	}
	concurrent = time.Since(t0)
	got := 0
	for _, c := range counts {
		got += c
	}
	speedup := float64(sequential) / float64(concurrent)
	fmt.Printf("  %d primes either way; %.1fx faster on %d cores: computing overlaps only as far as there are cores\n", got, speedup, cores)
	if got != want || speedup > float64(cores)*1.5 {
		return fmt.Errorf("%d primes (want %d), %.1fx on %d cores", got, want, speedup, cores)
	}

	fmt.Println("\nUnderneath, Go has no event loop to block: the runtime runs goroutines on one thread per core,")
	fmt.Println("parks those that wait (on a timer, a channel, the network) and runs others meanwhile.")
	fmt.Println("A nursery adds what Go leaves out: an owner that waits for each goroutine.")
	return nil
}

// countPrimes counts the primes in [lo, hi).
func countPrimes(lo, hi int) int {
	count := 0
	for n := max(lo, 2); n < hi; n++ {
		prime := true
		for d := 2; d*d <= n; d++ {
			if n%d == 0 {
				prime = false
				break
			}
		}
		if prime {
			count++
		}
	}
	return count
}
