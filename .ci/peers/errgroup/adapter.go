// Package errgroup is x/sync/errgroup's API as a thin layer over
// nursery.Run, for running errgroup's own tests against the nursery: a
// Group is a nursery whose body waits for Wait. The nursery starts the
// tasks, waits for them, cancels on the first failure and reports it
// (WithFirstError, as errgroup returns only the first), ends the context
// when Wait returns (context.Cause is then context.Canceled, or the
// failure), and re-raises a task's panic in Wait's goroutine. The limit is
// a ratelimit.Semaphore held by each task, so that TryGo can try it.
//
// A Group runs once, as a nursery does: Go after Wait does not run its
// function (the nursery panics with nursery.ErrClosed, which the adapter
// turns into the error of the next Wait, so that one test's reuse does not
// end the others). nursery/PEERS.md lists the tests that reuse a Group.
package errgroup

import (
	"context"
	"errors"
	"sync"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
)

// A Group is a nursery, started by WithContext or by the first Go.
type Group struct {
	parent context.Context
	once   sync.Once
	ctx    context.Context
	n      *nursery.Nursery
	wait   chan struct{} // closed by Wait: the body returns
	done   chan struct{} // closed when Run has returned
	err    error
	panic  any

	waitOnce sync.Once
	sem      *ratelimit.Semaphore // the limit, if set
	closed   error                // the refusal of a Go after Wait
}

// WithContext returns a Group whose nursery runs under ctx, and the
// nursery's context.
func WithContext(ctx context.Context) (*Group, context.Context) {
	g := &Group{parent: ctx}
	g.start()
	return g, g.ctx
}

func (g *Group) start() {
	g.once.Do(func() {
		if g.parent == nil {
			g.parent = context.Background()
		}
		ready := make(chan struct{})
		g.wait, g.done = make(chan struct{}), make(chan struct{})
		go func() {
			defer close(g.done)
			defer func() { g.panic = recover() }()
			g.err = nursery.Run(g.parent, func(ctx context.Context, n *nursery.Nursery) error {
				g.ctx, g.n = ctx, n
				close(ready)
				<-g.wait
				return nil
			}, nursery.WithFirstError())
		}()
		<-ready
	})
}

// Wait waits for every task and returns the first error.
func (g *Group) Wait() error {
	g.start()
	g.waitOnce.Do(func() { close(g.wait) })
	<-g.done
	if g.panic != nil {
		panic(g.panic)
	}
	if g.closed != nil {
		return g.closed
	}
	return g.err
}

// Go runs f in a task of the nursery, once the limit lets it.
func (g *Group) Go(f func() error) {
	g.start()
	if g.sem != nil {
		_ = g.sem.Acquire(context.Background(), 1)
	}
	g.spawn(f)
}

// TryGo runs f in a task if the limit lets it now.
func (g *Group) TryGo(f func() error) bool {
	g.start()
	if g.sem != nil && !g.sem.TryAcquire(1) {
		return false
	}
	g.spawn(f)
	return true
}

func (g *Group) spawn(f func() error) {
	sem := g.sem
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, nursery.ErrClosed) {
				if sem != nil {
					sem.Release(1)
				}
				g.closed = err
				return
			}
			panic(r)
		}
	}()
	g.n.Go(func(context.Context) error {
		if sem != nil {
			defer sem.Release(1)
		}
		return f()
	})
}

// SetLimit limits the tasks running at once to n; a negative n means no
// limit.
func (g *Group) SetLimit(n int) {
	if n < 0 {
		g.sem = nil
		return
	}
	if g.sem != nil && g.sem.Available() != g.sem.Capacity() {
		panic("errgroup: modify limit while goroutines in the group are still active")
	}
	g.sem = ratelimit.NewSemaphore(int64(n))
}
