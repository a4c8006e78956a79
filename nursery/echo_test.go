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

	"go.uber.org/multierr"

	"github.com/structured-go/structured/nursery"
)

// count is how many times target occurs in err's tree (by ==, walking
// Unwrap() error and Unwrap() []error), so that a failure reported twice,
// however it is combined, is seen.
func count(err, target error) int {
	if err == nil {
		return 0
	}
	c := 0
	if sameErr(err, target) {
		c++
	}
	switch x := err.(type) {
	case interface{ Unwrap() error }:
		c += count(x.Unwrap(), target)
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			c += count(e, target)
		}
	}
	return c
}

// sameErr is == that does not panic on errors of a type that is not
// comparable (validationErrors below), which are the same only as a value
// passed around, compared here by their text and type.
func sameErr(a, b error) bool {
	va, aok := a.(validationErrors)
	vb, bok := b.(validationErrors)
	if aok || bok {
		return aok && bok && len(va) == len(vb) && (len(va) == 0 || &va[0] == &vb[0])
	}
	return a == b
}

// validationErrors is an error of a slice type, as validator's
// ValidationErrors is: == on two of them panics, and errors.Is(err, it) is
// always false.
type validationErrors []string

func (v validationErrors) Error() string { return "invalid: " + strings.Join(v, ", ") }

// wantEach fails unless err holds each of want exactly once, and nothing
// else.
func wantEach(t *testing.T, what string, err error, want ...error) {
	t.Helper()
	for _, w := range want {
		if c := count(err, w); c != 1 {
			t.Errorf("%s: Run() = %v holds %q %d times, want once", what, err, w, c)
		}
	}
	if got := len(multierr.Errors(err)); got != len(want) && !(len(want) > 1 && got == 1) {
		t.Errorf("%s: Run() = %v has %d errors, want %d", what, err, got, len(want))
	}
}

// A combined cause is recognised as an echo whole, before it is split:
// a sibling returning context.Cause(ctx) does not report the failures again.
func TestCombinedCauseIsOneEcho(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A sub-nursery in collect-all mode fails with errA and errB.
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return sleep(ctx, time.Hour) })
			n.Go(func(ctx context.Context) error {
				return nursery.Run(ctx, func(ctx context.Context, sub *nursery.Nursery) error {
					sub.Go(func(ctx context.Context) error { time.Sleep(time.Second); return errA })
					sub.Go(func(ctx context.Context) error { time.Sleep(2 * time.Second); return errB })
					return nil
				}, nursery.WithCollectAll())
			})
			return nil
		})
		wantEach(t, "sub-nursery", err, errA, errB)
		if got := multierr.Errors(err); len(got) != 2 || got[0] != errA || got[1] != errB {
			t.Errorf("sub-nursery: errors = %v, want [errA errB] in that order", got)
		}

		// The body returns errors.Join(errA, errB).
		err = nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return sleep(ctx, time.Hour) })
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				return fmt.Errorf("stopping: %w", context.Cause(ctx))
			})
			return errors.Join(errA, errB)
		})
		wantEach(t, "joined body error", err, errA, errB)

		// A cause of a type that is not comparable.
		invalid := validationErrors{"name", "age"}
		err = nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return sleep(ctx, time.Hour) })
			n.Go(func(ctx context.Context) error { return invalid })
			return nil
		})
		if count(err, invalid) != 1 || len(multierr.Errors(err)) != 1 {
			t.Errorf("slice-typed cause: Run() = %v, want it once", err)
		}
	})
}

// Only the nursery's own ctx.Err() and Cause are echoes, by identity: a
// cleanup failure that wraps a context error of the task's own making is a
// real error.
func TestCleanupContextErrorIsReal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The flush times out under a context of its own.
		var flushErr error
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				flush, stop := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
				defer stop()
				<-flush.Done() // the flush hangs until its own deadline
				flushErr = fmt.Errorf("flush: %w", flush.Err())
				return flushErr
			})
			return errA
		})
		wantEach(t, "flush", err, errA, flushErr)

		// The rollback is cancelled by the task itself while the nursery
		// ends by its parent's deadline.
		parent, stop := context.WithTimeout(t.Context(), time.Second)
		defer stop()
		var rollbackErr error
		err = nursery.Run(parent, func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				rb, stopRollback := context.WithCancel(context.WithoutCancel(ctx))
				stopRollback()
				rollbackErr = fmt.Errorf("rollback: %w", rb.Err())
				return rollbackErr
			})
			return nil
		})
		if err != rollbackErr {
			t.Errorf("rollback under a deadline: Run() = %v, want the rollback's error", err)
		}

		// The same with the nursery cancelled (context.Canceled too): a
		// cause of the task's own keeps it real.
		errRollback := errors.New("rollback abandoned")
		err = nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				rb, stopRollback := context.WithCancelCause(context.WithoutCancel(ctx))
				stopRollback(errRollback)
				return fmt.Errorf("rollback: %w", context.Cause(rb))
			})
			return errA
		})
		wantEach(t, "rollback with a cause", err, errA, errRollback)

		// Kinds do not matter either way: a deadline error is an echo when
		// it is what the nursery's ctx reports.
		parent, stop = context.WithTimeout(t.Context(), time.Second)
		defer stop()
		err = nursery.Run(parent, func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				return fmt.Errorf("fetch: %w", ctx.Err())
			})
			return nil
		})
		if !errors.Is(err, context.DeadlineExceeded) || err.Error() != "fetch: context deadline exceeded" {
			t.Errorf("echo of a parent deadline: Run() = %v, want the echo", err)
		}
	})
}

// When the caller cancels and the tasks return only echoes, Run returns the
// first echo unchanged, keeping the task's words; bare ctx.Err() comes back
// as the context error itself.
func TestParentCancellationKeepsTheTaskWords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, stop := context.WithCancel(t.Context())
		var upload error
		err := nursery.Run(parent, func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				upload = fmt.Errorf("Post \"http://registry/blobs/uploads/\": %w", ctx.Err())
				return upload
			})
			n.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
			time.Sleep(time.Second)
			stop()
			return nil
		})
		if err != upload || !errors.Is(err, context.Canceled) {
			t.Errorf("Run() = %v, want the upload's own error %v", err, upload)
		}

		parent, stop = context.WithCancel(t.Context())
		err = nursery.Run(parent, func(ctx context.Context, n *nursery.Nursery) error {
			for range 3 {
				n.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
			}
			stop()
			return nil
		})
		if err != context.Canceled {
			t.Errorf("bare echoes: Run() = %#v, want context.Canceled itself", err)
		}

		// The echo of the nursery's own Cancel is not the parent's.
		parent, stop = context.WithCancel(t.Context())
		errSelf := errors.New("self")
		err = nursery.Run(parent, func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { <-ctx.Done(); return fmt.Errorf("x: %w", context.Cause(ctx)) })
			n.Cancel(errSelf)
			time.Sleep(time.Second)
			stop()
			return nil
		})
		if err != context.Canceled {
			t.Errorf("own cancel, then the parent's: Run() = %v, want context.Canceled", err)
		}
	})
}

// A task that invents an error of its own after the parent was cancelled
// (a closed channel turned into "no result") reports a real failure: real
// errors rank above the parent's cancellation, as asyncio's and Kotlin's
// scopes rank them, and Run cannot tell an invented error from a cleanup
// that truly failed. The fix is in the task: check ctx.Err() first, or wrap
// it, and the error is an echo again.
func TestErrorInventedAfterCancellationIsReal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errNoResult := errors.New("no result")
		for _, tc := range []struct {
			name   string
			task   func(ctx context.Context, results <-chan int) error
			isReal bool
		}{
			{"invented", func(ctx context.Context, results <-chan int) error {
				if _, ok := <-results; !ok {
					return errNoResult
				}
				return nil
			}, true},
			{"checks ctx first", func(ctx context.Context, results <-chan int) error {
				if _, ok := <-results; !ok {
					if err := ctx.Err(); err != nil {
						return err
					}
					return errNoResult
				}
				return nil
			}, false},
			{"wraps ctx.Err()", func(ctx context.Context, results <-chan int) error {
				if _, ok := <-results; !ok {
					return fmt.Errorf("no result: %w", ctx.Err())
				}
				return nil
			}, false},
		} {
			parent, stop := context.WithCancel(t.Context())
			err := nursery.Run(parent, func(ctx context.Context, n *nursery.Nursery) error {
				results := make(chan int)
				n.Go(func(ctx context.Context) error { // the producer, cancelled by Ctrl-C
					defer close(results)
					<-ctx.Done()
					return ctx.Err()
				})
				n.Go(func(ctx context.Context) error { return tc.task(ctx, results) })
				stop() // Ctrl-C
				return nil
			})
			if got := !errors.Is(err, context.Canceled); got != tc.isReal {
				t.Errorf("%s: Run() = %v; real failure %v, want %v", tc.name, err, got, tc.isReal)
			}
		}
	})
}
