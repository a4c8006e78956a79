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

	"github.com/structured-go/structured/nursery"
)

// Spawn + Wait: the value comes back; an error comes back from Wait and
// fails the nursery too, as in an asyncio.TaskGroup.
func TestSpawnWait(t *testing.T) {
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		ok := nursery.Spawn(n, func(ctx context.Context) (string, error) { return "value", nil })
		if v, err := ok.Wait(ctx); v != "value" || err != nil {
			return fmt.Errorf("Wait() = %q, %v; want value, nil", v, err)
		}
		bad := nursery.Spawn(n, func(ctx context.Context) (int, error) { return 7, errA })
		if v, err := bad.Wait(ctx); v != 7 || err != errA {
			return fmt.Errorf("Wait() = %v, %v; want 7, errA", v, err)
		}
		return nil
	})
	if err != errA {
		t.Fatalf("Run() = %v, want errA", err)
	}
}

// Task.Cancel cancels that task alone, and its echo is not a failure.
func TestSpawnCancel(t *testing.T) {
	errWhy := errors.New("not needed")
	var siblingErr error
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		sibling := nursery.Spawn(n, func(ctx context.Context) (int, error) {
			return 1, ctx.Err()
		})
		task := nursery.Spawn(n, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, context.Cause(ctx)
		})
		task.Cancel(errWhy)
		if _, err := task.Wait(ctx); err != errWhy {
			return fmt.Errorf("Wait() after Cancel = %v, want the cause", err)
		}
		_, siblingErr = sibling.Wait(ctx)
		task.Cancel(nil) // after it returned: no effect
		return nil
	})
	if err != nil || siblingErr != nil {
		t.Fatalf("Run() = %v, sibling %v; want nil, nil", err, siblingErr)
	}
}

// Wait gives up when its ctx is done; the task goes on and Run still waits.
func TestSpawnWaitContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			task := nursery.Spawn(n, func(ctx context.Context) (int, error) {
				time.Sleep(time.Hour)
				return 1, nil
			})
			short, stop := context.WithTimeout(ctx, time.Second)
			defer stop()
			if _, err := task.Wait(short); err != context.DeadlineExceeded {
				return fmt.Errorf("Wait(short ctx) = %v, want DeadlineExceeded", err)
			}
			select {
			case <-task.Done():
				return errors.New("Done closed early")
			default:
			}
			return nil
		})
		if err != nil || time.Since(t0) != time.Hour {
			t.Fatalf("Run() = %v after %v; want nil after 1h", err, time.Since(t0))
		}
	})
}

// A spawned task's panic reaches Wait as a *PanicError, and Run re-panics.
func TestSpawnPanic(t *testing.T) {
	var waitErr error
	p := runPanics(t, t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		task := nursery.Spawn(n, func(ctx context.Context) (int, error) { panic("spawned") })
		_, waitErr = task.Wait(ctx)
		return nil
	})
	// Run panics with a copy carrying Suppressed, so that the value Wait
	// handed out never changes; both describe the same panic.
	var pe *nursery.PanicError
	if !errors.As(waitErr, &pe) || pe.Value != p.Value || &pe.Stack[0] != &p.Stack[0] {
		t.Fatalf("Wait() = %v, want the panic Run panicked with", waitErr)
	}
}

// n.Spawn is Spawn for a task that returns only an error.
func TestSpawnMethodForErrorOnlyTasks(t *testing.T) {
	var waited error
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		flush := n.Spawn(func(ctx context.Context) error { return errA })
		_, waited = flush.Wait(ctx)
		return nil
	})
	if waited != errA || err != errA {
		t.Fatalf("Wait() = %v, Run() = %v; want errA both", waited, err)
	}
	if r := recoverPanic(func() {
		_ = nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error { n.Spawn(nil); return nil })
	}); !strings.Contains(fmt.Sprint(r), "nil function") {
		t.Fatalf("n.Spawn(nil) panicked with %v", r)
	}
}
