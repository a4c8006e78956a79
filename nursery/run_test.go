//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/nursery"
)

var (
	errA = errors.New("a failed")
	errB = errors.New("b failed")
)

// S1: Run joins the body and every child before returning.
func TestRunJoinsBodyAndChildren(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var exited atomic.Bool
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				time.Sleep(5 * time.Second)
				exited.Store(true)
				return nil
			})
			return nil
		})
		if err != nil {
			t.Fatalf("Run() = %v, want nil", err)
		}
		if !exited.Load() {
			t.Fatal("Run returned before its child exited")
		}
		if got := time.Since(start); got != 5*time.Second {
			t.Fatalf("Run took %v, want 5s", got)
		}
	})
}

// S2: a body that returns nil does not cancel the running children.
func TestBodyReturnDoesNotCancelChildren(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var errSeen atomic.Value
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				time.Sleep(time.Second) // the body has long returned
				errSeen.Store(fmt.Sprint(ctx.Err()))
				return nil
			})
			return nil
		})
		if err != nil {
			t.Fatalf("Run() = %v, want nil", err)
		}
		if got := errSeen.Load(); got != "<nil>" {
			t.Fatalf("child's ctx.Err() after the body returned = %v, want <nil>", got)
		}
	})
}

// S3: an empty nursery returns nil, even when the parent is cancelled.
func TestEmptyNurseryWithCancelledParent(t *testing.T) {
	ctx, stop := context.WithCancel(t.Context())
	stop()
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error { return nil })
	if err != nil {
		t.Fatalf("Run(cancelled ctx, empty body) = %v, want nil", err)
	}
}

type ctxKey string

// S4: children inherit the nursery's context, not the context of the code
// that called Go.
func TestChildrenInheritNurseryContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent := context.WithValue(t.Context(), ctxKey("who"), "nursery")
		var childErr, childVal atomic.Value
		err := nursery.Run(parent, func(ctx context.Context, n *nursery.Nursery) error {
			short, stop := context.WithTimeout(context.WithValue(ctx, ctxKey("who"), "caller"), time.Second)
			defer stop()
			_ = short // Go takes no context: the task cannot inherit this one
			n.Go(func(ctx context.Context) error {
				time.Sleep(2 * time.Second)
				childErr.Store(fmt.Sprint(ctx.Err()))
				childVal.Store(ctx.Value(ctxKey("who")))
				return nil
			})
			<-short.Done()
			return nil
		})
		if err != nil {
			t.Fatalf("Run() = %v, want nil", err)
		}
		if got := childErr.Load(); got != "<nil>" {
			t.Fatalf("child's ctx.Err() after the caller's timeout = %v, want <nil>", got)
		}
		if got := childVal.Load(); got != "nursery" {
			t.Fatalf("child's ctx.Value = %v, want the nursery's value", got)
		}
	})
}

// S5: Go may be called from children, concurrently, and after the body has
// returned while children run; Run joins all of them.
func TestGoFromChildrenHydra(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var started, finished atomic.Int64
		var spawn func(n *nursery.Nursery, depth int)
		spawn = func(n *nursery.Nursery, depth int) {
			started.Add(1)
			n.Go(func(ctx context.Context) error {
				defer finished.Add(1)
				time.Sleep(time.Millisecond) // the body has returned by now
				if depth < 6 {
					spawn(n, depth+1)
					spawn(n, depth+1)
				}
				return nil
			})
		}
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			spawn(n, 0)
			return nil
		})
		if err != nil {
			t.Fatalf("Run() = %v, want nil", err)
		}
		// 1 + 2 + 4 + ... + 64 tasks
		if s, f := started.Load(), finished.Load(); s != 127 || f != 127 {
			t.Fatalf("started %d, finished %d tasks before Run returned; want 127 and 127", s, f)
		}
	})
}

// S5: concurrent Go calls from many goroutines are race-free and all joined.
func TestConcurrentGo(t *testing.T) {
	var ran atomic.Int64
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 100 {
					n.Go(func(ctx context.Context) error { ran.Add(1); return nil })
				}
			})
		}
		wg.Wait()
		return nil
	})
	if err != nil || ran.Load() != 800 {
		t.Fatalf("Run() = %v with %d tasks run, want nil and 800", err, ran.Load())
	}
}

// S6: after Run has returned, Go panics with ErrClosed and never runs fn;
// Spawn does the same.
func TestGoAfterRunPanics(t *testing.T) {
	var kept *nursery.Nursery
	if err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		kept = n
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var called atomic.Bool
	for name, call := range map[string]func(){
		"Go": func() { kept.Go(func(ctx context.Context) error { called.Store(true); return nil }) },
		"Spawn": func() {
			nursery.Spawn(kept, func(ctx context.Context) (int, error) { called.Store(true); return 0, nil })
		},
	} {
		r := recoverPanic(call)
		err, ok := r.(error)
		if !ok || !errors.Is(err, nursery.ErrClosed) {
			t.Errorf("%s after Run returned panicked with %v, want an error wrapping ErrClosed", name, r)
		}
	}
	if called.Load() {
		t.Fatal("a function passed after Run returned was called")
	}
}

// S6: a Go racing with the end of Run either runs its task inside the
// nursery (before Run returns) or panics with ErrClosed; it never starts a
// task that nobody waits for.
func TestGoRacingCloseNeverLeaks(t *testing.T) {
	for range 500 {
		ready := make(chan *nursery.Nursery)
		var ran atomic.Bool
		var outcome any
		var wg sync.WaitGroup
		wg.Go(func() {
			n := <-ready
			outcome = recoverPanic(func() {
				n.Go(func(ctx context.Context) error { ran.Store(true); return nil })
			})
		})
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			ready <- n
			return nil
		})
		ranBeforeReturn := ran.Load()
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case outcome == nil && !ranBeforeReturn:
			t.Fatal("Go succeeded but its task had not run when Run returned")
		case outcome != nil && !errors.Is(outcome.(error), nursery.ErrClosed):
			t.Fatalf("Go panicked with %v, want ErrClosed", outcome)
		case outcome != nil && ran.Load():
			t.Fatal("Go panicked but its task ran anyway")
		}
	}
}

// S7: Go while the nursery is cancelling runs fn with a done context, and
// fn's context error is not reported.
func TestGoWhileCancellingRunsTask(t *testing.T) {
	var invoked, doneOnEntry atomic.Bool
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Cancel(nil)
		n.Go(func(ctx context.Context) error {
			invoked.Store(true)
			doneOnEntry.Store(ctx.Err() != nil)
			return ctx.Err()
		})
		return nil
	})
	if err != nil {
		t.Fatalf("Run() = %v, want nil (the ctx error is an echo)", err)
	}
	if !invoked.Load() || !doneOnEntry.Load() {
		t.Fatalf("invoked=%v doneOnEntry=%v, want true, true", invoked.Load(), doneOnEntry.Load())
	}
}

// S8: Cancel cancels body and children with the cause; Run returns nil; Cancel
// is idempotent and harmless after Run.
func TestCancelWithCause(t *testing.T) {
	errWhy := errors.New("shutting down")
	for _, tc := range []struct {
		name      string
		cause     error
		wantCause error
	}{
		{"with cause", errWhy, errWhy},
		{"nil cause", nil, nursery.ErrCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var kept *nursery.Nursery
			var childErr, childCause error
			err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
				kept = n
				done := make(chan struct{})
				n.Go(func(ctx context.Context) error {
					defer close(done)
					<-ctx.Done()
					childErr, childCause = ctx.Err(), context.Cause(ctx)
					return ctx.Err()
				})
				n.Cancel(tc.cause)
				n.Cancel(errors.New("second cause"))
				<-done
				if ctx.Err() != context.Canceled || !errors.Is(context.Cause(ctx), tc.wantCause) {
					return fmt.Errorf("body saw Err %v, Cause %v", ctx.Err(), context.Cause(ctx))
				}
				return ctx.Err()
			})
			if err != nil {
				t.Fatalf("Run() = %v, want nil", err)
			}
			if childErr != context.Canceled || !errors.Is(childCause, tc.wantCause) {
				t.Fatalf("child saw Err %v, Cause %v; want Canceled, %v", childErr, childCause, tc.wantCause)
			}
			kept.Cancel(errors.New("after Run")) // must not panic
		})
	}
}

// S9: cancellation reaches every leaf of nested nurseries.
func TestCancelReachesGrandchildren(t *testing.T) {
	var mu sync.Mutex
	var record []string
	var ready sync.WaitGroup
	ready.Add(4)
	err := nursery.Run(t.Context(), func(ctx context.Context, outer *nursery.Nursery) error {
		for _, w := range []string{"w1", "w2"} {
			outer.Go(func(ctx context.Context) error {
				return nursery.Run(ctx, func(ctx context.Context, inner *nursery.Nursery) error {
					for _, l := range []string{"l1", "l2"} {
						inner.Go(func(ctx context.Context) error {
							ready.Done()
							<-ctx.Done()
							mu.Lock()
							record = append(record, w+"-"+l)
							mu.Unlock()
							return ctx.Err()
						})
					}
					return nil
				})
			})
		}
		ready.Wait()
		outer.Cancel(nil)
		return nil
	})
	if err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	if len(record) != 4 {
		t.Fatalf("cancelled leaves = %v, want all four", record)
	}
}

// S10: a parent cancelled while Run waits for its children reaches them, and
// Run still waits for them to exit.
func TestParentCancelDuringExitPhase(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := context.WithCancel(t.Context())
		var cleanedUp atomic.Bool
		go func() {
			time.Sleep(time.Second)
			stop()
		}()
		start := time.Now()
		err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				time.Sleep(3 * time.Second) // slow cleanup
				cleanedUp.Store(true)
				return ctx.Err()
			})
			return nil
		})
		if err != context.Canceled {
			t.Fatalf("Run() = %v, want context.Canceled", err)
		}
		if !cleanedUp.Load() || time.Since(start) != 4*time.Second {
			t.Fatalf("cleanedUp=%v after %v, want true after 4s", cleanedUp.Load(), time.Since(start))
		}
	})
}

// S11: a child's real error cancels the body and its siblings.
func TestChildErrorCancelsBodyAndSiblings(t *testing.T) {
	var siblingWoke, afterWait atomic.Bool
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			<-ctx.Done()
			siblingWoke.Store(true)
			return ctx.Err()
		})
		n.Go(func(ctx context.Context) error { return errA })
		<-ctx.Done()
		if ctx.Err() == nil {
			afterWait.Store(true)
		}
		return ctx.Err()
	})
	if err != errA {
		t.Fatalf("Run() = %v, want errA itself", err)
	}
	if !siblingWoke.Load() || afterWait.Load() {
		t.Fatalf("siblingWoke=%v afterWait=%v", siblingWoke.Load(), afterWait.Load())
	}
}

// S12: a real error returned by the body cancels the children.
func TestBodyErrorCancelsChildren(t *testing.T) {
	var cause error
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			<-ctx.Done()
			cause = context.Cause(ctx)
			return ctx.Err()
		})
		return errA
	})
	if err != errA {
		t.Fatalf("Run() = %v, want errA", err)
	}
	if cause != errA {
		t.Fatalf("child's cause = %v, want errA", cause)
	}
}

// S13: one error comes back unchanged; several come back combined, each
// reachable by errors.Is and listed by multierr.Errors.
func TestErrorShape(t *testing.T) {
	t.Run("one", func(t *testing.T) {
		wrapped := fmt.Errorf("op: %w", errA)
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return wrapped })
			return nil
		})
		if err != wrapped {
			t.Fatalf("Run() = %#v, want the task's error itself", err)
		}
	})
	t.Run("several", func(t *testing.T) {
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return errA })
			n.Go(func(ctx context.Context) error { return errB })
			return nil
		}, nursery.WithCollectAll())
		if !errors.Is(err, errA) || !errors.Is(err, errB) {
			t.Fatalf("Run() = %v, want both errA and errB reachable", err)
		}
		if got := multierr.Errors(err); len(got) != 2 {
			t.Fatalf("multierr.Errors(Run()) = %v, want 2 errors", got)
		}
	})
}

// S14: every real error is kept, in the order it happened; the body's when
// the body returns.
func TestErrorOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				time.Sleep(time.Second)
				return errA
			})
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				return errB // a real error during cleanup, after errA
			})
			<-ctx.Done()
			time.Sleep(time.Second)
			return errors.New("body")
		})
		got := multierr.Errors(err)
		if len(got) != 3 || got[0] != errA || got[1] != errB || got[2].Error() != "body" {
			t.Fatalf("errors = %v, want [errA errB body]", got)
		}
	})
}

// S15: echoes of the nursery's own cancellation are not reported.
func TestCancellationEchoSuppressed(t *testing.T) {
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		echoes := []func(ctx context.Context) error{
			func(ctx context.Context) error { return ctx.Err() },
			func(ctx context.Context) error { return fmt.Errorf("b: %w", ctx.Err()) },
			func(ctx context.Context) error { return context.Cause(ctx) },
			func(ctx context.Context) error { return fmt.Errorf("d: %w", context.Cause(ctx)) },
		}
		for _, echo := range echoes {
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				return echo(ctx)
			})
		}
		n.Go(func(ctx context.Context) error { return errA })
		<-ctx.Done()
		return ctx.Err()
	})
	if err != errA {
		t.Fatalf("Run() = %v, want errA alone", err)
	}
}

// S16: a different error returned during cancellation cleanup is kept.
func TestCleanupErrorKept(t *testing.T) {
	errCleanup := errors.New("cleanup failed")
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			<-ctx.Done()
			return errCleanup
		})
		n.Go(func(ctx context.Context) error { return errA })
		return nil
	})
	if got := multierr.Errors(err); len(got) != 2 || got[0] != errA || got[1] != errCleanup {
		t.Fatalf("errors = %v, want [errA errCleanup]", got)
	}
}

// S17: with the parent cancelled and only context errors, Run returns the
// parent's error once, even if the nursery also cancelled itself: the first
// echo of it that says more than the bare context error.
func TestParentCancellationCollapses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			parent    func() (context.Context, func())
			selfToo   bool
			wantErr   error
			withCause bool
		}{
			{"cancel", func() (context.Context, func()) {
				ctx, stop := context.WithCancel(t.Context())
				return ctx, stop
			}, false, context.Canceled, false},
			{"cancel and n.Cancel", func() (context.Context, func()) {
				ctx, stop := context.WithCancel(t.Context())
				return ctx, stop
			}, true, context.Canceled, false},
			{"deadline", func() (context.Context, func()) {
				ctx, stop := context.WithTimeout(t.Context(), time.Second)
				return ctx, func() { <-ctx.Done(); stop() }
			}, false, context.DeadlineExceeded, false},
		} {
			parent, stop := tc.parent()
			err := nursery.Run(parent, func(ctx context.Context, n *nursery.Nursery) error {
				for range 5 {
					n.Go(func(ctx context.Context) error {
						<-ctx.Done()
						// Not before the parent is cancelled: a child that
						// returned after n.Cancel only would echo the
						// nursery's own cancellation, which is no error, and
						// Run would rightly return the parent's bare error
						// (under load, one run in about fifty did).
						<-parent.Done()
						return fmt.Errorf("child: %w", ctx.Err())
					})
				}
				if tc.selfToo {
					n.Cancel(errors.New("self"))
				}
				stop()
				<-ctx.Done()
				return ctx.Err()
			})
			// The first echo with words of its own comes back unchanged
			// (the body's bare ctx.Err() says less).
			if !errors.Is(err, tc.wantErr) || err.Error() != "child: "+tc.wantErr.Error() {
				t.Errorf("%s: Run() = %#v, want the children's echo of %v", tc.name, err, tc.wantErr)
			}
		}
	})
}

// S18: a real error takes priority over the parent's cancellation.
func TestRealErrorBeatsParentCancellation(t *testing.T) {
	ctx, stop := context.WithCancel(t.Context())
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		stop()
		<-ctx.Done()
		return errA // while unwinding
	})
	if err != errA {
		t.Fatalf("Run() = %v, want errA", err)
	}
}

// S19: the error of a nested nursery reaches the outer Run.
func TestNestedNurseryError(t *testing.T) {
	errV := errors.New("value error")
	err := nursery.Run(t.Context(), func(ctx context.Context, outer *nursery.Nursery) error {
		outer.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		outer.Go(func(ctx context.Context) error {
			return nursery.Run(ctx, func(ctx context.Context, inner *nursery.Nursery) error {
				inner.Go(func(ctx context.Context) error { return errV })
				inner.Go(func(ctx context.Context) error { return errA })
				return nil
			}, nursery.WithCollectAll())
		})
		return nil
	})
	if !errors.Is(err, errV) || !errors.Is(err, errA) {
		t.Fatalf("Run() = %v, want errV and errA reachable", err)
	}
}

// S20: when the outer nursery cancels an inner one, the inner nursery's
// cancellation error is an echo for the outer.
func TestInnerCancellationIsEcho(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errV := errors.New("value error")
		err := nursery.Run(t.Context(), func(ctx context.Context, outer *nursery.Nursery) error {
			outer.Go(func(ctx context.Context) error {
				time.Sleep(100 * time.Millisecond)
				return errV
			})
			outer.Go(func(ctx context.Context) error {
				return nursery.Run(ctx, func(ctx context.Context, inner *nursery.Nursery) error {
					inner.Go(func(ctx context.Context) error { return sleep(ctx, 10*time.Second) })
					return nil
				})
			})
			return nil
		})
		if err != errV {
			t.Fatalf("Run() = %v, want errV alone", err)
		}
	})
}

// S21: the cause seen by siblings is the first failure; later failures and
// a later Cancel do not overwrite it.
func TestCauseNotOverwritten(t *testing.T) {
	var mu sync.Mutex
	var causes []error
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 3 {
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				n.Cancel(errors.New("later"))
				mu.Lock()
				causes = append(causes, context.Cause(ctx))
				mu.Unlock()
				return errB // a second real failure
			})
		}
		n.Go(func(ctx context.Context) error { return errA })
		<-ctx.Done()
		if c := context.Cause(ctx); c != errA {
			return fmt.Errorf("body saw cause %v", c)
		}
		return nil
	})
	if got := multierr.Errors(err); len(got) != 4 || got[0] != errA {
		t.Fatalf("Run() = %v, want errA then three errB", err)
	}
	for _, c := range causes {
		if c != errA {
			t.Fatalf("a sibling saw cause %v, want errA", c)
		}
	}
}

// S22: a context error that the nursery did not cause (a child's own
// timeout) is a real error and cancels the siblings.
func TestForeignContextErrorIsReal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var siblingCause error
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				siblingCause = context.Cause(ctx)
				return ctx.Err()
			})
			n.Go(func(ctx context.Context) error {
				own, stop := context.WithTimeout(ctx, time.Second)
				defer stop()
				<-own.Done()
				return own.Err()
			})
			return nil
		})
		if err != context.DeadlineExceeded {
			t.Fatalf("Run() = %v, want the child's context.DeadlineExceeded", err)
		}
		if siblingCause != context.DeadlineExceeded {
			t.Fatalf("sibling's cause = %v, want context.DeadlineExceeded", siblingCause)
		}
	})
}
