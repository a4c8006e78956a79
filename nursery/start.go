package nursery

import (
	"context"
	"fmt"
	"sync"

	"github.com/structured-go/structured/internal/noise"
)

// Start starts fn as a task of n and waits until fn signals that it is ready
// by calling started(v); then Start returns v and fn goes on running in n.
// This is trio's nursery.start: a server task can report the address it
// listens on before the caller goes on.
//
// Until fn calls started, fn runs under Start: its context is cancelled if
// ctx is (as well as if the nursery is), and Start does not return before fn
// does. If fn returns first, Start returns fn's error unchanged, and the
// nursery never sees it; if fn returned nil without calling started, Start
// returns ErrNotStarted; if fn panics, Start panics with the *PanicError in
// the caller's goroutine. If ctx is cancelled before started, Start waits for
// fn to return and then returns ctx's error (or fn's own, if fn returns a
// real error).
//
// Once fn calls started, fn belongs to n: ctx no longer cancels it, and its
// later error, panic or cancellation are the nursery's, as for Go. Calling
// started again panics with an error wrapping ErrStartedTwice.
//
// Start returns ErrClosed, without calling fn, if Run has already returned.
// It follows the limit of the nursery as Go does, and panics if ctx, n or fn
// is nil.
func Start[T any](ctx context.Context, n *Nursery, fn func(ctx context.Context, started func(T)) error, opts ...TaskOption) (T, error) {
	var zero T
	switch {
	case ctx == nil:
		panic("nursery: Start called with a nil context")
	case n == nil:
		panic("nursery: Start called with a nil Nursery")
	case fn == nil:
		panic("nursery: Start called with a nil function")
	}
	st := &starter[T]{ready: make(chan struct{}), startCtx: ctx}
	s := n.newSpec(nil, func(ctx context.Context) error {
		return fn(ctx, st.started)
	}, opts) // before tryEnter: a bad option must not leave the task counted
	if !n.tryEnter() {
		return zero, ErrClosed
	}
	taskCtx, stop := context.WithCancelCause(n.ctx)
	st.stop = stop
	st.linked.Add(1)
	st.unlink = context.AfterFunc(ctx, st.startCancelled)
	s.ctx, s.stop, s.hook = taskCtx, stop, st
	n.launch(s)

	<-st.ready
	if st.unlink() {
		st.linked.Done() // it will never run
	}
	st.linked.Wait() // it may be running: it must not outlive Start
	if st.moved {
		return st.value, nil
	}
	if st.panic != nil {
		panic(st.panic)
	}
	switch err := st.err; {
	case err == nil && st.calls > 0:
		return st.value, nil // the work ended before it could be handed over
	case err == nil && ctx.Err() != nil:
		return zero, ctx.Err()
	case err == nil:
		return zero, ErrNotStarted
	case ctx.Err() != nil && noise.Echo(taskCtx, err):
		return zero, ctx.Err()
	default:
		return zero, err
	}
}

// starter hands a task from Start to the nursery.
type starter[T any] struct {
	startCtx context.Context
	stop     context.CancelCauseFunc
	unlink   func() bool
	linked   sync.WaitGroup // the AfterFunc on startCtx, until it ends
	ready    chan struct{}  // closed when Start may return

	mu    sync.Mutex
	calls int
	moved bool // started was called in time: the task is the nursery's now
	value T
	err   error
	panic *PanicError
}

// startCancelled runs when Start's ctx is done; before started, that cancels
// the task.
func (st *starter[T]) startCancelled() {
	defer st.linked.Done()
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.moved {
		st.stop(context.Cause(st.startCtx))
	}
}

func (st *starter[T]) started(v T) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.calls++
	if st.calls > 1 {
		panic(ErrStartedTwice)
	}
	st.value = v
	if err := st.startCtx.Err(); err != nil {
		// Start was cancelled: the task stays under Start, which waits for
		// it, and is cancelled even if the AfterFunc has not run yet.
		st.stop(context.Cause(st.startCtx))
		return
	}
	st.moved = true
	close(st.ready)
}

func (st *starter[T]) finish(err error, p *PanicError, goexit bool) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.moved {
		return false
	}
	switch {
	case p != nil:
		st.panic = p
	case goexit:
		st.err = fmt.Errorf("a task being started: %w", ErrGoexit)
	default:
		st.err = err
	}
	close(st.ready)
	return true
}
