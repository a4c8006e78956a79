package nursery

import "context"

// Map calls fn for every item of items concurrently, each in a task of a
// nursery run with opts, and returns the results in the order of items, not
// the order in which they finished. It is the errgroup loop with SetLimit,
// typed:
//
//	pages, err := nursery.Map(ctx, urls, fetch, nursery.WithLimit(4)) // 4 at a time, in order
//
// Map is Run: the first real error cancels the other calls, Map waits for
// all of them, and returns a nil slice and the error(s) as Run reports them;
// a panic in fn is re-raised once every call has returned. With
// WithCollectAll every item runs to the end, and any failure still makes the
// slice nil: use MapSettled for every outcome.
//
// Under WithLimit(k), Map starts a task only when fewer than k run, so that
// a million items cost k goroutines at a time, not a million. With no items,
// Map returns an empty slice and nil. Map panics if ctx or fn is nil.
func Map[T, R any](ctx context.Context, items []T, fn func(ctx context.Context, item T) (R, error), opts ...Option) ([]R, error) {
	checkMap("Map", ctx, fn == nil)
	results := make([]R, len(items))
	if len(items) == 0 {
		return results, nil
	}
	err := Run(ctx, func(ctx context.Context, n *Nursery) error {
		for i, item := range items {
			n.Go(func(ctx context.Context) error {
				v, err := fn(ctx, item)
				if err != nil {
					return err
				}
				results[i] = v
				return nil
			})
		}
		return nil
	}, opts...)
	if err != nil {
		return nil, err
	}
	return results, nil
}

// ForEach calls fn for every item of items concurrently, as Map does, for
// work that returns no value.
func ForEach[T any](ctx context.Context, items []T, fn func(ctx context.Context, item T) error, opts ...Option) error {
	checkMap("ForEach", ctx, fn == nil)
	if len(items) == 0 {
		return nil
	}
	return Run(ctx, func(ctx context.Context, n *Nursery) error {
		for _, item := range items {
			n.Go(func(ctx context.Context) error { return fn(ctx, item) })
		}
		return nil
	}, opts...)
}

// MapSettled calls fn for every item of items concurrently, as Map does, but
// a failure cancels nothing: every call runs to its end, and each slot of the
// result holds that call's value or error, in the order of items (AllSettled
// over items, with options). The error is nil unless ctx was cancelled and
// some call returned that cancellation; then it is the first such error, as
// Run reports it.
func MapSettled[T, R any](ctx context.Context, items []T, fn func(ctx context.Context, item T) (R, error), opts ...Option) ([]Result[R], error) {
	checkMap("MapSettled", ctx, fn == nil)
	results := make([]Result[R], len(items))
	if len(items) == 0 {
		return results, nil
	}
	err := Run(ctx, func(ctx context.Context, n *Nursery) error {
		for i, item := range items {
			n.Go(func(ctx context.Context) error {
				v, err := fn(ctx, item)
				results[i] = Result[R]{Value: v, Err: err}
				return settledError(ctx, err)
			})
		}
		return nil
	}, opts...)
	return results, err
}

func checkMap(name string, ctx context.Context, nilFn bool) {
	if ctx == nil {
		panic("nursery: " + name + " called with a nil context")
	}
	if nilFn {
		panic("nursery: " + name + " called with a nil function")
	}
}
