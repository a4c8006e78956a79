//go:build go1.25

package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/structured-go/structured/cancel"
	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/timeout"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	errKey     = errors.New("key")
	errCleanup = errors.New("cleanup failed")
)

// sleeper sleeps d, or returns ctx's error.
func sleeper(d time.Duration) func(context.Context) error {
	return func(ctx context.Context) error { return cancel.Sleep(ctx, d) }
}

func waitDone(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// S59: MoveOnAfter reports its own deadline and drops the echo; code after
// the interrupted wait never runs.
func TestMoveOnAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		var after bool
		timedOut, err := timeout.MoveOnAfter(t.Context(), time.Second, func(ctx context.Context) error {
			if err := cancel.Sleep(ctx, 2*time.Second); err != nil {
				return err
			}
			after = true
			return nil
		})
		if !timedOut || err != nil || after || time.Since(t0) != time.Second {
			t.Fatalf("MoveOnAfter() = %v, %v after %v (after=%v); want true, nil after 1s", timedOut, err, time.Since(t0), after)
		}
	})
}

// S60: FailAfter and FailAt return an error matching ErrTimeout and
// DeadlineExceeded, not Canceled.
func TestFailAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for name, call := range map[string]func() error{
			"FailAfter": func() error { return timeout.FailAfter(t.Context(), time.Second, sleeper(2*time.Second)) },
			"FailAt": func() error {
				return timeout.FailAt(t.Context(), time.Now().Add(time.Second), sleeper(2*time.Second))
			},
			"Call": func() error {
				v, err := timeout.Call(t.Context(), time.Second, func(ctx context.Context) (int, error) {
					return 7, cancel.Sleep(ctx, 2*time.Second)
				})
				if v != 0 {
					return fmt.Errorf("Call returned %d with the timeout, want the zero value", v)
				}
				return err
			},
		} {
			err := call()
			if !errors.Is(err, timeout.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				t.Errorf("%s() = %v, want ErrTimeout and DeadlineExceeded, not Canceled", name, err)
			}
		}
		if err := timeout.FailAfter(t.Context(), 50*time.Millisecond, sleeper(time.Second)); err.Error() != "timeout: deadline of 50ms exceeded" {
			t.Errorf("FailAfter error says %q", err)
		}
	})
}

// S61: non-positive durations and past deadlines still run fn, with a done
// ctx.
func TestNonPositiveDurations(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Hour} {
		var entry error
		timedOut, err := timeout.MoveOnAfter(t.Context(), d, func(ctx context.Context) error {
			entry = ctx.Err()
			return ctx.Err()
		})
		if entry != context.DeadlineExceeded || !timedOut || err != nil {
			t.Errorf("MoveOnAfter(%v, echo) = %v, %v, ctx.Err() on entry %v; want true, nil, DeadlineExceeded", d, timedOut, err, entry)
		}
		timedOut, err = timeout.MoveOnAfter(t.Context(), d, func(ctx context.Context) error { return nil })
		if timedOut || err != nil {
			t.Errorf("MoveOnAfter(%v, ignore) = %v, %v; want false, nil", d, timedOut, err)
		}
	}
	if err := timeout.FailAt(t.Context(), time.Now().Add(-time.Hour), waitDone); !errors.Is(err, timeout.ErrTimeout) {
		t.Errorf("FailAt(past) = %v, want ErrTimeout", err)
	}
}

// S62: a foreign error passes through unchanged and is not a timeout.
func TestForeignError(t *testing.T) {
	err := timeout.FailAfter(t.Context(), time.Hour, func(ctx context.Context) error { return errKey })
	if err != errKey {
		t.Fatalf("FailAfter() = %v, want errKey itself", err)
	}
	tm := timeout.New(time.Hour)
	if err := tm.Run(t.Context(), func(ctx context.Context) error { return errKey }); err != errKey || tm.Expired() {
		t.Fatalf("Timeout.Run() = %v, expired %v; want errKey, false", err, tm.Expired())
	}
}

// S63: an error returned while handling the timeout replaces it.
func TestCleanupErrorReplacesTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		onTimeout := func(ctx context.Context) error {
			<-ctx.Done()
			return errCleanup
		}
		if err := timeout.FailAfter(t.Context(), time.Second, onTimeout); err != errCleanup {
			t.Errorf("FailAfter() = %v, want errCleanup", err)
		}
		if timedOut, err := timeout.MoveOnAfter(t.Context(), time.Second, onTimeout); timedOut || err != errCleanup {
			t.Errorf("MoveOnAfter() = %v, %v; want false, errCleanup", timedOut, err)
		}
	})
}

// S64: work that completes as the timer fires keeps its result.
func TestCompletionAtTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ignoring := func(ctx context.Context) error {
			time.Sleep(2 * time.Second) // does not watch ctx
			return nil
		}
		if err := timeout.FailAfter(t.Context(), time.Second, ignoring); err != nil {
			t.Errorf("FailAfter() = %v, want nil", err)
		}
		if timedOut, err := timeout.MoveOnAfter(t.Context(), time.Second, ignoring); timedOut || err != nil {
			t.Errorf("MoveOnAfter() = %v, %v; want false, nil", timedOut, err)
		}
		tm := timeout.New(time.Second)
		if err := tm.Run(t.Context(), ignoring); err != nil || !tm.Expired() {
			t.Errorf("Timeout.Run() = %v, expired %v; want nil, true", err, tm.Expired())
		}
	})
}

// S65: a timeout never leaves the parent cancelled.
func TestParentNotCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent := t.Context()
		if err := timeout.FailAfter(parent, time.Second, waitDone); !errors.Is(err, timeout.ErrTimeout) {
			t.Fatalf("FailAfter() = %v", err)
		}
		if parent.Err() != nil {
			t.Fatalf("parent.Err() = %v after the timeout", parent.Err())
		}
		if err := cancel.Sleep(parent, time.Second); err != nil {
			t.Fatalf("a wait on the parent failed: %v", err)
		}
	})
}

// S66: nested timeouts: only the one that fired reports it; the outer one
// wins ties; an outer call does not swallow an inner timeout.
func TestNestedTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// (a) identical deadlines: the outer one fires.
		var inner error
		outer := timeout.FailAfter(t.Context(), 10*time.Millisecond, func(ctx context.Context) error {
			inner = timeout.FailAfter(ctx, 10*time.Millisecond, waitDone)
			return inner
		})
		if errors.Is(inner, timeout.ErrTimeout) || !errors.Is(inner, context.DeadlineExceeded) || !errors.Is(outer, timeout.ErrTimeout) {
			t.Errorf("(a) inner %v, outer %v; want the plain deadline, then ErrTimeout", inner, outer)
		}
		// (a') the same with a reschedulable Timeout inside.
		tm := timeout.New(10 * time.Millisecond)
		outer = timeout.FailAfter(t.Context(), 10*time.Millisecond, func(ctx context.Context) error {
			inner = tm.Run(ctx, waitDone)
			return inner
		})
		if errors.Is(inner, timeout.ErrTimeout) || tm.Expired() || !errors.Is(outer, timeout.ErrTimeout) {
			t.Errorf("(a') inner %v (expired %v), outer %v; want the plain deadline, false, ErrTimeout", inner, tm.Expired(), outer)
		}

		// (b) the inner expires; the outer body goes on until its own deadline.
		t0 := time.Now()
		var innerAt, continued time.Duration
		outer = timeout.FailAfter(t.Context(), 100*time.Millisecond, func(ctx context.Context) error {
			inner = timeout.FailAfter(ctx, 10*time.Millisecond, waitDone)
			innerAt = time.Since(t0)
			err := waitDone(ctx)
			continued = time.Since(t0)
			return err
		})
		if !errors.Is(inner, timeout.ErrTimeout) || innerAt != 10*time.Millisecond ||
			!errors.Is(outer, timeout.ErrTimeout) || continued != 100*time.Millisecond {
			t.Errorf("(b) inner %v at %v, outer %v at %v", inner, innerAt, outer, continued)
		}

		// (c) an outer MoveOnAfter does not swallow the inner timeout.
		timedOut, err := timeout.MoveOnAfter(t.Context(), time.Hour, func(ctx context.Context) error {
			return timeout.FailAfter(ctx, 10*time.Millisecond, waitDone)
		})
		if timedOut || !errors.Is(err, timeout.ErrTimeout) {
			t.Errorf("(c) MoveOnAfter() = %v, %v; want false, the inner ErrTimeout", timedOut, err)
		}
	})
}

// S67: external cancellation inside a timeout is not a timeout.
func TestExternalCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, stop := context.WithCancel(t.Context())
		go func() { time.Sleep(time.Millisecond); stop() }()
		if err := timeout.FailAfter(parent, time.Second, waitDone); err != context.Canceled {
			t.Errorf("FailAfter() = %v, want the parent's Canceled", err)
		}
		parent, stop = context.WithCancel(t.Context())
		go func() { time.Sleep(time.Millisecond); stop() }()
		tm := timeout.New(time.Second)
		if err := tm.Run(parent, waitDone); err != context.Canceled || tm.Expired() {
			t.Errorf("Timeout.Run() = %v, expired %v; want Canceled, false", err, tm.Expired())
		}
		if err := tm.Reschedule(time.Now().Add(time.Hour)); err != timeout.ErrFinished {
			t.Errorf("Reschedule after Run = %v, want ErrFinished", err)
		}
	})
}

// S68: cancelling a Timeout by hand before its deadline is not a timeout,
// even if the work then overruns the deadline without looking at ctx.
func TestManualCancelIsNotTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tm := timeout.New(100 * time.Millisecond)
		err := tm.Run(t.Context(), func(ctx context.Context) error {
			tm.Cancel(nil)
			time.Sleep(110 * time.Millisecond) // past the deadline, not watching
			return ctx.Err()
		})
		if err != nil || tm.Expired() {
			t.Fatalf("Timeout.Run() = %v, expired %v; want nil, false", err, tm.Expired())
		}
	})
}

// S69: a shielded timeout keeps its own deadline with the parent cancelled.
func TestShieldedTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, stop := context.WithCancel(t.Context())
		stop()
		t0 := time.Now()
		timedOut, err := timeout.MoveOnAfter(parent, time.Second, waitDone, timeout.WithShield())
		if !timedOut || err != nil || time.Since(t0) != time.Second {
			t.Errorf("MoveOnAfter(shielded) = %v, %v after %v; want true, nil after 1s", timedOut, err, time.Since(t0))
		}
		err = timeout.FailAfter(parent, time.Second, waitDone, timeout.WithShield())
		if !errors.Is(err, timeout.ErrTimeout) || time.Since(t0) != 2*time.Second {
			t.Errorf("FailAfter(shielded) = %v, want ErrTimeout after another 1s", err)
		}
	})
}

// S70: the Reschedule state machine.
func TestReschedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tm := timeout.New(time.Second)
		if err := tm.Reschedule(time.Now()); err != timeout.ErrNotEntered {
			t.Errorf("Reschedule before Run = %v, want ErrNotEntered", err)
		}
		t0 := time.Now()
		err := tm.Run(t.Context(), func(ctx context.Context) error {
			later := t0.Add(5 * time.Second)
			go func() { // from another goroutine
				if err := tm.Reschedule(later); err != nil {
					t.Errorf("Reschedule during Run = %v", err)
				}
			}()
			time.Sleep(time.Millisecond)
			if w, ok := tm.When(); !ok || !w.Equal(later) {
				t.Errorf("When() = %v, %v; want t0+5s", w.Sub(t0), ok)
			}
			if err := tm.Reschedule(time.Time{}); err != nil {
				t.Errorf("Reschedule(zero) = %v", err)
			}
			if _, ok := tm.When(); ok {
				t.Error("When() after disabling reports a deadline")
			}
			if err := cancel.Sleep(ctx, 10*time.Second); err != nil {
				return fmt.Errorf("disabled timeout fired: %w", err)
			}
			if err := tm.Reschedule(time.Now()); err != nil { // at now: expires at once
				t.Errorf("Reschedule(now) = %v", err)
			}
			err := waitDone(ctx)
			if err := tm.Reschedule(time.Now().Add(time.Hour)); err != timeout.ErrExpired {
				t.Errorf("Reschedule after expiry = %v, want ErrExpired", err)
			}
			return err
		})
		if !errors.Is(err, timeout.ErrTimeout) || !tm.Expired() || time.Since(t0) != 10*time.Second+time.Millisecond {
			t.Errorf("Run() = %v, expired %v after %v", err, tm.Expired(), time.Since(t0))
		}
		if err := tm.Reschedule(time.Now()); err != timeout.ErrFinished {
			t.Errorf("Reschedule after Run = %v, want ErrFinished", err)
		}
		if err := tm.Run(t.Context(), waitDone); err != timeout.ErrRunTwice {
			t.Errorf("second Run = %v, want ErrRunTwice", err)
		}
	})
}

// S71: Expired reports whether the deadline fired while running.
func TestExpired(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		at := time.Now().Add(time.Second)
		tm := timeout.NewAt(at)
		if w, ok := tm.When(); !ok || !w.Equal(at) {
			t.Errorf("NewAt: When() = %v, %v", w, ok)
		}
		_ = tm.Run(t.Context(), waitDone)
		if !tm.Expired() {
			t.Error("Expired() = false after the deadline ended the work")
		}
		tm = timeout.New(time.Second)
		_ = tm.Run(t.Context(), func(ctx context.Context) error { return nil })
		time.Sleep(2 * time.Second)
		if tm.Expired() {
			t.Error("Expired() = true when the work finished first")
		}
		tm = timeout.NewAt(time.Time{}) // disabled
		if err := tm.Run(t.Context(), sleeper(time.Hour)); err != nil || tm.Expired() {
			t.Errorf("disabled: Run() = %v, Expired() = %v", err, tm.Expired())
		}
	})
}

// S72: in a cleanup path after cancellation, a timeout works only shielded;
// unshielded, the parent's cancellation wins at once.
func TestTimeoutInCleanup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, stop := context.WithCancel(t.Context())
		stop()
		t0 := time.Now()
		if err := timeout.FailAfter(parent, 10*time.Millisecond, sleeper(time.Second), timeout.WithShield()); !errors.Is(err, timeout.ErrTimeout) || time.Since(t0) != 10*time.Millisecond {
			t.Errorf("shielded FailAfter = %v after %v; want ErrTimeout after 10ms", err, time.Since(t0))
		}
		t0 = time.Now()
		if err := timeout.FailAfter(parent, 10*time.Millisecond, sleeper(time.Second)); err != context.Canceled || time.Since(t0) != 0 {
			t.Errorf("unshielded FailAfter = %v after %v; want Canceled at once", err, time.Since(t0))
		}
	})
}

// S38: a shielded section inside a task being started is not interrupted by
// the cancellation of Start's ctx; the cancellation is seen after it.
func TestShieldInsideStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var shieldedDone bool
		var afterShield error
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			startCtx, stop := context.WithCancel(ctx)
			go func() { time.Sleep(time.Second); stop() }()
			_, err := nursery.Start(startCtx, n, func(ctx context.Context, started func(int)) error {
				_ = cancel.New(cancel.WithShield()).Run(ctx, func(ctx context.Context) error {
					if err := cancel.Sleep(ctx, 2*time.Second); err != nil {
						return err
					}
					shieldedDone = true
					return nil
				})
				afterShield = ctx.Err()
				return ctx.Err()
			})
			if err != context.Canceled {
				return fmt.Errorf("Start() = %v, want Canceled", err)
			}
			return nil
		})
		if err != nil || !shieldedDone || afterShield == nil {
			t.Fatalf("Run() = %v, shielded section done %v, ctx after it %v", err, shieldedDone, afterShield)
		}
	})
}

// A timeout inside a nursery task is that task's real failure, never the
// echo of the nursery's cancellation; two tasks timing out on their own are
// both reported.
func TestTimeoutIsRealFailureInNursery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				return timeout.FailAfter(ctx, time.Second, waitDone)
			})
			n.Go(func(ctx context.Context) error {
				<-ctx.Done() // cancelled by the first timeout...
				// ...then its own cleanup overruns its own deadline.
				return timeout.FailAfter(context.WithoutCancel(ctx), time.Second, waitDone)
			})
			return nil
		})
		var count atomic.Int64
		for _, e := range unwrapAll(err) {
			if errors.Is(e, timeout.ErrTimeout) {
				count.Add(1)
			}
		}
		if count.Load() != 2 {
			t.Fatalf("Run() = %v, want both timeouts", err)
		}
	})
}

func unwrapAll(err error) []error {
	if m, ok := err.(interface{ Unwrap() []error }); ok {
		return m.Unwrap()
	}
	return []error{err}
}

// Misuse panics clearly.
func TestMisuse(t *testing.T) {
	var nilCtx context.Context
	for name, call := range map[string]func(){
		"MoveOnAfter nil ctx": func() { _, _ = timeout.MoveOnAfter(nilCtx, time.Second, waitDone) },
		"FailAfter nil fn":    func() { _ = timeout.FailAfter(context.Background(), time.Second, nil) },
		"nil option":          func() { _ = timeout.FailAt(context.Background(), time.Now(), waitDone, nil) },
		"Call nil fn":         func() { _, _ = timeout.Call[int](context.Background(), time.Second, nil) },
		"Run nil fn":          func() { _ = timeout.New(time.Second).Run(context.Background(), nil) },
	} {
		r := func() (r any) {
			defer func() { r = recover() }()
			call()
			return nil
		}()
		if msg, _ := r.(string); msg == "" {
			t.Errorf("%s: panicked with %v, want a message", name, r)
		}
	}
}
