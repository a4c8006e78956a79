package taskctx

import (
	"context"
	"time"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/timeout"
)

func fetch(ctx context.Context, u string) error { return nil }

func unnamed(ctx context.Context, urls []string) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for _, u := range urls {
			n.Go(func(context.Context) error { // want `^SV006: the function passed to Go ignores the context it is given and calls fetch with ctx: cancelling the task does not reach that call; use the task's ctx$`
				return fetch(ctx, u)
			})
		}
		return nil
	})
}

func namedUnused(ctx context.Context, n *nursery.Nursery) *nursery.Task[int] {
	return nursery.Spawn(n, func(tctx context.Context) (int, error) { // want `SV006: the function passed to Spawn ignores its ctx parameter and calls fetch with ctx`
		return 1, fetch(ctx, "x")
	})
}

func blank(ctx context.Context) error {
	return timeout.FailAfter(ctx, time.Second, func(_ context.Context) error { // want `SV006: the function passed to FailAfter ignores the context it is given`
		return fetch(ctx, "x")
	})
}

func start(ctx context.Context, n *nursery.Nursery) (int, error) {
	return nursery.Start(ctx, n, func(_ context.Context, started func(int)) error { // want `SV006: the function passed to Start`
		started(1)
		return fetch(ctx, "x")
	})
}

func background(n *nursery.Nursery) {
	n.Go(func(context.Context) error { // want `SV006: the function passed to Go ignores the context it is given and calls fetch with context.Background\(\)`
		return fetch(context.Background(), "")
	})
}

// Not reported.
func uses(n *nursery.Nursery) {
	n.Go(func(ctx context.Context) error { return fetch(ctx, "") })
}

func noContextCalls(n *nursery.Nursery) {
	n.Go(func(context.Context) error { return nil })
}

func innerTask(ctx context.Context) error {
	return nursery.Run(ctx, func(_ context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { return fetch(ctx, "") })
		return nil
	})
}

func other(fn func(context.Context) error) {}

func notToolkit(ctx context.Context) {
	other(func(_ context.Context) error { return fetch(ctx, "") })
}
