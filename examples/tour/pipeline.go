package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/structured-go/structured/asynciter"
)

// pipelineChapter streams work through a generator, a concurrent map and a
// batcher, and stops early: everything behind the loop is cancelled and
// joined before the loop statement ends.
func pipelineChapter(ctx context.Context, server string) error {
	// In Python, breaking out of an async for over an async generator does
	// not close it: it lingers until garbage collection, unless wrapped in
	// contextlib.aclosing (PEP 525, PEP 789):
	//
	//	async def ids():
	//	    i = 0
	//	    while True:
	//	        i += 1
	//	        yield i
	//
	//	async with aclosing(ids()) as gen:
	//	    async for batch in batched(fetch_all(gen, limit=4), 5, timeout=0.4):
	//	        ...
	//	        if n == 3: break
	//
	// Here the break itself cancels and joins every stage.
	var producing, fetching, made atomic.Int32
	ids := asynciter.Generate(ctx, func(ctx context.Context, yield func(int) bool) error {
		producing.Add(1)
		defer producing.Add(-1)
		for id := 1; ; id++ { // endless: only the loop's break ends it
			made.Store(int32(id))
			if !yield(id) {
				return nil
			}
		}
	})
	pages := asynciter.MapStream(ctx, ids, func(ctx context.Context, id int) (string, error) {
		fetching.Add(1)
		defer fetching.Add(-1)
		body, err := fetchBody(ctx, server, fmt.Sprintf("/%d", 1+id%3)) // 1 to 3 units each
		return fmt.Sprintf("id %d: %s", id, body), err
	}, asynciter.WithLimit(4))

	fmt.Println("An endless generator, 4 fetches at a time, batches of 5 (or whatever 4 units bring), stop after 3:")
	t0 := time.Now()
	batches, items := 0, 0
	for batch, err := range asynciter.Batch(ctx, pages, 5, 4*unit) {
		if err != nil {
			return err
		}
		batches++
		items += len(batch)
		fmt.Printf("  batch %d after %v: %d pages, the first %q\n", batches, round(time.Since(t0)), len(batch), batch[0])
		if len(batch) == 0 || len(batch) > 5 {
			return fmt.Errorf("a batch of %d pages", len(batch))
		}
		if batches == 3 {
			break // cancels the fetches in flight and the generator, and waits for them
		}
	}
	fmt.Printf("  after the loop: producer running: %d, fetches running: %d\n", producing.Load(), fetching.Load())
	if producing.Load() != 0 || fetching.Load() != 0 {
		return errors.New("something behind the loop was still running after it")
	}
	// The generator is lazy, Map holds a bounded window (4 workers + a
	// buffer of 2*4+16, and one more waiting to go in), Batch reads 5 ahead
	// (and one more): it stopped short, it was not drained.
	fmt.Printf("  ids made: %d, for %d pages used: the rest were cancelled, not drained\n", made.Load(), items)
	if m := int(made.Load()); m < items || m > items+28+1+5+1+1 {
		return fmt.Errorf("the generator made %d ids for %d pages", m, items)
	}
	// Results as they finish, a fan-in, and a broadcast.
	fmt.Println("\nMap with WithUnordered: results as they finish, not in input order:")
	// Each page asks the server for a sleep as long as its number, and, so
	// that a loaded machine cannot reorder them, starts only once the page
	// that sleeps less has been yielded.
	var order []string
	yielded := map[string]chan struct{}{"slept 1": make(chan struct{}), "slept 3": make(chan struct{}), "slept 5": make(chan struct{})}
	after := map[string]string{"/3": "slept 1", "/5": "slept 3"}
	for body, err := range asynciter.Map(ctx, slices.Values([]string{"/5", "/1", "/3"}), func(ctx context.Context, p string) (string, error) {
		if prev, ok := after[p]; ok {
			select {
			case <-yielded[prev]:
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		return fetchBody(ctx, server, p)
	}, asynciter.WithUnordered()) {
		if err != nil {
			return err
		}
		order = append(order, body)
		if ch, ok := yielded[body]; ok {
			close(ch)
		}
	}
	fmt.Printf("  %q\n", order)
	if !slices.Equal(order, []string{"slept 1", "slept 3", "slept 5"}) {
		return fmt.Errorf("WithUnordered yielded %q", order)
	}

	fmt.Println("\nMerge two streams into one, and Tee it to two consumers, a counter and a summer:")
	evens := asynciter.FromSeq(slices.Values([]int{2, 4, 6}))
	odds := asynciter.FromSeq(slices.Values([]int{1, 3}))
	var count, sum int
	err := asynciter.Tee(ctx, asynciter.Merge(ctx, evens, odds),
		func(ctx context.Context, s iter.Seq2[int, error]) error {
			all, err := asynciter.Collect(s)
			count = len(all)
			return err
		},
		func(ctx context.Context, s iter.Seq2[int, error]) error {
			total, err := asynciter.Reduce(s, 0, func(acc, v int) int { return acc + v })
			sum = total
			return err
		})
	fmt.Printf("  the counter saw %d values, the summer %d, error: %v\n", count, sum, err)
	if err != nil || count != 5 || sum != 16 {
		return errors.New("Merge and Tee lost values")
	}

	left := goroutinesIn("structured/asynciter.")
	fmt.Printf("  goroutines of asynciter still alive: %d\n", left)
	if left != 0 {
		return fmt.Errorf("%d goroutines of asynciter outlived the loop", left)
	}
	return nil
}

// fetchBody gets path from server and returns its body, trimmed.
func fetchBody(ctx context.Context, server, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", &statusError{path: path, code: resp.StatusCode}
	}
	return strings.TrimSpace(string(b)), nil
}

// goroutinesIn counts the goroutines with a function of pkg on their stack.
// A goroutine that has just been joined may still be returning, so it looks
// a few times before it answers.
func goroutinesIn(pkg string) int {
	buf := make([]byte, 1<<20)
	n := 0
	for range 50 {
		stacks := string(buf[:runtime.Stack(buf, true)])
		n = 0
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, pkg) {
				n++
			}
		}
		if n == 0 {
			return 0
		}
		time.Sleep(time.Millisecond)
	}
	return n
}
