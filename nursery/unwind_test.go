//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/nursery"
)

// A panic crossing nested nurseries is not wrapped again at each level: the
// outermost PanicError has the innermost value and stack, says how many
// levels it crossed, and its message stays the size of one, whether the
// nesting goes through tasks or through bodies.
func TestNestedPanicStaysLinear(t *testing.T) {
	const depth = 1000
	var viaTask, viaBody func(ctx context.Context, d int) error
	viaTask = func(ctx context.Context, d int) error {
		if d == 0 {
			panic("deep")
		}
		return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return viaTask(ctx, d-1) })
			return nil
		})
	}
	viaBody = func(ctx context.Context, d int) error {
		if d == 0 {
			panic("deep")
		}
		return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			return viaBody(ctx, d-1)
		})
	}
	for name, nest := range map[string]func(context.Context, int) error{"tasks": viaTask, "bodies": viaBody} {
		p := runPanics(t, t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			return nest(ctx, depth)
		})
		msg := p.Error()
		if p.Value != "deep" {
			t.Errorf("%s: Value = %v, want the innermost panic's", name, p.Value)
		}
		if want := fmt.Sprintf("re-raised through %d nested nurseries", depth); !strings.Contains(msg, want) {
			t.Errorf("%s: Error() does not say %q:\n%.300s", name, want, msg)
		}
		if strings.Count(msg, "panic in") != 1 {
			t.Errorf("%s: Error() describes the panic %d times, want once", name, strings.Count(msg, "panic in"))
		}
		if len(msg) > len(p.Stack)+1024 {
			t.Errorf("%s: Error() is %d bytes for a stack of %d, want it bounded by one stack", name, len(msg), len(p.Stack))
		}
		if !strings.Contains(string(p.Stack), "TestNestedPanicStaysLinear") {
			t.Errorf("%s: Stack is not the panicking goroutine's", name)
		}
	}
}

// A body that calls runtime.Goexit cannot return its tasks' errors: rather
// than lose them, Run panics with them once the tasks are done.
func TestBodyGoexitKeepsTaskErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		result := make(chan any, 1)
		go func() {
			defer func() { result <- recover() }()
			_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				n.Go(func(ctx context.Context) error { return errA })
				time.Sleep(time.Second) // errA has cancelled the nursery by now
				runtime.Goexit()        // t.FailNow in a test's body
				return nil
			})
		}()
		r := <-result
		p, ok := r.(*nursery.PanicError)
		if !ok {
			t.Fatalf("Run with a Goexit in the body after a task failed: recovered %#v, want a *PanicError", r)
		}
		if err, _ := p.Value.(error); !errors.Is(err, nursery.ErrGoexit) {
			t.Errorf("Value = %v, want an error wrapping ErrGoexit", p.Value)
		}
		if len(p.Suppressed) != 1 || p.Suppressed[0] != errA {
			t.Errorf("Suppressed = %v, want [errA]", p.Suppressed)
		}
		if !strings.Contains(p.Error(), "runtime.Goexit") || !strings.Contains(p.Error(), errA.Error()) {
			t.Errorf("Error() = %q, want it to name the Goexit and errA", p.Error())
		}

		// A task that panics meanwhile: the panic wins, and the body's
		// Goexit is among its suppressed errors.
		go func() {
			defer func() { result <- recover() }()
			_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				n.Go(func(ctx context.Context) error { <-ctx.Done(); panic("while unwinding") })
				runtime.Goexit()
				return nil
			})
		}()
		p, ok = (<-result).(*nursery.PanicError)
		if !ok || p.Value != "while unwinding" || len(p.Suppressed) != 1 || !errors.Is(p.Suppressed[0], nursery.ErrGoexit) {
			t.Errorf("Goexit in the body, then a panic: %v, want the panic with the Goexit suppressed", p)
		}
	})
}

// typedNil is an error whose methods dereference their receiver, returned as
// a typed nil: its Unwrap and Error panic.
type typedNil struct{ inner error }

func (e *typedNil) Error() string { return "typed: " + e.inner.Error() }
func (e *typedNil) Unwrap() error { return e.inner }

// A panic in a returned error's own methods, which the nursery calls to tell
// an echo from a real error, is the task's panic: Run re-panics with it once
// every task is done, and nothing crashes after Run has returned.
func TestErrorMethodsPanicInsideTheTask(t *testing.T) {
	for name, opts := range map[string][]nursery.TaskOption{"unnamed": nil, "named": {nursery.WithName("x")}} {
		var r any
		func() {
			defer func() { r = recover() }()
			_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				n.Go(func(ctx context.Context) error {
					<-ctx.Done()
					var e *typedNil
					return e
				}, opts...)
				n.Cancel(nil)
				return nil
			})
		}()
		p, ok := r.(*nursery.PanicError)
		if !ok {
			t.Fatalf("%s: recovered %#v, want a *PanicError", name, r)
		}
		if _, ok := p.Value.(runtime.Error); !ok {
			t.Errorf("%s: Value = %#v, want the runtime error of the nil dereference", name, p.Value)
		}
	}
}

// Tasks that Go queues after cancellation under a full limit cost a queue
// entry each, not a parked goroutine: a loop that keeps feeding a cancelled
// nursery creates a bounded number of goroutines however long it runs.
func TestCancelledFeedQueuesTasks(t *testing.T) {
	items := 1_000_000
	if raceEnabled {
		items = 100_000
	}
	var ran, peak int
	var before, during runtime.MemStats
	block := make(chan struct{})
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { <-block; return nil }) // holds the only slot
		n.Cancel(errA)
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range items { // a feeding loop that does not check ctx
			n.Go(func(ctx context.Context) error { ran++; return ctx.Err() })
		}
		peak = runtime.NumGoroutine()
		runtime.ReadMemStats(&during)
		close(block)
		return nil
	}, nursery.WithLimit(1))
	if err != nil || ran != items {
		t.Fatalf("Run() = %v with %d of %d tasks run, want nil and all of them", err, ran, items)
	}
	if peak > 50 {
		t.Fatalf("%d goroutines with %d tasks queued, want a few", peak, items)
	}
	// A parked goroutine costs at least 2 KiB of stack; a queued task, its
	// closure and its share of the queue (which grows by doubling).
	if perTask := (during.TotalAlloc - before.TotalAlloc) / uint64(items); perTask > 256 {
		t.Fatalf("%d bytes allocated per queued task, want at most 256", perTask)
	}
}

// Race reports the cancellation of its ctx, in the words of the function
// that echoed it, even after another function had failed.
func TestRaceCancelledAfterAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithCancel(t.Context())
		var dialErr error
		_, err := nursery.Race(ctx,
			func(ctx context.Context) (int, error) { return 0, errA },
			func(ctx context.Context) (int, error) {
				time.Sleep(time.Second)
				stop()
				<-ctx.Done()
				dialErr = fmt.Errorf("dial: %w", ctx.Err())
				return 0, dialErr
			})
		if err != dialErr || errors.Is(err, errA) || len(multierr.Errors(err)) != 1 {
			t.Fatalf("Race() = %v, want the echo of its ctx's cancellation, %v", err, dialErr)
		}
	})
}
