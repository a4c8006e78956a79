// Package groups holds helpers that other packages hand their groups and
// channels to: what they do is known to callers through facts.
package groups

import (
	"context"

	"golang.org/x/sync/errgroup"
)

func upload(ctx context.Context, item int) error { return nil }

// Spread starts an upload on the caller's group and returns at once.
func Spread(ctx context.Context, g *errgroup.Group, item int) error {
	if item < 0 {
		return context.Canceled
	}
	g.Go(func() error { return upload(ctx, item) })
	return nil
}

// Drain waits on the caller's group.
func Drain(g *errgroup.Group) error { return g.Wait() }

// Keep holds on to a group: whoever has the Keeper waits on it.
type Keeper struct{ groups []*errgroup.Group }

func (k *Keeper) Keep(g *errgroup.Group) { k.groups = append(k.groups, g) }

type Result struct{ Body string }

// Fetch starts the fetch in a goroutine of its own and returns the
// channel it answers on.
func Fetch(ctx context.Context, url string) <-chan Result {
	ch := make(chan Result)
	go func() { ch <- Result{Body: url} }()
	return ch
}

// Collect starts the fetch and waits for it itself: the channel it returns
// holds the answer already.
func Collect(ctx context.Context, url string) <-chan Result {
	ch := make(chan Result, 1)
	done := make(chan struct{})
	go func() { defer close(done); ch <- Result{Body: url} }()
	<-done
	return ch
}
