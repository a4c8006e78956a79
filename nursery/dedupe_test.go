//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/nursery"
)

// A failure of a spawned task that the body returns from Wait is reported
// once, named or not, whatever the interleaving; and so is a task's Goexit.
func TestWaitedFailureReportedOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []nursery.TaskOption
		runs  int
		check func(err error) bool
	}{
		{"unnamed", nil, 2000, func(err error) bool { return err == errA }},
		{"named", []nursery.TaskOption{nursery.WithName("x")}, 500, func(err error) bool {
			return count(err, errA) == 1 && err.Error() == `task "x": a failed`
		}},
	} {
		for range tc.runs {
			err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				task := nursery.Spawn(n, func(ctx context.Context) (int, error) { return 0, errA }, tc.opts...)
				_, err := task.Wait(ctx)
				return err
			})
			if !tc.check(err) || len(multierr.Errors(err)) != 1 {
				t.Fatalf("%s: Run() = %v, want the failure once", tc.name, err)
			}
		}
	}

	for range 200 {
		err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			task := nursery.Spawn(n, func(ctx context.Context) (int, error) { runtime.Goexit(); return 0, nil })
			_, err := task.Wait(ctx)
			return err
		})
		if !errors.Is(err, nursery.ErrGoexit) || len(multierr.Errors(err)) != 1 {
			t.Fatalf("Goexit: Run() = %v, want one error wrapping ErrGoexit", err)
		}
	}
}

// A body that wraps the failure it got from Wait replaces it in Run's error
// with its own words, every time, instead of being dropped as an echo or
// reported beside it.
func TestBodyWrapReplacesTheFailure(t *testing.T) {
	for range 500 {
		err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			task := nursery.Spawn(n, func(ctx context.Context) (int, error) { return 0, errA })
			if _, err := task.Wait(ctx); err != nil {
				return fmt.Errorf("flushing the repository: %w", err)
			}
			return nil
		})
		if err == nil || err.Error() != "flushing the repository: a failed" || count(err, errA) != 1 {
			t.Fatalf("Run() = %v, want the body's wrap of errA, alone", err)
		}
	}

	// So does a body that wraps the cause it reads from its ctx.
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { return errA })
		<-ctx.Done()
		return fmt.Errorf("giving up: %w", context.Cause(ctx))
	})
	if err == nil || err.Error() != "giving up: a failed" || count(err, errA) != 1 {
		t.Fatalf("body wrapping the cause: Run() = %v, want its wrap of errA, alone", err)
	}

	// A sibling that wraps the cause is only an echo: its words would
	// suggest that it failed.
	err = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { <-ctx.Done(); return fmt.Errorf("worker: %w", context.Cause(ctx)) })
		n.Go(func(ctx context.Context) error { return errA })
		return nil
	})
	if err != errA {
		t.Fatalf("sibling wrapping the cause: Run() = %v, want errA", err)
	}

	// Equal errors from tasks nobody waited on are separate failures.
	err = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 3 {
			n.Go(func(ctx context.Context) error { return errA })
		}
		return nil
	}, nursery.WithCollectAll())
	if got := multierr.Errors(err); len(got) != 3 {
		t.Fatalf("three failures with the same sentinel: Run() = %v, want 3 errors", err)
	}
}

// A panic that the body gets from Wait and returns is not listed among its
// own suppressed errors; the value Wait handed out never changes afterwards,
// so a goroutine that reads it does not race with Run (this test fails under
// -race otherwise).
func TestPanicThroughWaitNotSuppressedByItself(t *testing.T) {
	for i := range 200 {
		got := make(chan *nursery.PanicError, 1)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // outside the nursery: it reads the panic Wait handed out
			defer wg.Done()
			if pe := <-got; pe != nil {
				for range 10 {
					_ = len(pe.Suppressed)
					runtime.Gosched()
				}
			}
		}()
		p := runPanics(t, context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { <-ctx.Done(); return errB }) // a second, real error
			task := nursery.Spawn(n, func(ctx context.Context) (int, error) { panic("spawned") })
			_, err := task.Wait(ctx)
			var pe *nursery.PanicError
			errors.As(err, &pe)
			got <- pe
			return err
		})
		wg.Wait()
		if p.Value != "spawned" {
			t.Fatalf("run %d: Run panicked with %v, want the spawned task's panic", i, p.Value)
		}
		if len(p.Suppressed) != 1 || p.Suppressed[0] != errB {
			t.Fatalf("run %d: Suppressed = %v, want [errB] only", i, p.Suppressed)
		}
	}
}
