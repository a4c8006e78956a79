//go:build go1.25

package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/cancel"
	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/timeout"
)

// A nested timeout fires at its own deadline even when the enclosing
// deadline, earlier when it started, moves later or goes away while it runs.
func TestNestedTimeoutFiresAfterOuterDeadlineMoves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// An outer Timeout of 1s, rescheduled to an hour from now while an
		// inner FailAfter(2s) runs.
		t0 := time.Now()
		outer := timeout.New(time.Second)
		err := outer.Run(t.Context(), func(ctx context.Context) error {
			return timeout.FailAfter(ctx, 2*time.Second, func(ctx context.Context) error {
				if err := outer.Reschedule(time.Now().Add(time.Hour)); err != nil {
					return err
				}
				<-ctx.Done()
				return ctx.Err()
			})
		})
		if !errors.Is(err, timeout.ErrTimeout) || time.Since(t0) != 2*time.Second {
			t.Errorf("inner FailAfter(2s) under a rescheduled outer: %v after %v, want ErrTimeout after 2s", err, time.Since(t0))
		}
		if outer.Expired() {
			t.Error("the outer timeout expired, want the inner one to have fired")
		}

		// A cancel.Scope whose deadline is removed around MoveOnAfter(2s).
		t0 = time.Now()
		s := cancel.New(cancel.WithTimeout(time.Second))
		var timedOut bool
		err = s.Run(t.Context(), func(ctx context.Context) error {
			var err error
			timedOut, err = timeout.MoveOnAfter(ctx, 2*time.Second, func(ctx context.Context) error {
				s.SetDeadline(time.Time{})
				<-ctx.Done()
				return ctx.Err()
			})
			return err
		})
		if err != nil || !timedOut || time.Since(t0) != 2*time.Second {
			t.Errorf("MoveOnAfter(2s) in a scope whose deadline is removed: (%v, %v) after %v, want (true, nil) after 2s",
				timedOut, err, time.Since(t0))
		}

		// While the outer deadline stays first, it is the outer one that
		// ends the work (and it wins ties).
		t0 = time.Now()
		outer = timeout.New(time.Second)
		err = outer.Run(t.Context(), func(ctx context.Context) error {
			return timeout.FailAfter(ctx, 2*time.Second, func(ctx context.Context) error {
				<-ctx.Done()
				return ctx.Err()
			})
		})
		if !errors.Is(err, timeout.ErrTimeout) || !outer.Expired() || time.Since(t0) != time.Second {
			t.Errorf("outer 1s around inner 2s: %v (outer expired %v) after %v, want the outer's timeout after 1s",
				err, outer.Expired(), time.Since(t0))
		}
	})
}

// A context derived from a Timeout's reports context.DeadlineExceeded once
// the Timeout fires, as one derived from context.WithTimeout would.
func TestTimeoutDerivedContextsReportDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tm := timeout.New(time.Second)
		var got []error
		err := tm.Run(t.Context(), func(ctx context.Context) error {
			child, stop := context.WithCancel(ctx)
			defer stop()
			timed, stop2 := context.WithTimeout(ctx, time.Hour)
			defer stop2()
			after := make(chan error, 1)
			context.AfterFunc(context.WithoutCancel(ctx), func() {}) // never runs: detached
			stop3 := context.AfterFunc(ctx, func() { after <- ctx.Err() })
			defer stop3()
			<-child.Done()
			<-timed.Done()
			got = []error{child.Err(), timed.Err(), <-after, context.Cause(child)}
			return ctx.Err()
		})
		if !errors.Is(err, timeout.ErrTimeout) {
			t.Fatalf("Run() = %v, want ErrTimeout", err)
		}
		for i, e := range got {
			if e != context.DeadlineExceeded {
				t.Errorf("derived context %d reports %v, want context.DeadlineExceeded", i, e)
			}
		}
	})
}

// A timeout keeps the words of the work's own error in its message, in one
// format for every entry point, while matching what it always matched.
func TestTimeoutKeepsTheWorkWords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := func(ctx context.Context) error {
			<-ctx.Done()
			return fmt.Errorf("slow: %w", ctx.Err())
		}
		bare := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
		d := 50 * time.Millisecond
		for _, tc := range []struct {
			name string
			call func(fn func(context.Context) error) error
		}{
			{"FailAfter", func(fn func(context.Context) error) error { return timeout.FailAfter(t.Context(), d, fn) }},
			{"FailAt", func(fn func(context.Context) error) error { return timeout.FailAt(t.Context(), time.Now().Add(d), fn) }},
			{"Call", func(fn func(context.Context) error) error {
				_, err := timeout.Call(t.Context(), d, func(ctx context.Context) (int, error) { return 0, fn(ctx) })
				return err
			}},
			{"Timeout.Run", func(fn func(context.Context) error) error { return timeout.New(d).Run(t.Context(), fn) }},
		} {
			err := tc.call(slow)
			if want := "timeout: deadline of 50ms exceeded: slow: context deadline exceeded"; err == nil || err.Error() != want {
				t.Errorf("%s: error %q, want %q", tc.name, err, want)
			}
			if !errors.Is(err, timeout.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				t.Errorf("%s: %v does not match ErrTimeout and DeadlineExceeded only", tc.name, err)
			}
			err = tc.call(bare)
			if want := "timeout: deadline of 50ms exceeded"; err == nil || err.Error() != want {
				t.Errorf("%s with a bare echo: error %q, want %q", tc.name, err, want)
			}
		}
	})
}

// A timeout whose deadline fired just before its parent was cancelled (by a
// sibling's failure) passes the echo on as the parent's: the nursery does
// not report a stray context.DeadlineExceeded beside the real failure.
func TestTimedOutWorkUnderACancelledParent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errSibling := errors.New("sibling failed")
		for name, call := range map[string]func(ctx context.Context, fn func(context.Context) error) error{
			"MoveOnAfter": func(ctx context.Context, fn func(context.Context) error) error {
				_, err := timeout.MoveOnAfter(ctx, time.Second, fn)
				return err
			},
			"FailAfter": func(ctx context.Context, fn func(context.Context) error) error {
				return timeout.FailAfter(ctx, time.Second, fn)
			},
			"Timeout.Run": func(ctx context.Context, fn func(context.Context) error) error {
				return timeout.New(time.Second).Run(ctx, fn)
			},
		} {
			err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
				fail := make(chan struct{})
				n.Go(func(ctx context.Context) error { <-fail; return errSibling })
				n.Go(func(ctx context.Context) error {
					return call(ctx, func(ctx context.Context) error {
						<-ctx.Done() // the timeout fired
						close(fail)
						time.Sleep(time.Millisecond) // the sibling fails meanwhile
						return fmt.Errorf("slow: %w", ctx.Err())
					})
				})
				return nil
			})
			if err != errSibling {
				t.Errorf("%s: Run() = %v, want the sibling's failure alone", name, err)
			}
		}
	})
}

// An outer Timeout rescheduled, while an inner timeout runs, to the very
// instant of the inner deadline wins the tie, as an outer deadline always
// does: the inner passes the echo on and the outer reports the timeout.
func TestRescheduledOuterWinsTheTie(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for range 100 {
			outer := timeout.New(time.Hour)
			var innerTimedOut bool
			var innerErr error
			err := outer.Run(t.Context(), func(ctx context.Context) error {
				innerTimedOut, innerErr = timeout.MoveOnAfter(ctx, 10*time.Millisecond, func(ctx context.Context) error {
					if err := outer.Reschedule(time.Now().Add(10 * time.Millisecond)); err != nil {
						return err
					}
					<-ctx.Done()
					return ctx.Err()
				})
				return innerErr
			})
			if innerTimedOut || !errors.Is(err, timeout.ErrTimeout) || !outer.Expired() {
				t.Fatalf("inner (%v, %v), outer %v (expired %v): want the outer to win the tie", innerTimedOut, innerErr, err, outer.Expired())
			}
		}
	})
}

// A reschedulable Timeout can be shielded too: under a cancelled parent it
// still runs the work until its own deadline, which can move.
func TestReschedulableTimeoutShielded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, stop := context.WithCancel(t.Context())
		stop()
		var t0 time.Time
		for name, make := range map[string]func() *timeout.Timeout{
			"New":   func() *timeout.Timeout { return timeout.New(time.Second, timeout.WithShield()) },
			"NewAt": func() *timeout.Timeout { return timeout.NewAt(time.Now().Add(time.Second), timeout.WithShield()) },
		} {
			tm := make()
			t0 = time.Now()
			err := tm.Run(parent, func(ctx context.Context) error {
				if ctx.Err() != nil {
					return fmt.Errorf("the shielded work starts with %v", ctx.Err())
				}
				if err := tm.Reschedule(time.Now().Add(2 * time.Second)); err != nil {
					return err
				}
				<-ctx.Done()
				return ctx.Err()
			})
			if !errors.Is(err, timeout.ErrTimeout) || time.Since(t0) != 2*time.Second {
				t.Errorf("%s: Run() = %v after %v, want ErrTimeout after the moved 2s", name, err, time.Since(t0))
			}
		}
		if r := recoverPanicTimeout(func() { timeout.New(time.Second, nil) }); r == nil {
			t.Error("New with a nil Option did not panic")
		}
	})
}

func recoverPanicTimeout(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}
