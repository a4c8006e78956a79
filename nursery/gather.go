package nursery

import (
	"context"
	"fmt"

	"github.com/structured-go/structured/internal/echo"
)

// A Result is the outcome of one function: its value, or its error.
type Result[T any] struct {
	Value T
	Err   error
}

// Gather runs every function in fns concurrently and returns their values in
// the order of fns, not the order in which they finished: asyncio.gather,
// with the failure handling of a TaskGroup. The first real error cancels the
// others; Gather waits for all of them and returns a nil slice and the
// error(s), as Run does. A panic in a function is re-raised, as by Run.
//
// With no functions, Gather returns an empty slice and nil. If ctx is already
// done, Gather returns ctx.Err() without calling any function.
func Gather[T any](ctx context.Context, fns ...func(ctx context.Context) (T, error)) ([]T, error) {
	checkArgs("Gather", ctx, fns)
	values := make([]T, len(fns))
	if len(fns) == 0 {
		return values, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	err := Run(ctx, func(ctx context.Context, n *Nursery) error {
		for i, fn := range fns {
			n.Go(func(ctx context.Context) error {
				v, err := fn(ctx)
				if err != nil {
					return err
				}
				values[i] = v
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return values, nil
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
				if echo.Of(ctx, err) {
					// Lets Run report the parent's cancellation; the echo
					// of anything else cannot happen, as nothing else
					// cancels this nursery.
					return err
				}
				return nil
			})
		}
		return nil
	})
	return results, err
}

func checkArgs[T any](name string, ctx context.Context, fns []func(context.Context) (T, error)) {
	if ctx == nil {
		panic("nursery: " + name + " called with a nil context")
	}
	for i, fn := range fns {
		if fn == nil {
			panic(fmt.Sprintf("nursery: %s called with a nil function at index %d", name, i))
		}
	}
}
