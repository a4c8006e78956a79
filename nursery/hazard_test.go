//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/structured-go/structured/nursery"
)

// panickySem is a Semaphore whose Acquire or Release panics.
type panickySem struct {
	acquire, release bool
	sem              chan struct{}
}

func newPanickySem(acquire, release bool, size int) *panickySem {
	return &panickySem{acquire: acquire, release: release, sem: make(chan struct{}, size)}
}

func (s *panickySem) Acquire(ctx context.Context, n int64) error {
	if s.acquire {
		panic("acquire exploded")
	}
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *panickySem) Release(n int64) {
	<-s.sem
	if s.release {
		panic("release exploded")
	}
}

// runPanics runs Run and returns the *PanicError it panicked with, or
// fails the test. A Run that hangs instead ends the synctest bubble with a
// deadlock, which fails the test too.
func runMustPanic(t *testing.T, body func(ctx context.Context, n *nursery.Nursery) error, opts ...nursery.Option) *nursery.PanicError {
	t.Helper()
	var r any
	func() {
		defer func() { r = recover() }()
		err := nursery.Run(t.Context(), body, opts...)
		t.Fatalf("Run() = %v, want a panic", err)
	}()
	p, ok := r.(*nursery.PanicError)
	if !ok {
		t.Fatalf("Run panicked with %T %v, want a *PanicError", r, r)
	}
	return p
}

// A Semaphore whose Acquire panics makes Run panic, as its doc says, on
// every path that takes a unit: Go, Spawn, Start, and the queue that feeds a
// cancelled nursery. It never leaves Run waiting for a task that was
// counted in but never started.
func TestPanickingAcquireMakesRunPanicInsteadOfHanging(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(ctx context.Context, n *nursery.Nursery)
	}{
		{"Go", func(ctx context.Context, n *nursery.Nursery) { n.Go(func(context.Context) error { return nil }) }},
		{"Spawn", func(ctx context.Context, n *nursery.Nursery) {
			nursery.Spawn(n, func(context.Context) (int, error) { return 1, nil })
		}},
		{"named Go", func(ctx context.Context, n *nursery.Nursery) {
			n.Go(func(context.Context) error { return nil }, nursery.WithName("t"))
		}},
		{"Start", func(ctx context.Context, n *nursery.Nursery) {
			_, _ = nursery.Start(ctx, n, func(ctx context.Context, started func(int)) error { started(1); return nil })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := runMustPanic(t, func(ctx context.Context, n *nursery.Nursery) error {
					tc.start(ctx, n)
					return nil
				}, nursery.WithSemaphore(newPanickySem(true, false, 1)))
				if p.Value != "acquire exploded" {
					t.Fatalf("Run panicked with %v, want the Acquire's panic", p.Value)
				}
			})
		})
	}
	t.Run("the queue of a cancelled nursery", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			sem := newPanickySem(false, false, 1)
			p := runMustPanic(t, func(ctx context.Context, n *nursery.Nursery) error {
				release := make(chan struct{})
				n.Go(func(context.Context) error { <-release; return nil }) // holds the one unit
				go func() { time.Sleep(time.Second); n.Cancel(nil) }()
				n.Go(func(context.Context) error { return nil }) // waits, then is queued on the cancellation
				sem.acquire = true                               // the feeder's Acquire panics
				close(release)
				return nil
			}, nursery.WithSemaphore(sem), nursery.WithLimit(1))
			if p.Value != "acquire exploded" {
				t.Fatalf("Run panicked with %v, want the Acquire's panic", p.Value)
			}
		})
	})
}

// A Semaphore whose Release panics is the nursery's panic, re-raised by
// Run, not a crash of the process from the task's goroutine.
func TestPanickingReleaseMakesRunPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := runMustPanic(t, func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(context.Context) error { return nil })
			return nil
		}, nursery.WithSemaphore(newPanickySem(false, true, 1)))
		if p.Value != "release exploded" {
			t.Fatalf("Run panicked with %v, want the Release's panic", p.Value)
		}
	})
}

// A nil *semaphore.Weighted, which passes a check for a nil interface, is
// refused when the option is made, with words that say so.
func TestWithSemaphoreRefusesANilPointer(t *testing.T) {
	var w *semaphore.Weighted
	r := recoverPanic(func() { nursery.WithSemaphore(w) })
	if msg := fmt.Sprint(r); !strings.Contains(msg, "WithSemaphore((*semaphore.Weighted)(nil))") {
		t.Fatalf("WithSemaphore(nil *semaphore.Weighted) panicked with %q, want the type named", msg)
	}
}

// errPanicky is an error whose Error method panics.
type errPanicky struct{}

func (errPanicky) Error() string { panic("Error exploded") }

// A suppressed error whose Error method panics does not make the
// PanicError's own Error panic: the original panic and its stack survive.
func TestPanicErrorSurvivesAPanickingSuppressedError(t *testing.T) {
	p := runMustPanic(t, func(ctx context.Context, n *nursery.Nursery) error {
		failed := make(chan struct{})
		n.Go(func(context.Context) error { defer close(failed); return errPanicky{} })
		n.Go(func(context.Context) error { <-failed; panic("the real panic") })
		return nil
	}, nursery.WithCollectAll())
	var msg string
	if r := recoverPanic(func() { msg = p.Error() }); r != nil {
		t.Fatalf("PanicError.Error() panicked with %v", r)
	}
	for _, want := range []string{"the real panic", "nursery_test.errPanicky whose Error method panicked: Error exploded", "panicking goroutine's stack"} {
		if !strings.Contains(msg, want) {
			t.Errorf("PanicError.Error() = %q, want it to contain %q", msg, want)
		}
	}
}

// Re-panicking the *PanicError that Task.Wait returned is the same panic
// coming back, as returning it is: Run reports it once, crossing no nursery.
func TestRepanickingWaitsPanicErrorIsReportedOnce(t *testing.T) {
	p := runMustPanic(t, func(ctx context.Context, n *nursery.Nursery) error {
		task := nursery.Spawn(n, func(context.Context) (int, error) { panic("boom") })
		if _, err := task.Wait(ctx); err != nil {
			panic(err)
		}
		return nil
	})
	if p.Value != "boom" || len(p.Suppressed) != 0 || strings.Contains(p.Error(), "re-raised") {
		t.Fatalf("Run panicked with %v (suppressed %v), want boom once, crossing no nursery:\n%s", p.Value, p.Suppressed, p.Error())
	}
}

// Race's doc: if ctx is cancelled before any function succeeds, Race
// returns ctx's error, also when a function that ignores ctx succeeds after
// the cancellation.
func TestRaceAfterCancellationIgnoresALateSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithCancel(t.Context())
		go func() { time.Sleep(time.Second); stop() }()
		v, err := nursery.Race(ctx, func(context.Context) (int, error) {
			time.Sleep(2 * time.Second) // ignores ctx, succeeds after the cancellation
			return 1, nil
		})
		if err != context.Canceled {
			t.Fatalf("Race() = %v, %v; want 0, context.Canceled", v, err)
		}
	})
}

// A race called off with a cause of its own reports the cause's words and
// matches context.Canceled, as a *SignalError does.
func TestRaceUnderACancelledCauseMatchesCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errStop := errors.New("user pressed stop")
		ctx, stop := context.WithCancelCause(t.Context())
		failed := make(chan struct{})
		_, err := nursery.Race(ctx,
			func(context.Context) (int, error) { close(failed); return 0, errors.New("replica 1 down") },
			func(ctx context.Context) (int, error) {
				<-failed
				stop(errStop)
				<-ctx.Done()
				return 0, context.Cause(ctx)
			})
		if !errors.Is(err, context.Canceled) || !errors.Is(err, errStop) || err.Error() != "user pressed stop" {
			t.Fatalf("Race() = %v; want the cause's words, matching context.Canceled and the cause", err)
		}
	})
}

// A task of a tracked nursery that fails with an error whose Error method
// panics: the tree records the cancellation's cause in words saying so,
// the process does not crash (the tree used to call Error outside any
// recover), and Run returns the error itself.
func TestTrackedCauseWhoseErrorPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cause string
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(context.Context) error { return errPanicky{} })
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				// The tree notes the cause just after the context is
				// done: wait for it, in virtual time.
				for range 100 {
					for _, info := range nursery.Tree() {
						cause = info.Cause
					}
					if cause != "" {
						break
					}
					time.Sleep(time.Millisecond)
				}
				return nil
			})
			return nil
		}, nursery.WithTracking())
		if _, ok := err.(errPanicky); !ok {
			t.Fatalf("Run() = %#v, want the errPanicky", err)
		}
		if !strings.Contains(cause, "errPanicky whose Error method panicked: Error exploded") {
			t.Errorf("the tree's cause = %q, want words saying Error panicked", cause)
		}
	})
}
