//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/structured-go/structured/nursery"
)

type user struct{ name string }
type order struct{ id int }

func loadUser(ctx context.Context, id int) (user, error) { return user{name: "ada"}, ctx.Err() }

func loadOrders(ctx context.Context, id int) ([]order, error) {
	return []order{{1}, {2}}, ctx.Err()
}

// Values of different types: a task per call, each writing its own
// variable. Run returns after both tasks have, so reading the variables then
// needs no lock.
func Example_gatherDifferentTypes() {
	ctx := context.Background()
	var u user
	var orders []order
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			var err error
			u, err = loadUser(ctx, 42)
			return err
		})
		n.Go(func(ctx context.Context) error {
			var err error
			orders, err = loadOrders(ctx, 42)
			return err
		})
		return nil
	})
	fmt.Println(u.name, len(orders), err)
	// Output: ada 2 <nil>
}

// A slice of results, each task writing its own element: no lock, since no
// two tasks write the same element, and Run's return comes after every
// write.
func Example_gatherIntoSlice() {
	urls := []string{"/a", "/bb", "/ccc"}
	sizes := make([]int, len(urls))
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for i, url := range urls {
			n.Go(func(ctx context.Context) error {
				sizes[i] = len(url) // stands for fetching url
				return nil
			})
		}
		return nil
	})
	fmt.Println(sizes, err)
	// Output: [2 3 4] <nil>
}

// The first failure cancels the others; Gather waits for them and returns
// no values, and the failure itself, not the others' "context canceled".
func Example_gatherFailure() {
	values, err := nursery.Gather(context.Background(),
		func(ctx context.Context) (string, error) {
			<-ctx.Done() // slow: still running when the other fails
			fmt.Println("the slow one is cancelled, because:", context.Cause(ctx))
			return "", ctx.Err()
		},
		func(ctx context.Context) (string, error) {
			return "", errors.New("GET /b: 503")
		},
	)
	fmt.Println(values == nil, err)
	// Output:
	// the slow one is cancelled, because: GET /b: 503
	// true GET /b: 503
}

// When the caller's ctx is cancelled, every function sees it, and Gather
// returns that cancellation once: here the most telling echo of it.
func Example_gatherCancelled() {
	ctx, stop := context.WithCancel(context.Background())
	values, err := nursery.Gather(ctx,
		func(ctx context.Context) (int, error) {
			stop() // the caller gives up: Ctrl-C, a client gone away
			<-ctx.Done()
			return 0, ctx.Err()
		},
		func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, fmt.Errorf("query: %w", ctx.Err())
		},
	)
	fmt.Println(values, err, errors.Is(err, context.Canceled))
	// Output: [] query: context canceled true
}

// A panic in one function cancels the others, waits for them, and comes
// back in the caller's goroutine as a *nursery.PanicError.
func Example_gatherPanic() {
	defer func() {
		p := recover().(*nursery.PanicError)
		fmt.Println("the caller recovers:", p.Value)
	}()
	_, _ = nursery.Gather(context.Background(),
		func(ctx context.Context) (int, error) {
			<-ctx.Done()
			fmt.Println("the sibling was cancelled first")
			return 0, ctx.Err()
		},
		func(ctx context.Context) (int, error) {
			var counts []int
			return counts[3], nil // a bug
		},
	)
	// Output:
	// the sibling was cancelled first
	// the caller recovers: runtime error: index out of range [3] with length 0
}

// inFlight counts calls running at once, and the most there ever were.
type inFlight struct{ now, peak atomic.Int32 }

func (f *inFlight) enter() {
	n := f.now.Add(1)
	for p := f.peak.Load(); n > p && !f.peak.CompareAndSwap(p, n); p = f.peak.Load() {
	}
}

func (f *inFlight) leave() { f.now.Add(-1) }

// The trap: awaiting one call after another. Each call waits for the one
// before; nothing overlaps.
func Example_gatherTrapSequential() {
	ctx := context.Background()
	urls := []string{"/a", "/b", "/c"}
	var calls inFlight
	fetch := func(ctx context.Context, url string) (string, error) {
		calls.enter()
		defer calls.leave()
		return "page " + url, nil
	}

	var pages []string
	for _, url := range urls {
		page, err := fetch(ctx, url) // waits for this one before starting the next
		if err != nil {
			fmt.Println(err)
			return
		}
		pages = append(pages, page)
	}
	fmt.Println(len(pages), "pages, at most", calls.peak.Load(), "call at a time")

	// The same with Map: all at once.
	calls.peak.Store(0)
	var arrived sync.WaitGroup
	arrived.Add(len(urls))
	pages, err := nursery.Map(ctx, urls, func(ctx context.Context, url string) (string, error) {
		calls.enter()
		defer calls.leave()
		arrived.Done()
		arrived.Wait() // each call waits until all of them are running
		return "page " + url, nil
	})
	fmt.Println(len(pages), "pages, at most", calls.peak.Load(), "calls at a time,", err)
	// Output:
	// 3 pages, at most 1 call at a time
	// 3 pages, at most 3 calls at a time, <nil>
}

// The trap: goroutines and a WaitGroup, where an error is only logged. The
// failure cancels nothing, and the caller never learns of it.
func Example_gatherTrapLostError() {
	ctx := context.Background()
	fetch := func(ctx context.Context, url string) error {
		if url == "/b" {
			return errors.New("GET /b: 503")
		}
		return nil
	}
	var mu sync.Mutex
	var logged []string
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, fmt.Sprintf(format, args...))
	}

	var wg sync.WaitGroup
	for _, url := range []string{"/a", "/b", "/c"} {
		wg.Go(func() {
			if err := fetch(ctx, url); err != nil {
				logf("fetch: %v", err) // logged, and lost: the caller returns nil
			}
		})
	}
	wg.Wait()
	fmt.Println(logged)
	// Output: [fetch: GET /b: 503]
}
