//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/nursery"
)

var errKey = errors.New("key error")

// S27: Start returns once the task calls started(v), with v; the task then
// keeps running in the nursery, which waits for it.
func TestStartWaitsForStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		var startedAt time.Duration
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			v, err := nursery.Start(ctx, n, func(ctx context.Context, started func(int)) error {
				time.Sleep(time.Second)
				started(1)
				time.Sleep(time.Second)
				return nil
			})
			startedAt = time.Since(t0)
			if v != 1 || err != nil {
				return fmt.Errorf("Start() = %v, %v; want 1, nil", v, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if startedAt != time.Second || time.Since(t0) != 2*time.Second {
			t.Fatalf("Start returned at %v and Run at %v; want 1s and 2s", startedAt, time.Since(t0))
		}
	})
}

// S28: an error before started comes out of Start unchanged and does not
// fail the nursery.
func TestErrorBeforeStarted(t *testing.T) {
	synctest.Test(t, testS28)
}

func testS28(t *testing.T) {
	var siblingCancelled atomic.Bool
	wrapped := fmt.Errorf("listen: %w", errKey)
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			siblingCancelled.Store(sleep(ctx, 10*time.Millisecond) != nil)
			return nil
		})
		_, err := nursery.Start(ctx, n, func(ctx context.Context, started func(string)) error {
			return wrapped
		})
		if err != wrapped {
			return fmt.Errorf("Start() error = %v, want the task's error itself", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	if siblingCancelled.Load() {
		t.Fatal("the sibling was cancelled by an error that belonged to Start")
	}
}

// S29: returning nil without calling started is ErrNotStarted.
func TestReturnWithoutStarted(t *testing.T) {
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		v, err := nursery.Start(ctx, n, func(ctx context.Context, started func(int)) error { return nil })
		if v != 0 || !errors.Is(err, nursery.ErrNotStarted) {
			return fmt.Errorf("Start() = %v, %v; want 0, ErrNotStarted", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// S30: a second call to started panics with ErrStartedTwice in the task;
// Start keeps the first value.
func TestStartedTwicePanics(t *testing.T) {
	var second any
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		v, err := nursery.Start(ctx, n, func(ctx context.Context, started func(string)) error {
			started("first")
			second = recoverPanic(func() { started("second") })
			return nil
		})
		if v != "first" || err != nil {
			return fmt.Errorf("Start() = %q, %v; want first, nil", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := second.(error); !ok || !errors.Is(e, nursery.ErrStartedTwice) {
		t.Fatalf("second started() panicked with %v, want ErrStartedTwice", second)
	}
}

// S30: unrecovered, the ErrStartedTwice panic propagates as any task panic.
func TestStartedTwiceUnrecovered(t *testing.T) {
	p := runPanics(t, t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		_, err := nursery.Start(ctx, n, func(ctx context.Context, started func(int)) error {
			started(1)
			started(2)
			return nil
		})
		return err
	})
	if !errors.Is(p, nursery.ErrStartedTwice) {
		t.Fatalf("Run panicked with %v, want ErrStartedTwice", p)
	}
}

// S31: errors after started belong to the nursery.
func TestErrorAfterStarted(t *testing.T) {
	errFoo := errors.New("foo")
	var siblingCancelled atomic.Bool
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			<-ctx.Done()
			siblingCancelled.Store(true)
			return ctx.Err()
		})
		v, err := nursery.Start(ctx, n, func(ctx context.Context, started func(int)) error {
			started(2)
			return errFoo
		})
		if v != 2 || err != nil {
			return fmt.Errorf("Start() = %v, %v; want 2, nil", v, err)
		}
		return nil
	})
	if err != errFoo {
		t.Fatalf("Run() = %v, want errFoo", err)
	}
	if !siblingCancelled.Load() {
		t.Fatal("the sibling was not cancelled")
	}
}

// S32: before started, Start's ctx cancels the task (and Start waits for
// it); after started it does not; it never cancels the nursery.
func TestStartContextBeforeStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		{
			var taskReturned atomic.Bool
			err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
				startCtx, stop := context.WithCancel(ctx)
				go func() { time.Sleep(time.Second); stop() }()
				_, err := nursery.Start(startCtx, n, func(ctx context.Context, started func(int)) error {
					<-ctx.Done()
					taskReturned.Store(true)
					return ctx.Err()
				})
				if err != context.Canceled || !taskReturned.Load() {
					return fmt.Errorf("Start() error = %v, task returned %v; want Canceled, true", err, taskReturned.Load())
				}
				if ctx.Err() != nil {
					return errors.New("the nursery was cancelled by Start's ctx")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

// S32
func TestStartContextAfterStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		{
			var taskErr atomic.Value
			err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
				startCtx, stop := context.WithCancel(ctx)
				_, err := nursery.Start(startCtx, n, func(ctx context.Context, started func(int)) error {
					started(0)
					time.Sleep(time.Second) // Start's ctx is cancelled meanwhile
					taskErr.Store(fmt.Sprint(ctx.Err()))
					return nil
				})
				stop()
				return err
			})
			if err != nil || taskErr.Load() != "<nil>" {
				t.Fatalf("Run() = %v, task saw ctx.Err() %v; want nil, <nil>", err, taskErr.Load())
			}
		}
	})
}

// S33: with Start's ctx already cancelled, started does not hand the task
// over: the task stays under Start.
func TestStartedUnderCancelledStart(t *testing.T) {
	cancelled, stop := context.WithCancel(t.Context())
	stop()
	tests := []struct {
		name    string
		fn      func(ctx context.Context, started func(string)) error
		wantV   string
		wantErr error
	}{
		{"waits on ctx", func(ctx context.Context, started func(string)) error {
			started("hi")
			<-ctx.Done()
			return ctx.Err()
		}, "", context.Canceled},
		{"completes without looking", func(ctx context.Context, started func(string)) error {
			started("hi")
			return nil
		}, "hi", nil},
		{"fails after started", func(ctx context.Context, started func(string)) error {
			started("hi")
			return errKey
		}, "", errKey},
	}
	for _, tc := range tests {
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			v, err := nursery.Start(cancelled, n, tc.fn)
			if v != tc.wantV || err != tc.wantErr {
				return fmt.Errorf("Start() = %q, %v; want %q, %v", v, err, tc.wantV, tc.wantErr)
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// S34: Start does not return while the task still runs under it.
func TestStartWaitsForCancelledTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			startCtx, stop := context.WithCancel(ctx)
			stop()
			_, err := nursery.Start(startCtx, n, func(ctx context.Context, started func(int)) error {
				<-ctx.Done()
				time.Sleep(3 * time.Second) // slow to honour cancellation
				return ctx.Err()
			})
			if d := time.Since(t0); d != 3*time.Second || err != context.Canceled {
				return fmt.Errorf("Start returned %v after %v, want Canceled after 3s", err, d)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// S35: Start on a closed nursery returns ErrClosed and never calls fn.
func TestStartOnClosedNursery(t *testing.T) {
	var kept *nursery.Nursery
	_ = nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error { kept = n; return nil })
	var called atomic.Bool
	_, err := nursery.Start(t.Context(), kept, func(ctx context.Context, started func(int)) error {
		called.Store(true)
		return nil
	})
	if !errors.Is(err, nursery.ErrClosed) || called.Load() {
		t.Fatalf("Start on a closed nursery = %v (fn called: %v), want ErrClosed and no call", err, called.Load())
	}
}

// S36: a pending Start keeps the target nursery open after its body has
// returned; if the task then fails before started, the error goes to Start.
func TestPendingStartKeepsNurseryOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, failLate := range []bool{false, true} {
			t0 := time.Now()
			var n2End time.Duration
			var startErrs atomic.Int64
			err := nursery.Run(t.Context(), func(ctx context.Context, n1 *nursery.Nursery) error {
				err := nursery.Run(ctx, func(ctx context.Context, n2 *nursery.Nursery) error {
					for i := range 2 {
						n1.Go(func(ctx context.Context) error {
							time.Sleep(time.Duration(i) * time.Second)
							_, err := nursery.Start(ctx, n2, func(ctx context.Context, started func(int)) error {
								time.Sleep(2 * time.Second)
								if failLate && i == 1 {
									time.Sleep(4 * time.Second)
									return errKey
								}
								started(i)
								time.Sleep(3 * time.Second)
								return nil
							})
							if err != nil {
								startErrs.Add(1)
							}
							return nil
						})
					}
					time.Sleep(time.Second)
					return nil
				})
				n2End = time.Since(t0)
				return err
			})
			if err != nil {
				t.Fatalf("failLate=%v: Run() = %v, want nil", failLate, err)
			}
			want, wantErrs := 6*time.Second, int64(0)
			if failLate {
				want, wantErrs = 7*time.Second, 1
			}
			if n2End != want || startErrs.Load() != wantErrs {
				t.Fatalf("failLate=%v: n2 ended at %v with %d Start errors; want %v and %d",
					failLate, n2End, startErrs.Load(), want, wantErrs)
			}
		}
	})
}

// S37: started into a nursery that is already cancelled hands over a task
// whose ctx is done; its ctx error is an echo.
func TestStartedIntoCancelledNursery(t *testing.T) {
	var doneAfterStarted atomic.Bool
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		_, err := nursery.Start(t.Context(), n, func(ctx context.Context, started func(int)) error {
			n.Cancel(nil)
			started(1)
			<-ctx.Done()
			doneAfterStarted.Store(true)
			return ctx.Err()
		})
		return err
	})
	if err != nil || !doneAfterStarted.Load() {
		t.Fatalf("Run() = %v, task cancelled: %v; want nil, true", err, doneAfterStarted.Load())
	}
}

// S39: Start while the nursery is cancelling runs the task with a done ctx.
func TestStartWhileCancelling(t *testing.T) {
	var invoked, finished atomic.Bool
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Cancel(nil)
		_, err := nursery.Start(ctx, n, func(ctx context.Context, started func(int)) error {
			invoked.Store(true)
			if err := sleep(ctx, time.Hour); err != nil {
				return err
			}
			finished.Store(true)
			started(1)
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			return fmt.Errorf("Start() error = %v, want a context error", err)
		}
		return err
	})
	if err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	if !invoked.Load() || finished.Load() {
		t.Fatalf("invoked=%v finished=%v, want true, false", invoked.Load(), finished.Load())
	}
}

// A panic before started comes out of Start, in the caller's goroutine.
func TestStartPanicBeforeStarted(t *testing.T) {
	var fromStart any
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		fromStart = recoverPanic(func() {
			_, _ = nursery.Start(ctx, n, func(ctx context.Context, started func(int)) error {
				panic("early")
			})
		})
		return nil
	})
	if err != nil {
		t.Fatalf("Run() = %v, want nil (the panic went to Start's caller)", err)
	}
	if p, ok := fromStart.(*nursery.PanicError); !ok || p.Value != "early" {
		t.Fatalf("Start panicked with %#v, want *PanicError{early}", fromStart)
	}
}

// Start waiting for a slot under the limit gives up when its own ctx ends,
// without calling fn.
func TestStartSlotWaitHonoursItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { time.Sleep(time.Hour); return nil }) // the only slot
			short, stop := context.WithTimeout(ctx, time.Second)
			defer stop()
			called := false
			_, err := nursery.Start(short, n, func(ctx context.Context, started func(int)) error {
				called = true
				started(1)
				return nil
			})
			if err != context.DeadlineExceeded || called || time.Since(t0) != time.Second {
				return fmt.Errorf("Start() = %v after %v (fn called: %v), want DeadlineExceeded after 1s without a call",
					err, time.Since(t0), called)
			}
			return nil
		}, nursery.WithLimit(1))
		if err != nil {
			t.Fatal(err)
		}
	})
}

// started called after fn returned, from wherever fn handed it, panics with
// a message that says so, instead of a runtime error deep inside.
func TestStartedAfterReturnPanicsClearly(t *testing.T) {
	var late func(int)
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		_, err := nursery.Start(ctx, n, func(ctx context.Context, started func(int)) error {
			late = started // handed on, and fn returns without calling it
			return nil
		})
		if !errors.Is(err, nursery.ErrNotStarted) {
			return fmt.Errorf("Start() = %v, want ErrNotStarted", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := recoverPanic(func() { late(1) })
	if msg, _ := r.(string); !strings.Contains(msg, "after the function passed to Start returned") {
		t.Fatalf("late started panicked with %#v, want a message saying it came after fn returned", r)
	}
}
