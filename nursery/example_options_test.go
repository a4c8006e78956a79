//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
)

// The errgroup idiom, and the nursery: Run is the scope that errgroup's
// Wait is a call in, so it cannot be forgotten, and a panic comes back to
// the caller instead of ending the process.
func Example() {
	urls := []string{"/a", "/b", "/c"}
	fetch := func(ctx context.Context, url string) error {
		if url == "/b" {
			return fmt.Errorf("GET %s: 503", url)
		}
		<-ctx.Done() // the others are slow, and honour their ctx
		return fmt.Errorf("GET %s: %w", url, ctx.Err())
	}

	// errgroup:
	//	g, ctx := errgroup.WithContext(ctx)
	//	for _, url := range urls {
	//		g.Go(func() error { return fetch(ctx, url) })
	//	}
	//	err := g.Wait()
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for _, url := range urls {
			n.Go(func(ctx context.Context) error { return fetch(ctx, url) })
		}
		return nil
	})
	// The failure, unchanged; the others' "context canceled" are echoes of
	// the cancellation it caused, not failures.
	fmt.Println(err)
	// Output: GET /b: 503
}

// WithLimit is errgroup's SetLimit: at most k tasks at once, Go waiting for
// a slot. The body does not hold one.
func ExampleWithLimit() {
	var mu sync.Mutex
	running, peak := 0, 0
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 10 {
			n.Go(func(ctx context.Context) error { // waits while 3 run
				mu.Lock()
				running++
				peak = max(peak, running)
				mu.Unlock()
				time.Sleep(time.Millisecond)
				mu.Lock()
				running--
				mu.Unlock()
				return nil
			})
		}
		return nil
	}, nursery.WithLimit(3)) // errgroup: g.SetLimit(3)
	fmt.Println(err, "at most", peak, "at once")
	// Output: <nil> at most 3 at once
}

// Map is the same loop over a slice, typed, with the results in order:
// fetch these URLs, 4 at a time.
func ExampleMap() {
	urls := []string{"/1", "/22", "/333", "/4444", "/55555"}
	lengths, err := nursery.Map(context.Background(), urls, func(ctx context.Context, url string) (int, error) {
		return len(url), nil
	}, nursery.WithLimit(4))
	fmt.Println(lengths, err)
	// Output: [2 3 4 5 6] <nil>
}

// ForEach is Map for work with no value. Fail fast means stop: once an item
// has failed, no item that has not started is started, so the items after
// the failure are never checked.
func ExampleForEach() {
	var mu sync.Mutex
	var checked []string
	err := nursery.ForEach(context.Background(), []string{"a", "b", "bad", "c", "d"}, func(ctx context.Context, name string) error {
		mu.Lock()
		checked = append(checked, name)
		mu.Unlock()
		if name == "bad" {
			return fmt.Errorf("check %s failed", name)
		}
		return nil
	}, nursery.WithLimit(1)) // one at a time, in order
	fmt.Println(err, checked)
	// Output: check bad failed [a b bad]
}

// MapSettled runs every item to its end whatever fails, and gives each
// item's value or error, in the order of the items.
func ExampleMapSettled() {
	results, err := nursery.MapSettled(context.Background(), []string{"/ok", "/missing", "/fine"}, func(ctx context.Context, path string) (int, error) {
		if path == "/missing" {
			return 404, fmt.Errorf("GET %s: not found", path)
		}
		return 200, nil
	})
	for _, r := range results {
		fmt.Println(r.Value, r.Err)
	}
	fmt.Println(err)
	// Output:
	// 200 <nil>
	// 404 GET /missing: not found
	// 200 <nil>
	// <nil>
}

// WithCollectAll keeps every task running after a failure and returns every
// error, as asyncio.gather(return_exceptions=True) keeps every outcome.
func ExampleWithCollectAll() {
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for _, name := range []string{"a", "b", "c"} {
			n.Go(func(ctx context.Context) error {
				if name == "b" {
					return nil
				}
				return fmt.Errorf("check %s failed", name)
			})
		}
		return nil
	}, nursery.WithCollectAll())
	for _, e := range multierr.Errors(err) { // in the order they happened
		fmt.Println(e)
	}
	// Unordered output:
	// check a failed
	// check c failed
}

// WithFirstError returns only the first real error, as errgroup's Wait does,
// for callers that compare it: here a second task, which ignores its ctx,
// fails on its own too.
func ExampleWithFirstError() {
	errNotFound := errors.New("not found")
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		first := make(chan struct{})
		n.Go(func(ctx context.Context) error { defer close(first); return errNotFound })
		n.Go(func(ctx context.Context) error { <-first; return errors.New("mkdir: permission denied") })
		return nil
	}, nursery.WithFirstError())
	fmt.Println(err == errNotFound)
	// Output: true
}

// Cancel stops the nursery without failing it: the tasks see their ctx
// done, with Cancel's cause, and Run returns nil.
func ExampleNursery_Cancel() {
	errFound := errors.New("found what we were looking for")
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for i := range 3 {
			n.Go(func(ctx context.Context) error {
				if i == 1 {
					n.Cancel(errFound)
					return nil
				}
				<-ctx.Done()
				return ctx.Err() // the echo of Cancel: not a failure
			})
		}
		<-ctx.Done()
		fmt.Println("cause:", context.Cause(ctx))
		return nil
	})
	fmt.Println("Run:", err)
	// Output:
	// cause: found what we were looking for
	// Run: <nil>
}

// WithName names a task in its error, in a panic, and as the pprof label
// "task", which goroutine profiles show.
func ExampleWithName() {
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			label, _ := pprof.Label(ctx, "task")
			fmt.Println("label:", label)
			return errors.New("disk full")
		}, nursery.WithName("flush"))
		return nil
	})
	fmt.Println(err)
	// Output:
	// label: flush
	// task "flush": disk full
}

// One Semaphore can bound a whole tree of nested nurseries: a recursive
// walk, at most 2 nodes at work at once. A node gives its unit back while it
// waits on its children (or the parents would hold every unit, waiting for
// children that cannot start), and takes one again afterwards.
func ExampleWithSemaphore() {
	type node struct {
		name     string
		children []node
	}
	tree := node{"/", []node{{"/a", []node{{"/a/1", nil}, {"/a/2", nil}}}, {"/b", nil}}}
	sem := ratelimit.NewSemaphore(2)
	var mu sync.Mutex
	var seen []string
	var walk func(ctx context.Context, nd node) error
	walk = func(ctx context.Context, nd node) error {
		mu.Lock()
		seen = append(seen, nd.name) // the node's own work, holding a unit
		mu.Unlock()
		if len(nd.children) == 0 {
			return nil
		}
		sem.Release(1)
		defer func() { _ = sem.Acquire(context.WithoutCancel(ctx), 1) }() // cannot fail: no deadline, and 1 fits
		return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			for _, child := range nd.children {
				n.Go(func(ctx context.Context) error { return walk(ctx, child) })
			}
			return nil
		}, nursery.WithSemaphore(sem))
	}
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { return walk(ctx, tree) })
		return nil
	}, nursery.WithSemaphore(sem))
	fmt.Println(err, len(seen), strings.Count(strings.Join(seen, " "), "/a"))
	// Output: <nil> 5 3
}
