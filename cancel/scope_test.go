//go:build go1.25

package cancel_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/multierr"

	"github.com/structured-go/structured/cancel"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	errWhy = errors.New("why")
	errX   = errors.New("x")
	errKey = errors.New("key")
)

// waitDone blocks on ctx and returns its error: the echo of a cancellation.
func waitDone(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// S40: the scope's ctx ends on Cancel (Canceled), on its deadline
// (DeadlineExceeded), and on the parent's end (the parent's error).
func TestThreeTriggers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		check := func(name string, s *cancel.Scope, parent context.Context, trigger func(), want error) {
			t.Helper()
			var got error
			_ = s.Run(parent, func(ctx context.Context) error {
				go trigger()
				<-ctx.Done()
				got = ctx.Err()
				return nil
			})
			if got != want {
				t.Errorf("%s: ctx.Err() = %v, want %v", name, got, want)
			}
		}
		s := cancel.New()
		check("Cancel", s, t.Context(), func() { s.Cancel(nil) }, context.Canceled)
		check("deadline", cancel.New(cancel.WithTimeout(time.Second)), t.Context(), func() {}, context.DeadlineExceeded)
		parent, stop := context.WithTimeout(t.Context(), time.Second)
		defer stop()
		check("parent", cancel.New(), parent, func() {}, context.DeadlineExceeded)
		parent2, stop2 := context.WithCancel(t.Context())
		check("parent cancel", cancel.New(), parent2, stop2, context.Canceled)
	})
}

// S41: cancellation is level-triggered: every later wait fails at once.
func TestLevelTriggered(t *testing.T) {
	s := cancel.New()
	err := s.Run(t.Context(), func(ctx context.Context) error {
		s.Cancel(nil)
		for i := range 3 {
			if err := cancel.Sleep(ctx, time.Hour); err == nil {
				return fmt.Errorf("wait %d after cancel succeeded", i)
			}
		}
		return ctx.Err()
	})
	if err != nil || !s.CancelledCaught() {
		t.Fatalf("Run() = %v, caught %v; want nil, true", err, s.CancelledCaught())
	}
}

// S42: Cancel before Run: fn still runs, with a done ctx.
func TestCancelBeforeRun(t *testing.T) {
	s := cancel.New()
	s.Cancel(nil)
	var invoked bool
	err := s.Run(t.Context(), func(ctx context.Context) error {
		invoked = true
		if ctx.Err() != context.Canceled {
			return fmt.Errorf("ctx.Err() on entry = %v", ctx.Err())
		}
		return ctx.Err()
	})
	if !invoked || err != nil || !s.CancelledCaught() {
		t.Fatalf("invoked=%v Run()=%v caught=%v; want true, nil, true", invoked, err, s.CancelledCaught())
	}
}

// S43: Cancel is idempotent, goroutine-safe, and the first cause wins.
func TestCancelFirstCauseWins(t *testing.T) {
	s := cancel.New()
	var cause error
	err := s.Run(t.Context(), func(ctx context.Context) error {
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Cancel(errWhy)
			s.Cancel(errX)
		}()
		<-ctx.Done()
		<-done
		cause = context.Cause(ctx)
		return context.Cause(ctx)
	})
	if err != nil || cause != errWhy {
		t.Fatalf("Run() = %v, cause %v; want nil, errWhy", err, cause)
	}
}

// S44: CancelledCaught is true only when fn returned the echo of this
// scope's own cancellation.
func TestCancelledCaughtMatrix(t *testing.T) {
	unrelated, stop := context.WithCancel(context.Background())
	stop()
	tests := []struct {
		name       string
		cancel     bool
		ret        func(ctx context.Context) error
		wantErr    error
		wantCaught bool
	}{
		{"own cancel, echo", true, func(ctx context.Context) error { return ctx.Err() }, nil, true},
		{"own cancel, wrapped echo", true, func(ctx context.Context) error { return fmt.Errorf("op: %w", ctx.Err()) }, nil, true},
		{"own cancel, ignored", true, func(ctx context.Context) error { return nil }, nil, false},
		{"own cancel, other error", true, func(ctx context.Context) error { return errX }, errX, false},
		{"no cancel, foreign Canceled", false, func(ctx context.Context) error { return unrelated.Err() }, context.Canceled, false},
	}
	for _, tc := range tests {
		s := cancel.New()
		err := s.Run(t.Context(), func(ctx context.Context) error {
			if tc.cancel {
				s.Cancel(nil)
			}
			return tc.ret(ctx)
		})
		if err != tc.wantErr || s.CancelledCaught() != tc.wantCaught || s.CancelCalled() != tc.cancel {
			t.Errorf("%s: Run() = %v, caught %v, called %v; want %v, %v, %v", tc.name,
				err, s.CancelledCaught(), s.CancelCalled(), tc.wantErr, tc.wantCaught, tc.cancel)
		}
	}
}

// S45: when an inner and an outer scope are both cancelled, the outer one
// catches, whatever the order of the two Cancel calls.
func TestOuterCatches(t *testing.T) {
	for _, innerFirst := range []bool{true, false} {
		outer, inner := cancel.New(), cancel.New()
		var innerErr error
		err := outer.Run(t.Context(), func(ctx context.Context) error {
			innerErr = inner.Run(ctx, func(ctx context.Context) error {
				if innerFirst {
					inner.Cancel(nil)
					outer.Cancel(nil)
				} else {
					outer.Cancel(nil)
					inner.Cancel(nil)
				}
				return waitDone(ctx)
			})
			return innerErr
		})
		if err != nil || !errors.Is(innerErr, context.Canceled) || inner.CancelledCaught() || !outer.CancelledCaught() {
			t.Errorf("innerFirst=%v: outer Run()=%v inner Run()=%v inner caught %v outer caught %v; want nil, Canceled, false, true",
				innerFirst, err, innerErr, inner.CancelledCaught(), outer.CancelledCaught())
		}
	}
}

// S46: a shielded scope ignores its parent's cancellation, but not its own
// Cancel, nor the cancellation of scopes nested inside it.
func TestShieldIgnoresParent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, stop := context.WithCancel(t.Context())
		stop()
		shielded := cancel.New(cancel.WithShield())
		err := shielded.Run(parent, func(ctx context.Context) error {
			if err := cancel.Sleep(ctx, time.Second); err != nil {
				return fmt.Errorf("shielded sleep: %w", err)
			}
			inner := cancel.New()
			if err := inner.Run(ctx, func(ctx context.Context) error {
				inner.Cancel(nil)
				return waitDone(ctx)
			}); err != nil || !inner.CancelledCaught() {
				return fmt.Errorf("inner scope: %v", err)
			}
			go func() {
				time.Sleep(time.Second)
				shielded.Cancel(errWhy)
			}()
			return cancel.Sleep(ctx, time.Hour)
		})
		if err != nil || !shielded.CancelledCaught() {
			t.Fatalf("Run() = %v, caught %v; want nil, true", err, shielded.CancelledCaught())
		}
	})
}

// S47: a shielded scope catches its own cancellation even with the parent
// cancelled; code after it then sees the parent's cancellation.
func TestShieldedCatchesOwn(t *testing.T) {
	for _, outerReturnsEcho := range []bool{false, true} {
		outer, inner := cancel.New(), cancel.New(cancel.WithShield())
		var between bool
		err := outer.Run(t.Context(), func(ctx context.Context) error {
			outer.Cancel(nil)
			if err := inner.Run(ctx, func(ctx context.Context) error {
				inner.Cancel(nil)
				return waitDone(ctx)
			}); err != nil {
				return err
			}
			between = true
			if outerReturnsEcho {
				return ctx.Err()
			}
			return nil
		})
		if err != nil || !between || !inner.CancelledCaught() || outer.CancelledCaught() != outerReturnsEcho {
			t.Errorf("echo=%v: Run()=%v between=%v inner caught %v outer caught %v",
				outerReturnsEcho, err, between, inner.CancelledCaught(), outer.CancelledCaught())
		}
	}
}

// S48: the cleanup pattern: in a task already cancelled, a shielded scope
// with a timeout lets cleanup block; after it, the cancellation is visible.
func TestShieldedCleanupAfterCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		work := cancel.New()
		var cleaned bool
		var afterShield error
		err := work.Run(t.Context(), func(ctx context.Context) (err error) {
			defer func() {
				cleanup := cancel.New(cancel.WithShield(), cancel.WithTimeout(5*time.Second))
				_ = cleanup.Run(ctx, func(ctx context.Context) error {
					if d, ok := ctx.Deadline(); !ok || time.Until(d) != 5*time.Second {
						return fmt.Errorf("cleanup deadline %v %v", d, ok)
					}
					if err := cancel.Sleep(ctx, time.Second); err != nil { // flushing...
						return err
					}
					cleaned = true
					return nil
				})
				afterShield = ctx.Err()
			}()
			work.Cancel(nil)
			return waitDone(ctx)
		})
		if err != nil || !cleaned || afterShield != context.Canceled {
			t.Fatalf("Run()=%v cleaned=%v ctx after shield=%v; want nil, true, Canceled", err, cleaned, afterShield)
		}
	})
}

// S49: the shield can be set while running: on, it protects from a later
// parent cancellation; off, with the parent done, it cancels at once; a done
// context never comes back.
func TestSetShieldWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, stop := context.WithCancel(t.Context())
		s := cancel.New()
		var steps []string
		err := s.Run(parent, func(ctx context.Context) error {
			s.SetShield(true)
			stop()
			if err := cancel.Sleep(ctx, time.Second); err == nil {
				steps = append(steps, "shielded sleep completed")
			}
			s.SetShield(false)
			if err := cancel.Sleep(ctx, time.Second); err != nil {
				steps = append(steps, "unshielded sleep failed")
			}
			s.SetShield(true)
			if ctx.Err() != nil {
				steps = append(steps, "still done after reshielding")
			}
			return ctx.Err()
		})
		want := "[shielded sleep completed unshielded sleep failed still done after reshielding]"
		if fmt.Sprint(steps) != want || err != context.Canceled || s.CancelledCaught() {
			t.Fatalf("steps %v, Run() = %v, caught %v; want %s, Canceled (the parent's), false", steps, err, s.CancelledCaught(), want)
		}
	})
}

// S49(c): a task under a shielded scope wakes as soon as the shield drops.
func TestUnshieldWakesSleeper(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, stop := context.WithCancel(t.Context())
		stop()
		s := cancel.New(cancel.WithShield())
		t0 := time.Now()
		err := s.Run(parent, func(ctx context.Context) error {
			go func() {
				time.Sleep(time.Second)
				s.SetShield(false)
			}()
			return cancel.Sleep(ctx, time.Hour)
		})
		if !errors.Is(err, context.Canceled) || time.Since(t0) != time.Second {
			t.Fatalf("Run() = %v after %v, want Canceled after 1s", err, time.Since(t0))
		}
	})
}

// S50: ctx reports the effective deadline: min(own, parent), or own when
// shielded, following SetDeadline and SetShield.
func TestEffectiveDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now()
		parent, stop := context.WithDeadline(t.Context(), now.Add(5*time.Second))
		defer stop()
		s := cancel.New(cancel.WithDeadline(now.Add(10 * time.Second)))
		_ = s.Run(parent, func(ctx context.Context) error {
			for _, step := range []struct {
				do   func()
				want time.Duration
			}{
				{func() {}, 5 * time.Second},
				{func() { s.SetDeadline(now.Add(3 * time.Second)) }, 3 * time.Second},
				{func() { s.SetDeadline(now.Add(10 * time.Second)); s.SetShield(true) }, 10 * time.Second},
			} {
				step.do()
				if d, ok := ctx.Deadline(); !ok || d.Sub(now) != step.want {
					t.Errorf("ctx.Deadline() = %v, %v; want now+%v", d.Sub(now), ok, step.want)
				}
			}
			return nil
		})
	})
}

// S51: a deadline at or before now when Run starts: fn runs, already
// cancelled.
func TestDeadlineAlreadyPassed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cancel.New(cancel.WithDeadline(time.Now()))
		var entry error
		err := s.Run(t.Context(), func(ctx context.Context) error {
			entry = ctx.Err()
			return cancel.Sleep(ctx, time.Hour)
		})
		if entry != context.DeadlineExceeded || err != nil || !s.CancelledCaught() {
			t.Fatalf("ctx.Err() on entry %v, Run() %v, caught %v; want DeadlineExceeded, nil, true", entry, err, s.CancelledCaught())
		}
	})
}

// S52: a deadline moves while running: later before expiry prevents it; into
// the past cancels at once; after it fired, moving it does not undo it.
func TestMoveDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cancel.New(cancel.WithTimeout(100 * time.Millisecond))
		err := s.Run(t.Context(), func(ctx context.Context) error {
			s.SetDeadline(time.Now().Add(400 * time.Millisecond))
			return cancel.Sleep(ctx, 200*time.Millisecond)
		})
		if err != nil || s.CancelCalled() {
			t.Fatalf("extended: Run() = %v, called %v; want nil, false", err, s.CancelCalled())
		}

		s = cancel.New()
		t0 := time.Now()
		var got error
		_ = s.Run(t.Context(), func(ctx context.Context) error {
			go func() {
				time.Sleep(time.Second)
				s.SetDeadline(time.Now().Add(-time.Second))
			}()
			got = cancel.Sleep(ctx, time.Hour)
			s.SetDeadline(time.Now().Add(time.Hour))
			return ctx.Err()
		})
		if !errors.Is(got, context.DeadlineExceeded) || time.Since(t0) != time.Second || !s.CancelCalled() {
			t.Fatalf("moved into the past: sleep = %v after %v, called %v", got, time.Since(t0), s.CancelCalled())
		}
	})
}

// S53: CancelCalled turns true when the deadline passes, even before Run.
func TestCancelCalledBeforeRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cancel.New(cancel.WithDeadline(time.Now().Add(time.Second)))
		if s.CancelCalled() {
			t.Fatal("CancelCalled() before the deadline = true")
		}
		time.Sleep(2 * time.Second)
		if !s.CancelCalled() {
			t.Fatal("CancelCalled() after the deadline = false")
		}
	})
}

// S54: WithTimeout counts from Run, not from New.
func TestTimeoutCountsFromRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cancel.New(cancel.WithTimeout(5 * time.Second))
		time.Sleep(3 * time.Second)
		entry := time.Now()
		_ = s.Run(t.Context(), func(ctx context.Context) error {
			if d, ok := ctx.Deadline(); !ok || !d.Equal(entry.Add(5*time.Second)) {
				t.Errorf("ctx.Deadline() = %v, want entry+5s", d.Sub(entry))
			}
			return nil
		})
	})
}

// S55: a scope runs once: again, concurrently or nested, it is an error.
func TestRunOnce(t *testing.T) {
	s := cancel.New()
	var nested, concurrent error
	calls := 0
	_ = s.Run(t.Context(), func(ctx context.Context) error {
		calls++
		nested = s.Run(ctx, func(ctx context.Context) error { calls++; return nil })
		done := make(chan struct{})
		go func() {
			defer close(done)
			concurrent = s.Run(ctx, func(ctx context.Context) error { calls++; return nil })
		}()
		<-done
		return nil
	})
	again := s.Run(t.Context(), func(ctx context.Context) error { calls++; return nil })
	for _, err := range []error{nested, concurrent, again} {
		if err != cancel.ErrRunTwice {
			t.Errorf("reused scope: Run() = %v, want ErrRunTwice", err)
		}
	}
	if calls != 1 {
		t.Fatalf("fn called %d times, want 1", calls)
	}
}

// S56: cancelling a scope that has exited is harmless.
func TestCancelAfterExit(t *testing.T) {
	s := cancel.New()
	_ = s.Run(t.Context(), func(ctx context.Context) error { return nil })
	s.Cancel(errWhy)
	if !s.CancelCalled() || s.CancelledCaught() {
		t.Fatalf("called %v caught %v; want true, false", s.CancelCalled(), s.CancelledCaught())
	}
}

// S57: echoes are stripped out of a combined error; the rest is kept.
func TestStripCombinedEchoes(t *testing.T) {
	s := cancel.New()
	err := s.Run(t.Context(), func(ctx context.Context) error {
		s.Cancel(nil)
		return multierr.Combine(ctx.Err(), fmt.Errorf("b: %w", ctx.Err()), errKey)
	})
	if err != errKey || !s.CancelledCaught() {
		t.Fatalf("Run() = %v, caught %v; want errKey alone, true", err, s.CancelledCaught())
	}

	s = cancel.New()
	both := multierr.Combine(errX, errKey)
	err = s.Run(t.Context(), func(ctx context.Context) error {
		s.Cancel(nil)
		return both
	})
	if err != both || s.CancelledCaught() {
		t.Fatalf("Run() = %v, caught %v; want both unchanged, false", err, s.CancelledCaught())
	}
}

// S58: context.Cause says why: the Cancel cause, or DeadlineExceeded.
func TestCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cancel.New()
		_ = s.Run(t.Context(), func(ctx context.Context) error {
			s.Cancel(errWhy)
			if got := context.Cause(ctx); got != errWhy {
				t.Errorf("Cause after Cancel(errWhy) = %v", got)
			}
			return nil
		})
		s = cancel.New(cancel.WithTimeout(time.Second))
		_ = s.Run(t.Context(), func(ctx context.Context) error {
			<-ctx.Done()
			if got := context.Cause(ctx); !errors.Is(got, context.DeadlineExceeded) {
				t.Errorf("Cause after the deadline = %v", got)
			}
			return nil
		})
	})
}

// The scope's context keeps the parent's values, and a context derived from
// it is cancelled with it.
func TestScopeContextValuesAndChildren(t *testing.T) {
	type key struct{}
	parent := context.WithValue(t.Context(), key{}, "v")
	s := cancel.New()
	err := s.Run(parent, func(ctx context.Context) error {
		if ctx.Value(key{}) != "v" {
			return errors.New("value lost")
		}
		child, stop := context.WithCancel(ctx)
		defer stop()
		s.Cancel(errWhy)
		<-child.Done()
		if context.Cause(child) != errWhy {
			return fmt.Errorf("child's cause = %v", context.Cause(child))
		}
		return child.Err()
	})
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
}

// A panic in fn propagates out of Run, and the scope is left exited.
func TestScopePanic(t *testing.T) {
	s := cancel.New(cancel.WithTimeout(time.Hour))
	var leaked context.Context
	r := func() (r any) {
		defer func() { r = recover() }()
		_ = s.Run(t.Context(), func(ctx context.Context) error {
			leaked = ctx
			panic("boom")
		})
		return nil
	}()
	if r != "boom" || leaked.Err() == nil {
		t.Fatalf("recovered %v, leaked ctx err %v; want boom, done", r, leaked.Err())
	}
	if err := s.Run(t.Context(), func(context.Context) error { return nil }); err != cancel.ErrRunTwice {
		t.Fatalf("Run after panic = %v, want ErrRunTwice", err)
	}
}

// Sleep returns nil after d, the cause if ctx ends first, and the cause at
// once for a done ctx.
func TestSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		if err := cancel.Sleep(t.Context(), time.Second); err != nil || time.Since(t0) != time.Second {
			t.Fatalf("Sleep(1s) = %v after %v", err, time.Since(t0))
		}
		ctx, stop := context.WithCancelCause(t.Context())
		go func() { time.Sleep(time.Second); stop(errWhy) }()
		if err := cancel.Sleep(ctx, time.Hour); err != errWhy {
			t.Fatalf("Sleep cancelled = %v, want the cause", err)
		}
		if err := cancel.Sleep(ctx, 0); err != errWhy {
			t.Fatalf("Sleep(done ctx, 0) = %v, want the cause", err)
		}
		if err := cancel.SleepUntil(t.Context(), time.Now().Add(time.Second)); err != nil {
			t.Fatalf("SleepUntil = %v", err)
		}
	})
}

// Misuse panics clearly.
func TestMisuse(t *testing.T) {
	var nilCtx context.Context
	for name, call := range map[string]func(){
		"nil ctx":    func() { _ = cancel.New().Run(nilCtx, func(context.Context) error { return nil }) },
		"nil fn":     func() { _ = cancel.New().Run(context.Background(), nil) },
		"nil option": func() { cancel.New(nil) },
		"Sleep nil":  func() { _ = cancel.Sleep(nilCtx, 0) },
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
