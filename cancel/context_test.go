//go:build go1.25

package cancel_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/cancel"
)

// children derives from ctx the contexts libraries derive (net/http, gRPC,
// drivers), and returns each one's Err and Cause once ctx is done.
func children(t *testing.T, ctx context.Context) map[string][2]error {
	t.Helper()
	withCancel, stop1 := context.WithCancel(ctx)
	defer stop1()
	withTimeout, stop2 := context.WithTimeout(ctx, time.Hour)
	defer stop2()
	withCause, stop3 := context.WithCancelCause(ctx)
	defer stop3(nil)
	grandchild, stop4 := context.WithCancel(withTimeout)
	defer stop4()
	afterErr := make(chan [2]error, 1)
	stop5 := context.AfterFunc(ctx, func() { afterErr <- [2]error{ctx.Err(), context.Cause(ctx)} })
	defer stop5()
	detached := context.WithoutCancel(ctx)

	<-ctx.Done()
	got := map[string][2]error{}
	for name, c := range map[string]context.Context{
		"WithCancel": withCancel, "WithTimeout": withTimeout, "WithCancelCause": withCause, "grandchild": grandchild,
	} {
		<-c.Done()
		got[name] = [2]error{c.Err(), context.Cause(c)}
	}
	got["AfterFunc"] = <-afterErr
	if detached.Err() != nil {
		t.Errorf("WithoutCancel child: Err() = %v, want nil", detached.Err())
	}
	return got
}

// A context derived from a scope's reports what the scope's does: after the
// scope's deadline, context.DeadlineExceeded, not context.Canceled; after
// Cancel, context.Canceled and the cause; after the parent's end, the
// parent's error.
func TestDerivedContextsReportTheScopeErr(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errStop := errors.New("stop")
		parent, stopParent := context.WithTimeout(t.Context(), time.Second)
		defer stopParent()
		for _, tc := range []struct {
			name      string
			scope     *cancel.Scope
			parent    context.Context
			trigger   func(s *cancel.Scope)
			err, want error
		}{
			{"deadline", cancel.New(cancel.WithTimeout(time.Second)), t.Context(), nil, context.DeadlineExceeded, context.DeadlineExceeded},
			{"moved deadline", cancel.New(), t.Context(), func(s *cancel.Scope) { s.SetDeadline(time.Now().Add(time.Second)) }, context.DeadlineExceeded, context.DeadlineExceeded},
			{"cancel", cancel.New(), t.Context(), func(s *cancel.Scope) { s.Cancel(errStop) }, context.Canceled, errStop},
			{"parent", cancel.New(), parent, nil, context.DeadlineExceeded, context.DeadlineExceeded},
		} {
			var got map[string][2]error
			_ = tc.scope.Run(tc.parent, func(ctx context.Context) error {
				if tc.trigger != nil {
					go func() { time.Sleep(time.Millisecond); tc.trigger(tc.scope) }()
				}
				got = children(t, ctx)
				return ctx.Err()
			})
			for name, ec := range got {
				if ec[0] != tc.err || ec[1] != tc.want {
					t.Errorf("%s: %s child: Err() = %v, Cause = %v; want %v, %v", tc.name, name, ec[0], ec[1], tc.err, tc.want)
				}
			}
			if len(got) != 5 {
				t.Errorf("%s: %d children checked, want 5", tc.name, len(got))
			}
		}
	})
}

// The deadline a derived context reports moves with the scope's, and
// context.WithTimeout under a scope takes the earlier of the two.
func TestDerivedContextDeadlines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cancel.New(cancel.WithTimeout(time.Minute))
		err := s.Run(t.Context(), func(ctx context.Context) error {
			child, stop := context.WithCancel(ctx)
			defer stop()
			later := time.Now().Add(time.Hour)
			s.SetDeadline(later)
			if d, ok := child.Deadline(); !ok || !d.Equal(later) {
				return fmt.Errorf("child's Deadline() = %v, %v; want the moved %v", d, ok, later)
			}
			short, stop2 := context.WithTimeout(ctx, time.Second)
			defer stop2()
			<-short.Done()
			if short.Err() != context.DeadlineExceeded || ctx.Err() != nil {
				return fmt.Errorf("a shorter child timeout: %v, scope %v", short.Err(), ctx.Err())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// A cause that combines errors is recognised whole: the echo of it is
// absorbed, and CancelledCaught is true.
func TestJoinedCauseIsCaught(t *testing.T) {
	for name, echo := range map[string]func(ctx context.Context) error{
		"the cause":         context.Cause,
		"the cause wrapped": func(ctx context.Context) error { return fmt.Errorf("stopping: %w", context.Cause(ctx)) },
	} {
		joined := errors.Join(errWhy, errKey)
		s := cancel.New()
		err := s.Run(t.Context(), func(ctx context.Context) error {
			s.Cancel(joined)
			<-ctx.Done()
			return echo(ctx)
		})
		if err != nil || !s.CancelledCaught() {
			t.Errorf("%s: Run() = %v, caught %v; want nil, true", name, err, s.CancelledCaught())
		}
	}
}

// When the scope's deadline ties with its parent's, the parent ends the
// work (ties go to the outer scope), and CancelCalled stays true after Run:
// the deadline did pass while it ran.
func TestCancelCalledAfterTieWithParent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		at := time.Now().Add(time.Second)
		parent, stop := context.WithDeadline(t.Context(), at)
		defer stop()
		s := cancel.New(cancel.WithDeadline(at))
		var during bool
		err := s.Run(parent, func(ctx context.Context) error {
			<-ctx.Done()
			during = s.CancelCalled()
			return ctx.Err()
		})
		if err != context.DeadlineExceeded || s.CancelledCaught() {
			t.Errorf("Run() = %v, caught %v; want the parent's DeadlineExceeded passed through", err, s.CancelledCaught())
		}
		if !during || !s.CancelCalled() {
			t.Errorf("CancelCalled during Run = %v, after = %v; want true both times", during, s.CancelCalled())
		}
	})
}

// A panic in the methods of the error fn returns, which Run calls to find
// echoes, reaches Run's caller, and the scope still ends: its context is
// done.
func TestPanickingErrorMethodsReachTheCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, stop := context.WithCancel(t.Context())
		defer stop()
		s := cancel.New(cancel.WithTimeout(time.Hour))
		var inner context.Context
		r := func() (r any) {
			defer func() { r = recover() }()
			_ = s.Run(parent, func(ctx context.Context) error {
				inner = ctx
				s.Cancel(nil)
				var e *badUnwrap
				return e
			})
			return nil
		}()
		if r == nil {
			t.Fatal("the panic of the error's Unwrap was lost")
		}
		synctest.Wait()
		if inner.Err() == nil {
			t.Fatal("the scope's context is not done after Run")
		}
	})
}

type badUnwrap struct{ inner error }

func (e *badUnwrap) Error() string { return "bad" }
func (e *badUnwrap) Unwrap() error { return e.inner }

// A context derived at the instant the scope is cancelled is cancelled too,
// and deriving it does not deadlock (the standard library registers a child
// while holding the child's lock). In the bubble, a deadlock is reported at
// once.
func TestDeriveWhileCancelling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for range 2000 {
			s := cancel.New()
			_ = s.Run(t.Context(), func(ctx context.Context) error {
				go s.Cancel(nil)
				child, stop := context.WithCancel(ctx)
				defer stop()
				<-child.Done()
				if child.Err() != context.Canceled {
					return fmt.Errorf("child.Err() = %v, want Canceled", child.Err())
				}
				return ctx.Err()
			})
			synctest.Wait()
		}
	})
}

// When a scope's own cancellation ends the work while its parent is
// cancelled too, the outer scope is the one to catch the echo (trio's rule),
// and it recognises it even when the two ended differently (the inner by its
// deadline, the outer by Cancel): the echo passes on as the outer's.
func TestEchoPassedToTheOuterScope(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outer := cancel.New()
		inner := cancel.New(cancel.WithTimeout(time.Second))
		var innerErr error
		err := outer.Run(t.Context(), func(ctx context.Context) error {
			innerErr = inner.Run(ctx, func(ctx context.Context) error {
				<-ctx.Done() // the inner deadline
				outer.Cancel(nil)
				return fmt.Errorf("fetch: %w", ctx.Err())
			})
			return innerErr
		})
		if !errors.Is(innerErr, context.Canceled) || innerErr.Error() != "fetch: context deadline exceeded" || inner.CancelledCaught() {
			t.Errorf("inner Run() = %v (caught %v), want its echo passed on as the outer's, uncaught", innerErr, inner.CancelledCaught())
		}
		if err != nil || !outer.CancelledCaught() {
			t.Errorf("outer Run() = %v (caught %v), want nil, caught", err, outer.CancelledCaught())
		}
	})
}

// The scope's context runs a hook registered after it is done in a goroutine
// of its own, as context.AfterFunc does: the standard library registers its
// hook holding a lock that the hook takes.
func TestAfterFuncOnADoneScopeContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := cancel.New()
		s.Cancel(nil)
		_ = s.Run(t.Context(), func(ctx context.Context) error {
			af, ok := ctx.(interface{ AfterFunc(func()) func() bool })
			if !ok {
				return errors.New("the scope's context has no AfterFunc method")
			}
			lock := make(chan struct{}, 1) // a lock whose wait the bubble sees as blocking
			ran := make(chan struct{})
			lock <- struct{}{}
			af.AfterFunc(func() { lock <- struct{}{}; close(ran); <-lock })
			<-lock
			<-ran
			return ctx.Err()
		})
	})
}

// The parent's cancellation reaches the scope whether or not anyone waits on
// its Done: Err reports it at once, and a wait that starts later ends.
func TestParentCancellationSeenWithoutWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, stop := context.WithCancelCause(t.Context())
		errStop := errors.New("parent stopped")
		s := cancel.New()
		err := s.Run(parent, func(ctx context.Context) error {
			if ctx.Err() != nil {
				return errors.New("done before the parent was cancelled")
			}
			stop(errStop)
			if ctx.Err() != context.Canceled || context.Cause(ctx) != errStop {
				return fmt.Errorf("after the parent's cancellation: Err %v, Cause %v", ctx.Err(), context.Cause(ctx))
			}
			<-ctx.Done()
			return ctx.Err()
		})
		if err != context.Canceled || s.CancelledCaught() || s.CancelCalled() {
			t.Fatalf("Run() = %v, caught %v, called %v; want the parent's Canceled passed through", err, s.CancelledCaught(), s.CancelCalled())
		}
	})
}
