// Package nursery is a stand-in with the signatures of the real one, for
// the analyzers' tests.
package nursery

import "context"

type Nursery struct{ ctx context.Context }

type Option interface{ apply() }

type TaskOption interface{ applyTask() }

func Run(ctx context.Context, body func(ctx context.Context, n *Nursery) error, opts ...Option) error {
	return body(ctx, &Nursery{ctx: ctx})
}

func (n *Nursery) Go(fn func(ctx context.Context) error, opts ...TaskOption) { _ = fn(n.ctx) }

func (n *Nursery) Cancel(cause error) {}

type Task[T any] struct{ v T }

func Spawn[T any](n *Nursery, fn func(ctx context.Context) (T, error), opts ...TaskOption) *Task[T] {
	v, _ := fn(n.ctx)
	return &Task[T]{v: v}
}

func (t *Task[T]) Wait(ctx context.Context) (T, error) { return t.v, nil }

func Start[T any](ctx context.Context, n *Nursery, fn func(ctx context.Context, started func(T)) error, opts ...TaskOption) (T, error) {
	var v T
	return v, fn(ctx, func(x T) { v = x })
}

func Gather[T any](ctx context.Context, fns ...func(ctx context.Context) (T, error)) ([]T, error) {
	return nil, nil
}
