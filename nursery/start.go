package nursery

import (
	"context"
	"fmt"
	"sync"

	"github.com/structured-go/structured/internal/echo"
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
// the caller's goroutine.
//
// If ctx is cancelled before started, fn's context is cancelled too, and
// Start waits for fn to return. Then Start returns ctx.Err() if fn returned
// the echo of that cancellation (or nil without calling started), fn's own
// error if it returned a real one, and (v, nil) if fn called started(v) and
// returned nil: the work is done, and nothing is left to hand over (trio's
// rule: the work ended before it could be moved).
//
// Once fn calls started, fn belongs to n: ctx no longer cancels it, and its
// later error, panic or cancellation are the nursery's, as for Go. Calling
// started again panics with an error wrapping ErrStartedTwice; calling it
// after fn has returned (from a goroutine fn handed it to) panics with a
// message saying so.
//
// Start returns ErrClosed, without calling fn, if Run has already returned.
// Under WithLimit, Start waits for a slot like Go, but also gives up when ctx
// is done, returning ctx.Err() without calling fn. Start panics if ctx, n or
// fn is nil.
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
	s.user = fn // names the task, not this wrapper
	if !n.tryEnter("Start") {
		return zero, ErrClosed
	}
	if n.cfg.limited() {
		normal := false
		defer func() {
			if !normal {
				n.done() // the shared Semaphore's Acquire panicked: the panic goes on in the caller
			}
		}()
		err := n.acquireFor(ctx)
		normal = true
		if err != nil {
			n.done()
			return zero, err
		}
	}
	taskCtx, stop := context.WithCancelCause(n.taskCtx())
	st.taskCtx, st.stop = taskCtx, stop
	st.linked.Add(1)
	st.unlink = context.AfterFunc(ctx, st.startCancelled)
	s.ctx, s.stop, s.hook = taskCtx, stop, st
	if tr := n.trackerOf(); tr != nil {
		s.rec = tr.open(s.name, fn, s.untilCancelled)
	}
	go n.runSpec(s) // with the slot taken above

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
	case st.echo:
		return zero, ctx.Err()
	default:
		return zero, err
	}
}

// starter hands a task from Start to the nursery.
type starter[T any] struct {
	startCtx context.Context
	taskCtx  context.Context
	stop     context.CancelCauseFunc
	unlink   func() bool
	linked   sync.WaitGroup // the AfterFunc on startCtx, until it ends
	ready    chan struct{}  // closed when Start may return

	mu       sync.Mutex
	calls    int
	moved    bool // started was called in time: the task is the nursery's now
	returned bool // fn has returned (or panicked) under Start
	value    T
	err      error
	echo     bool // err is the echo of startCtx's cancellation
	panic    *PanicError
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
	switch {
	case st.calls > 1:
		panic(fmt.Errorf("nursery: the started function of Start called again: %w", ErrStartedTwice))
	case st.returned:
		panic("nursery: the started function of Start called after the function passed to Start returned")
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

func (st *starter[T]) take(err error, p *PanicError, goexit error) bool {
	// Decide about the echo before the lock: it calls err's methods.
	isEcho := err != nil && st.startCtx.Err() != nil &&
		(echo.Of(st.taskCtx, err) || echo.Match(err, st.startCtx.Err(), context.Cause(st.startCtx)))
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.moved {
		return false
	}
	st.returned = true
	switch {
	case p != nil:
		st.panic = p
	case goexit != nil:
		st.err = fmt.Errorf("a task being started: %w", ErrGoexit)
	default:
		st.err, st.echo = err, isEcho
	}
	close(st.ready)
	return true
}

func (st *starter[T]) settle(error) {}

func (st *starter[T]) handed() bool { return false }
