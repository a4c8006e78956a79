package nursery

import (
	"context"

	"github.com/structured-go/structured/internal/echo"
)

// A Result is the outcome of one function: its value, or its error.
type Result[T any] struct {
	Value T
	Err   error
}

// AllSettled runs every function in fns concurrently, waits for all of them,
// and returns each one's value or error in the order of fns, like
// asyncio.gather(..., return_exceptions=True) and JavaScript's
// Promise.allSettled. A failure does not cancel the others.
//
// The error is nil unless ctx was cancelled and some function returned that
// cancellation; then it is the first such error, as Run reports it (each slot
// still holds what its function returned). If ctx is already done, no function is called, and every slot,
// and the error, is ctx.Err(). A panic in a function is re-raised, as by Run.
func AllSettled[T any](ctx context.Context, fns ...func(ctx context.Context) (T, error)) ([]Result[T], error) {
	checkArgs("AllSettled", ctx, fns)
	results := make([]Result[T], len(fns))
	if len(fns) == 0 {
		return results, nil
	}
	if err := ctx.Err(); err != nil {
		for i := range results {
			results[i].Err = err
		}
		return results, err
	}
	err := Run(ctx, func(ctx context.Context, n *Nursery) error {
		for i, fn := range fns {
			n.Go(func(ctx context.Context) error {
				v, err := fn(ctx)
				results[i] = Result[T]{Value: v, Err: err}
				return settledError(ctx, err)
			})
		}
		return nil
	})
	return results, err
}

// settledError is what a task of AllSettled or MapSettled returns to its
// nursery for a function's err, which it has stored: only the echo of a
// cancellation, which lets Run report the parent's (nothing else cancels
// such a nursery).
func settledError(ctx context.Context, err error) error {
	if echo.Of(ctx, err) {
		return err
	}
	return nil
}
