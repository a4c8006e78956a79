package nursery

import (
	"context"
)

// A Task is a handle on one task started by Spawn: its result can be awaited
// with Wait, and the task alone can be cancelled with Cancel.
type Task[T any] struct {
	done  chan struct{}
	stop  context.CancelCauseFunc
	value T
	err   error
}

// Spawn starts fn as a task of n, as Go does, and returns a handle on it, like
// asyncio.create_task inside a TaskGroup. The task belongs to the nursery: Run
// waits for it whether or not anyone calls Wait, and a real error it returns
// fails the nursery as well as being returned by Wait. (If the body returns
// that error again, or wraps it, Run still reports the failure once.)
//
// Spawn follows the rules of Go for limits, cancellation and a closed nursery
// (it panics with an error wrapping ErrClosed after Run has returned), and
// panics if n or fn is nil.
func Spawn[T any](n *Nursery, fn func(ctx context.Context) (T, error), opts ...TaskOption) *Task[T] {
	if n == nil {
		panic("nursery: Spawn called with a nil Nursery")
	}
	if fn == nil {
		panic("nursery: Spawn called with a nil function")
	}
	return spawn(n, fn, fn, opts)
}

// spawn is Spawn; user is the function as its caller gave it, which names
// the task in the tree, the trace and the observers' events.
func spawn[T any](n *Nursery, fn func(ctx context.Context) (T, error), user any, opts []TaskOption) *Task[T] {
	t := &Task[T]{done: make(chan struct{})}
	s := n.newSpec(nil, func(ctx context.Context) error {
		v, err := fn(ctx)
		t.value = v
		return err
	}, opts) // before enter: a bad option must not leave the task counted
	s.user = user
	n.enter("Spawn")
	s.ctx, s.stop = context.WithCancelCause(n.taskCtx())
	t.stop = s.stop
	s.hook = t
	n.launch(s)
	return t
}

// Spawn starts fn as a task of n and returns a handle on it, for a task that
// returns no value: nursery.Spawn for a func(ctx) error. The Task's value is
// struct{}.
func (n *Nursery) Spawn(fn func(ctx context.Context) error, opts ...TaskOption) *Task[struct{}] {
	if fn == nil {
		panic("nursery: Spawn called with a nil function")
	}
	return spawn(n, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) }, fn, opts)
}

func (t *Task[T]) take(error, *PanicError, error) bool { return false }

func (t *Task[T]) handed() bool { return true }

// settle runs once the nursery has recorded the outcome, so that a body
// that returns what Wait gave it finds the failure already known.
func (t *Task[T]) settle(err error) {
	t.err = err
	close(t.done)
}

// Wait waits for the task to return and returns its value and error. If ctx
// is done first, Wait returns ctx.Err() and the task goes on. If the task
// panicked, Wait returns its *PanicError (Run panics with it as well); if it
// called runtime.Goexit, an error wrapping ErrGoexit.
//
// The task's return, and the nursery's record of its error, happen before
// Wait returns them.
func (t *Task[T]) Wait(ctx context.Context) (T, error) {
	if ctx == nil {
		panic("nursery: Task.Wait called with a nil context")
	}
	select {
	case <-t.done:
		return t.value, t.err
	default:
	}
	select {
	case <-t.done:
		return t.value, t.err
	case <-ctx.Done():
		// A failure of the task cancels the nursery only after done is
		// closed: if that is what ended ctx, the result is there.
		select {
		case <-t.done:
			return t.value, t.err
		default:
		}
		var zero T
		return zero, ctx.Err()
	}
}

// Done returns a channel that is closed when the task has returned, for use
// in a select.
func (t *Task[T]) Done() <-chan struct{} {
	return t.done
}

// Cancel cancels the task's context with cause (context.Canceled if nil),
// and not its siblings'. The echo of this cancellation returned by the task
// is not a failure of the nursery; Wait still returns it. Cancel does not
// wait for the task to return, and does nothing once it has.
func (t *Task[T]) Cancel(cause error) {
	t.stop(cause)
}
