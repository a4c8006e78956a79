//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/nursery"
)

// runPanics runs nursery.Run and returns the *PanicError it panicked with.
func runPanics(t *testing.T, ctx context.Context, body func(context.Context, *nursery.Nursery) error, opts ...nursery.Option) *nursery.PanicError {
	t.Helper()
	var err error
	r := recoverPanic(func() { err = nursery.Run(ctx, body, opts...) })
	p, ok := r.(*nursery.PanicError)
	if !ok {
		t.Fatalf("Run() = %v and panicked with %#v, want a panic with *nursery.PanicError", err, r)
	}
	return p
}

func panickingTask(ctx context.Context) error {
	panic("boom")
}

// S23: a child's panic cancels the siblings, waits for them, and re-panics in
// Run's goroutine with the value and the child's own stack.
func TestChildPanicPropagates(t *testing.T) {
	synctest.Test(t, testS23)
}

func testS23(t *testing.T) {
	var siblingExited atomic.Bool
	p := runPanics(t, t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(time.Second) // exits well after the panic
			siblingExited.Store(true)
			return ctx.Err()
		})
		n.Go(panickingTask)
		return nil
	})
	if !siblingExited.Load() {
		t.Fatal("Run re-panicked before the sibling exited")
	}
	if p.Value != "boom" {
		t.Fatalf("PanicError.Value = %v, want boom", p.Value)
	}
	if !strings.Contains(string(p.Stack), "panickingTask") {
		t.Fatalf("PanicError.Stack does not show the panicking function:\n%s", p.Stack)
	}
	if msg := p.Error(); !strings.Contains(msg, "boom") || !strings.Contains(msg, "panickingTask") {
		t.Fatalf("PanicError.Error() lacks the value or the original stack:\n%s", msg)
	}
}

// S23: a panic with an error value can be matched with errors.Is.
func TestPanicErrorUnwraps(t *testing.T) {
	p := runPanics(t, t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { panic(errA) })
		return nil
	})
	if !errors.Is(p, errA) {
		t.Fatalf("errors.Is(PanicError, errA) = false; Value %v", p.Value)
	}
}

// S24: a panic takes priority over errors, which are kept as Suppressed;
// a second panic is kept too.
func TestPanicBeatsErrorsButKeepsThem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := runPanics(t, t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return errA })
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				time.Sleep(time.Second)
				panic("second")
			})
			n.Go(func(ctx context.Context) error {
				<-ctx.Done() // errA cancelled the nursery
				panic("first")
			})
			return nil
		})
		if p.Value != "first" {
			t.Fatalf("PanicError.Value = %v, want the first panic", p.Value)
		}
		if len(p.Suppressed) != 2 || p.Suppressed[0] != errA {
			t.Fatalf("Suppressed = %v, want [errA, second panic]", p.Suppressed)
		}
		var second *nursery.PanicError
		if !errors.As(p.Suppressed[1], &second) || second.Value != "second" {
			t.Fatalf("Suppressed[1] = %v, want the second panic", p.Suppressed[1])
		}
	})
}

// S25: a panic in the body cancels and joins the children, then re-panics.
func TestBodyPanicPropagates(t *testing.T) {
	synctest.Test(t, testS25)
}

func testS25(t *testing.T) {
	var childExited atomic.Bool
	p := runPanics(t, t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(time.Second)
			childExited.Store(true)
			return ctx.Err()
		})
		panic("body boom")
	})
	if !childExited.Load() {
		t.Fatal("Run re-panicked before the child exited")
	}
	if p.Value != "body boom" || !strings.Contains(p.Error(), "body") {
		t.Fatalf("PanicError = %v, want the body's panic", p)
	}
}

// S26: runtime.Goexit in a child (t.FailNow) does not deadlock Run; it is an
// error wrapping ErrGoexit and cancels the siblings.
func TestGoexitInChild(t *testing.T) {
	var siblingCancelled atomic.Bool
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			<-ctx.Done()
			siblingCancelled.Store(true)
			return ctx.Err()
		})
		n.Go(func(ctx context.Context) error {
			runtime.Goexit()
			return nil
		})
		return nil
	})
	if !errors.Is(err, nursery.ErrGoexit) {
		t.Fatalf("Run() = %v, want an error wrapping ErrGoexit", err)
	}
	if !siblingCancelled.Load() {
		t.Fatal("the sibling was not cancelled")
	}
}

// S26: runtime.Goexit in the body cancels and joins the children before the
// goroutine exits.
func TestGoexitInBody(t *testing.T) {
	synctest.Test(t, testGoexitInBody)
}

func testGoexitInBody(t *testing.T) {
	var childExited, returned atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				time.Sleep(time.Second)
				childExited.Store(true)
				return ctx.Err()
			})
			runtime.Goexit()
			return nil
		})
		returned.Store(true)
	}()
	<-done
	if returned.Load() {
		t.Fatal("Run returned normally after the body called runtime.Goexit")
	}
	if !childExited.Load() {
		t.Fatal("the goroutine exited before the child did")
	}
}

// Regression: eight tasks failing at the same instant. One peer hangs 1–4
// times in 50; here every run must end, with all eight errors. The bubble
// turns a hang into an immediate deadlock report.
func TestRegressionEightSimultaneousFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for i := range 200 {
			release := make(chan struct{})
			err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
				for range 8 {
					n.Go(func(ctx context.Context) error {
						<-release
						return errors.New("failure")
					})
				}
				close(release)
				return nil
			})
			if got := multierr.Errors(err); len(got) != 8 {
				t.Fatalf("run %d: Run() returned %d errors, want 8", i, len(got))
			}
		}
	})
}

// Regression: a panic racing the end of the body. One peer loses 6–13 panics
// in 2000; here every one must come back.
func TestRegressionPanicRacingWait(t *testing.T) {
	const runs = 2000
	lost := 0
	for range runs {
		release := make(chan struct{})
		r := recoverPanic(func() {
			_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				n.Go(func(ctx context.Context) error {
					<-release
					panic("late")
				})
				close(release)
				return nil // races the panic
			})
		})
		if p, ok := r.(*nursery.PanicError); !ok || p.Value != "late" {
			lost++
		}
	}
	if lost != 0 {
		t.Fatalf("%d of %d panics were lost", lost, runs)
	}
}

// Panics are not swallowed when many tasks panic at once: one becomes the
// PanicError, the others its Suppressed.
func TestManySimultaneousPanics(t *testing.T) {
	var wg sync.WaitGroup
	wg.Add(4)
	p := runPanics(t, t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 4 {
			n.Go(func(ctx context.Context) error {
				wg.Done()
				wg.Wait()
				panic("same time")
			})
		}
		return nil
	})
	if len(p.Suppressed) != 3 {
		t.Fatalf("Suppressed = %v, want the other 3 panics", p.Suppressed)
	}
}
