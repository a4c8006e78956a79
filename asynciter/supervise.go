package asynciter

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/structured-go/structured/nursery"
)

// A supervisor runs the goroutines behind one loop over a sequence: a
// nursery.Run on a goroutine of its own, which the loop joins before it
// finishes.
//
// The loop itself cannot be the body of that nursery: Run recovers a panic in
// its body and re-raises it wrapped in a *nursery.PanicError, and a panic in
// the loop body must reach the caller untouched, with its own stack. So the
// nursery runs beside the loop, and the loop's deferred join waits for it
// whatever way the loop ends.
type supervisor struct {
	stop   context.CancelCauseFunc
	exited chan struct{}

	// byLoop is set before the loop cancels the goroutines: a ctx that
	// ends while it is set ended because the loop stopped, not because the
	// caller's ctx did. (The cause cannot tell: ErrStopped may be the
	// cause of an enclosing sequence's stop as well.)
	byLoop atomic.Bool

	// Written by the supervising goroutine before it calls finished, read
	// by the loop after it has seen finished happen.
	err      error
	panicked *nursery.PanicError
}

// start runs body in a nursery derived from ctx, on a new goroutine. When
// Run has returned (or panicked), it records the outcome and calls finished,
// which must wake whoever waits for the end of the sequence.
func (s *supervisor) start(ctx context.Context, body func(ctx context.Context, n *nursery.Nursery) error, finished func()) {
	ctx, s.stop = context.WithCancelCause(ctx)
	s.exited = make(chan struct{})
	go s.run(ctx, body, finished)
}

func (s *supervisor) run(ctx context.Context, body func(ctx context.Context, n *nursery.Nursery) error, finished func()) {
	defer close(s.exited)
	normal := false
	defer func() {
		if !normal {
			if v := recover(); v != nil {
				s.panicked = asPanicError(v)
			} else {
				s.err = fmt.Errorf("asynciter: a producer called runtime.Goexit: %w", nursery.ErrGoexit)
			}
		}
		finished()
	}()
	s.err = nursery.Run(ctx, body)
	normal = true
}

// join cancels the goroutines, if they are still running, and waits until
// the supervising goroutine has finished.
func (s *supervisor) join() {
	s.byLoop.Store(true)
	s.stop(ErrStopped)
	<-s.exited
}

// rethrow re-raises, in the loop's goroutine, a panic of the goroutines.
// It must be called after join.
func (s *supervisor) rethrow() {
	if s.panicked != nil {
		panic(s.panicked)
	}
}

// asPanicError turns what a nursery panicked with into the *PanicError to
// re-raise. A panic that crossed several sequences (a Map over a Generate
// whose producer panicked) arrives wrapped once per nursery; the innermost
// holds the original value and stack, and it is the one re-raised.
func asPanicError(v any) *nursery.PanicError {
	p, ok := v.(*nursery.PanicError)
	if !ok {
		// Not from a nursery: it cannot happen, as Run wraps every panic.
		return &nursery.PanicError{Value: v}
	}
	for {
		inner, ok := p.Value.(*nursery.PanicError)
		if !ok {
			return p
		}
		inner.Suppressed = append(inner.Suppressed, p.Suppressed...)
		p = inner
	}
}
