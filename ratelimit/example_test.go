//go:build go1.25

package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
)

// At most 3 downloads at once, as asyncio's `async with sem:`.
func ExampleSemaphore_Do() {
	sem := ratelimit.NewSemaphore(3)
	var now, peak atomic.Int64
	download := func(ctx context.Context) error {
		n := now.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(time.Millisecond)
		now.Add(-1)
		return nil
	}
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 10 {
			n.Go(func(ctx context.Context) error {
				return sem.Do(ctx, 1, download)
			})
		}
		return nil
	})
	fmt.Println("error:", err)
	fmt.Println("at most 3 at once:", peak.Load() <= 3)
	// Output:
	// error: <nil>
	// at most 3 at once: true
}

// A recursive walk (a tree of directories, a graph of blobs to copy) where
// every node's own work takes a slot. A node that kept its slot while it
// waited for its children would, once the slots are all held by waiting
// parents, wait for ever. So a node gives its slot back while it waits on
// its children, and takes one again to finish: oras-go's copy does the same
// with region.End(); fanOut(); region.Start().
func ExampleSemaphore_recursive() {
	tree := map[string][]string{
		"/":      {"/a", "/b", "/c"},
		"/a":     {"/a/1", "/a/2"},
		"/b":     {"/b/1"},
		"/a/1":   {"/a/1/x", "/a/1/y"},
		"/c":     {},
		"/b/1":   {},
		"/a/2":   {},
		"/a/1/x": {},
		"/a/1/y": {},
	}
	sem := ratelimit.NewSemaphore(2) // fewer slots than the tree is deep
	var mu sync.Mutex
	var done []string
	var walk func(ctx context.Context, node string) error
	fanOut := func(ctx context.Context, node string) error {
		return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			for _, child := range tree[node] {
				n.Go(func(ctx context.Context) error { return walk(ctx, child) })
			}
			return nil
		})
	}
	walk = func(ctx context.Context, node string) error {
		if err := sem.Acquire(ctx, 1); err != nil { // region.Start()
			return err
		}
		// ... the node's own work, holding a slot ...
		sem.Release(1)                                // region.End(): no slot held while waiting
		err := fanOut(ctx, node)                      // the children take slots of their own
		if err2 := sem.Acquire(ctx, 1); err2 != nil { // region.Start()
			return errors.Join(err, err2)
		}
		defer sem.Release(1)
		if err != nil {
			return err
		}
		mu.Lock()
		done = append(done, node) // ... finishing work, holding a slot ...
		mu.Unlock()
		return nil
	}
	err := walk(context.Background(), "/")
	slices.Sort(done)
	fmt.Println(err, len(done), done[0], done[len(done)-1])
	// Output:
	// <nil> 9 / /c
}

// Slowing down to a rate: Wait returns when the next token is there.
func ExampleLimiter_Wait() {
	lim := ratelimit.NewLimiter(ratelimit.Every(time.Millisecond), 1)
	for i := range 3 {
		if err := lim.Wait(context.Background()); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("request", i)
	}
	// A wait the deadline leaves no room for fails at once.
	lim.SetLimit(ratelimit.Every(time.Hour))
	lim.Allow()
	ctx, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	err := lim.Wait(ctx)
	fmt.Println(errors.Is(err, ratelimit.ErrExceedsDeadline))
	// Output:
	// request 0
	// request 1
	// request 2
	// true
}

// Dropping what exceeds the rate: Allow never waits.
func ExampleLimiter_Allow() {
	lim := ratelimit.NewLimiter(1, 3) // bursts of 3, then 1 a second
	served, dropped := 0, 0
	for range 10 {
		if lim.Allow() {
			served++
		} else {
			dropped++
		}
	}
	fmt.Println("served", served, "dropped", dropped)
	// Output:
	// served 3 dropped 7
}

// A reservation says how long to wait; cancelling it gives the tokens back.
func ExampleLimiter_Reserve() {
	lim := ratelimit.NewLimiter(10, 1)
	lim.Allow()
	r := lim.Reserve()
	fmt.Println(r.OK(), r.Delay() > 50*time.Millisecond)
	r.Cancel() // changed our mind
	fmt.Println(lim.Tokens() >= 0)
	// Output:
	// true true
	// true
}

// A limit per client: each key has a bucket of its own.
func ExampleKeyed() {
	perClient := ratelimit.NewKeyed[string](1, 2)
	for _, client := range []string{"alice", "alice", "alice", "bob"} {
		fmt.Println(client, perClient.Allow(client))
	}
	// Output:
	// alice true
	// alice true
	// alice false
	// bob true
}

// Acquire and Release around the work, as with golang.org/x/sync/semaphore:
// a weight of 2 for a big job, 1 for a small one, 3 in all at once.
func ExampleSemaphore_Acquire() {
	sem := ratelimit.NewSemaphore(3)
	ctx := context.Background()
	if err := sem.Acquire(ctx, 2); err != nil { // the big job
		fmt.Println(err)
		return
	}
	fmt.Println("big job running; held:", sem.Held())
	if err := sem.Acquire(ctx, 1); err != nil { // a small one fits beside it
		fmt.Println(err)
		return
	}
	fmt.Println("small job running; held:", sem.Held())
	sem.Release(1)
	sem.Release(2)

	// A request larger than the whole capacity fails at once.
	err := sem.Acquire(ctx, 4)
	fmt.Println(errors.Is(err, ratelimit.ErrExceedsCapacity))
	fmt.Println(err)
	// Output:
	// big job running; held: 2
	// small job running; held: 3
	// true
	// ratelimit: Semaphore.Acquire(n=4) exceeds the semaphore's capacity of 3
}

// TryAcquire takes the tokens only if it can at once: to skip work, or do
// something else, when the semaphore is busy.
func ExampleSemaphore_TryAcquire() {
	sem := ratelimit.NewSemaphore(1)
	for _, job := range []string{"first", "second"} {
		if !sem.TryAcquire(1) {
			fmt.Println(job, "skipped: busy")
			continue
		}
		fmt.Println(job, "running") // and still running when the second comes
	}
	sem.Release(1)
	fmt.Println("after the release:", sem.TryAcquire(1))
	// Output:
	// first running
	// second skipped: busy
	// after the release: true
}

// Resize changes the capacity while the semaphore is in use: growing wakes
// waiters that now fit; shrinking lets holders finish, and admits nobody
// new until the tokens held fall below the new capacity.
func ExampleSemaphore_Resize() {
	sem := ratelimit.NewSemaphore(1)
	ctx := context.Background()
	_ = sem.Acquire(ctx, 1)
	waiting := make(chan error, 1)
	go func() { waiting <- sem.Acquire(ctx, 1) }()
	for sem.Waiting() == 0 {
		runtime.Gosched() // until the second Acquire is queued
	}
	sem.Resize(2) // room for the waiter
	fmt.Println("waiter:", <-waiting, "held:", sem.Held(), "of", sem.Capacity())

	sem.Resize(1) // 2 held: both holders finish, nobody new gets in
	fmt.Println("TryAcquire after shrinking:", sem.TryAcquire(1), "available:", sem.Available())
	sem.Release(1)
	fmt.Println("TryAcquire with 1 still held:", sem.TryAcquire(1))
	sem.Release(1)
	fmt.Println("TryAcquire once all released:", sem.TryAcquire(1))
	// Output:
	// waiter: <nil> held: 2 of 2
	// TryAcquire after shrinking: false available: 0
	// TryAcquire with 1 still held: false
	// TryAcquire once all released: true
}

// Sometimes runs a function now and then, here to log a frequent event:
// the first 2 calls, then every 3rd, and any call an hour after the last
// line (none, here).
func ExampleSometimes() {
	logSome := ratelimit.Sometimes{First: 2, Every: 3, Interval: time.Hour}
	for i := 1; i <= 8; i++ {
		logSome.Do(func() { fmt.Println("request", i) })
	}
	// Output:
	// request 1
	// request 2
	// request 4
	// request 7
}
