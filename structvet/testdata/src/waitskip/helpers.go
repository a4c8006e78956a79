package waitskip

import (
	"context"
	"groups"

	"golang.org/x/sync/errgroup"
)

// Reported: a helper of another package calls Go on the group; an early
// return of the loop leaves its goroutines running.
func uploadAll(ctx context.Context, items []int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, it := range items {
		if err := groups.Spread(ctx, g, it); err != nil { // want `SV001: groups.Spread\(g\) starts goroutines that outlive uploadAll: the return on line 17 is reached without g.Wait`
			return err
		}
	}
	return g.Wait()
}

// The same with a helper of this package.
func uploadAllHere(ctx context.Context, items []int, check func() error) error {
	var g errgroup.Group
	for _, it := range items {
		spreadHere(ctx, &g, it) // want `SV001: spreadHere\(g\) starts goroutines that outlive uploadAllHere: the return on line 30`
	}
	if err := check(); err != nil {
		return err
	}
	return g.Wait()
}

func spreadHere(ctx context.Context, g *errgroup.Group, item int) {
	g.Go(func() error { return work(ctx) })
}

// Not reported: waited for on every path, by a helper.
func uploadAllDrained(ctx context.Context, items []int) error {
	var g errgroup.Group
	for _, it := range items {
		_ = groups.Spread(ctx, &g, it)
	}
	return groups.Drain(&g)
}

// Not reported: a function that keeps the group is its new holder.
func uploadKept(ctx context.Context, k *groups.Keeper, items []int) {
	var g errgroup.Group
	for _, it := range items {
		_ = groups.Spread(ctx, &g, it)
	}
	k.Keep(&g)
}
