package nursery

import (
	"context"
	"fmt"
)

// Gather runs every function in fns concurrently and returns their values in
// the order of fns, not the order in which they finished: asyncio.gather,
// with the failure handling of a TaskGroup. The first real error cancels the
// others, and the functions not started by then are never called; Gather
// waits for those running and returns a nil slice and the error(s), as Run
// does. A panic in a function is re-raised, as by Run.
//
// With no functions, Gather returns an empty slice and nil. If ctx is already
// done, Gather returns ctx.Err() without calling any function. For a limit
// (at most k at once) or other options of the nursery, use Map over a slice.
func Gather[T any](ctx context.Context, fns ...func(ctx context.Context) (T, error)) ([]T, error) {
	checkArgs("Gather", ctx, fns)
	values := make([]T, len(fns))
	if len(fns) == 0 {
		return values, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	job := &gatherJob[T]{fns: fns, values: values}
	err := Run(ctx, func(ctx context.Context, n *Nursery) error {
		return n.feedIndexed(ctx, job, len(fns))
	})
	if err != nil {
		return nil, err
	}
	return values, nil
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
