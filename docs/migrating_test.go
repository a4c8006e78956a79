//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/multierr"
	"golang.org/x/sync/errgroup"

	"github.com/structured-go/structured/nursery"
)

// fetchURL stands for an HTTP GET that honours its ctx: /b fails, the
// others are slow.
func fetchURL(ctx context.Context, url string) error {
	if url == "/b" {
		return fmt.Errorf("GET %s: 503", url)
	}
	<-ctx.Done()
	return fmt.Errorf("GET %s: %w", url, ctx.Err())
}

// The shape of the port: the group becomes a scope.
func Example_migrateBasic() {
	urls := []string{"/a", "/b", "/c"}

	// Before: errgroup.
	g, ctx := errgroup.WithContext(context.Background())
	for _, url := range urls {
		g.Go(func() error { return fetchURL(ctx, url) })
	}
	err := g.Wait()
	fmt.Println("errgroup:", err)

	// After: nursery.
	err = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for _, url := range urls {
			n.Go(func(ctx context.Context) error { return fetchURL(ctx, url) })
		}
		return nil
	})
	fmt.Println("nursery: ", err)
	// Output:
	// errgroup: GET /b: 503
	// nursery:  GET /b: 503
}

// workerLeaked is the errgroup code before the port: a worker that is never
// told to stop, and no Wait. The function returns; the worker leaks.
func workerLeaked(ctx context.Context, work chan int, handled *atomic.Int32) {
	g, ctx := errgroup.WithContext(ctx)
	//structvet:ignore SV001 the leak this guide shows, fixed below
	g.Go(func() error {
		for {
			select {
			case <-work:
				handled.Add(1)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	work <- 1
	// no g.Wait(): the worker goes on after the function returns (structvet: SV001)
}

// workerHangs is the port as written first: the same body in a nursery.
// Run waits for the worker, which nobody stops: Run does not return.
func workerHangs(ctx context.Context, work chan int, handled *atomic.Int32) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			for {
				select {
				case <-work:
					handled.Add(1)
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		})
		work <- 1
		return nil // Run waits for the worker, which runs until it is cancelled
	})
}

// workerStopped is the port done: the body stops its worker before it
// returns.
func workerStopped(ctx context.Context, work chan int, handled *atomic.Int32) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			for {
				select {
				case <-work:
					handled.Add(1)
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		})
		work <- 1
		n.Cancel(nil) // done: stop the worker (or close its channel)
		return nil
	})
}

func Example_migrateRunWaits() {
	var handled atomic.Int32
	work := make(chan int)

	leakCtx, stopLeak := context.WithCancel(context.Background())
	workerLeaked(leakCtx, work, &handled)
	fmt.Println("errgroup: returned, with its worker still running")
	stopLeak() // what nothing in the program did

	hangCtx, stopHang := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- workerHangs(hangCtx, work, &handled) }()
	select {
	case <-done:
		fmt.Println("nursery, as first written: returned")
	case <-time.After(20 * time.Millisecond):
		fmt.Println("nursery, as first written: Run is still waiting for the worker")
	}
	stopHang() // the rescue, from outside
	fmt.Println("  once cancelled from outside:", <-done)

	fmt.Println("nursery, the worker stopped by the body:", workerStopped(context.Background(), work, &handled))
	// Output:
	// errgroup: returned, with its worker still running
	// nursery, as first written: Run is still waiting for the worker
	//   once cancelled from outside: context canceled
	// nursery, the worker stopped by the body: <nil>
}

// A TaskError is an error type that callers type-assert.
type TaskError struct{ Op string }

func (e *TaskError) Error() string { return e.Op + ": permission denied" }

// Several errors: tasks that ignore their ctx and fail on their own are all
// reported, combined. WithFirstError keeps only the first, as errgroup
// does, for callers that compare or type-assert the error.
func Example_migrateSeveralErrors() {
	mkdirAll := func(opts ...nursery.Option) error {
		return nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return &TaskError{"mkdir /a"} })
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()                  // /a's failure, recorded, has cancelled the nursery
				return &TaskError{"mkdir /b"} // and /b fails too, for real: not an echo
			})
			return nil
		}, opts...)
	}

	err := mkdirAll()
	_, isTaskError := err.(*TaskError)
	fmt.Println(len(multierr.Errors(err)), "errors:", err, "; err.(*TaskError):", isTaskError)
	var te *TaskError
	fmt.Println("errors.As still finds the first:", errors.As(err, &te), te.Op)

	err = mkdirAll(nursery.WithFirstError())
	_, isTaskError = err.(*TaskError)
	fmt.Println("WithFirstError:", err, "; err.(*TaskError):", isTaskError)
	// Output:
	// 2 errors: mkdir /a: permission denied; mkdir /b: permission denied ; err.(*TaskError): false
	// errors.As still finds the first: true mkdir /a
	// WithFirstError: mkdir /a: permission denied ; err.(*TaskError): true
}

// An error invented from a cancellation is a real error: it is returned
// instead of the cancellation. Check ctx first, or wrap its error.
func Example_migrateInventedError() {
	receive := func(ctx context.Context, results <-chan string, fixed bool) error {
		select {
		case _, ok := <-results:
			if !ok {
				return errors.New("no result")
			}
			return nil
		case <-ctx.Done():
			if fixed {
				return fmt.Errorf("no result: %w", ctx.Err()) // an echo: dropped
			}
			return errors.New("no result") // a real error, made up
		}
	}
	for _, fixed := range []bool{false, true} {
		ctx, stop := context.WithCancel(context.Background())
		results := make(chan string)
		err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return receive(ctx, results, fixed) })
			stop() // Ctrl-C
			return nil
		})
		fmt.Printf("fixed=%v: %v; errors.Is(err, context.Canceled): %v\n", fixed, err, errors.Is(err, context.Canceled))
	}
	// Output:
	// fixed=false: no result; errors.Is(err, context.Canceled): false
	// fixed=true: no result: context canceled; errors.Is(err, context.Canceled): true
}

// A body that wraps the error it got from Task.Wait: the wrap takes the
// place of the recorded failure, once, every time.
func Example_migrateWrapInBody() {
	errDisk := errors.New("disk full")
	same := 0
	var err error
	for range 100 {
		err = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			flush := n.Spawn(func(ctx context.Context) error { return errDisk })
			if _, err := flush.Wait(ctx); err != nil {
				return fmt.Errorf("error flushing repository: %w", err)
			}
			return nil
		})
		if err.Error() == "error flushing repository: disk full" {
			same++
		}
	}
	fmt.Println(err, "; errors.Is(err, errDisk):", errors.Is(err, errDisk), "; the same in", same, "of 100 runs")
	// Output: error flushing repository: disk full ; errors.Is(err, errDisk): true ; the same in 100 of 100 runs
}

// SetLimit counted every Go; WithLimit does not count the body. A group
// whose feeding loop ran in a Go of its own needed a slot for it; moved
// into the body, it needs none: SetLimit(1+n) becomes WithLimit(n).
func Example_migrateLimitArithmetic() {
	const workers = 2
	var mu sync.Mutex
	running, peak := 0, 0
	work := func() {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
	}

	// Before: the feeder is a goroutine of the group, and holds a slot.
	var g errgroup.Group
	g.SetLimit(1 + workers)
	g.Go(func() error {
		for range 6 {
			g.Go(func() error { work(); return nil })
		}
		return nil
	})
	_ = g.Wait()
	fmt.Println("errgroup, SetLimit(1+2): at most", peak, "workers at once")

	// After: the feeder is the body, which holds no slot.
	peak = 0
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 6 {
			n.Go(func(ctx context.Context) error { work(); return nil })
		}
		return nil
	}, nursery.WithLimit(workers))
	fmt.Println("nursery, WithLimit(2): at most", peak, "workers at once")
	// Output:
	// errgroup, SetLimit(1+2): at most 2 workers at once
	// nursery, WithLimit(2): at most 2 workers at once
}

// A group with no ctx (errgroup's zero Group): a Run with
// context.Background(), and tasks that may ignore their ctx.
func Example_migrateNoContext() {
	steps := []string{"build", "sign", "upload"}
	done := make([]bool, len(steps))

	// Before.
	var g errgroup.Group
	for i := range steps {
		g.Go(func() error { done[i] = true; return nil })
	}
	fmt.Println("errgroup:", g.Wait(), done)

	// After.
	clear(done)
	err := nursery.Run(context.Background(), func(_ context.Context, n *nursery.Nursery) error {
		for i := range steps {
			n.Go(func(context.Context) error { done[i] = true; return nil })
		}
		return nil
	})
	fmt.Println("nursery: ", err, done)
	// Output:
	// errgroup: <nil> [true true true]
	// nursery:  <nil> [true true true]
}

// A named task's error is wrapped, `task "name": err`: errors.Is still
// finds err, == does not.
func Example_migrateNamedTask() {
	errDisk := errors.New("disk full")
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { return errDisk }, nursery.WithName("flush"))
		return nil
	})
	fmt.Println(err, "; ==:", err == errDisk, "; errors.Is:", errors.Is(err, errDisk))
	// Output: task "flush": disk full ; ==: false ; errors.Is: true
}
