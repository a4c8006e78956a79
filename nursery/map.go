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
// a panic in fn is re-raised once every call has returned. Fail fast means
// stop: once the nursery is cancelled (a failure, a panic, or ctx), no item
// that has not started yet is started, and fn is never called for it; Map
// returns as soon as the calls already running have returned. With
// WithCollectAll every item runs to the end, also once ctx is cancelled (fn
// then starts with a context that is done), and any failure still makes the
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
	job := &mapJob[T, R]{items: items, fn: fn, results: results}
	err := Run(ctx, func(ctx context.Context, n *Nursery) error {
		return n.feedIndexed(ctx, job, len(items))
	}, opts...)
	if err != nil {
		return nil, err
	}
	return results, nil
}

// ForEach calls fn for every item of items concurrently, as Map does, for
// work that returns no value. Like Map, it starts no item once the nursery
// is cancelled, unless WithCollectAll is given.
func ForEach[T any](ctx context.Context, items []T, fn func(ctx context.Context, item T) error, opts ...Option) error {
	checkMap("ForEach", ctx, fn == nil)
	if len(items) == 0 {
		return nil
	}
	job := &eachJob[T]{items: items, fn: fn}
	return Run(ctx, func(ctx context.Context, n *Nursery) error {
		return n.feedIndexed(ctx, job, len(items))
	}, opts...)
}

// MapSettled calls fn for every item of items concurrently, as Map does, but
// a failure cancels nothing: every call runs to its end, and each slot of the
// result holds that call's value or error, in the order of items (AllSettled
// over items, with options). Every item runs, also once ctx is cancelled (fn
// then starts with a context that is done). The error is nil unless ctx was cancelled and
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
