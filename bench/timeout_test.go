package bench

// The benchmarks of the timeout and cancel packages, against the same thing
// written by hand with the context package, interleaved as the nursery
// benchmarks are (see nursery_test.go).
//
//	hand         context.WithTimeout (or WithDeadline), the work, and the
//	             check a careful caller writes to tell its own timeout from
//	             the parent's cancellation: the work's error is a context
//	             error, the derived context is done, the parent is not
//	moveonafter  timeout.MoveOnAfter
//	failafter    timeout.FailAfter
//	hand         (for the scope) context.WithCancelCause(parent), the work,
//	             an errors.Is check for the echo of the cancellation, and
//	             the cancel call
//	scope        cancel.New().Run(parent, work)
//	hand-done,   the same, with work that also asks for ctx.Done (a select
//	scope-done   with a default), as code that waits on ctx does: a scope
//	             watches its parent only from then on
//
// The work returns ctx.Err() at once: the common path, where the work is
// done well before the deadline. Each timing covers 64 operations.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/structured-go/structured/cancel"
	"github.com/structured-go/structured/timeout"
)

// work is the work under a timeout or a scope: it looks at ctx and returns.
func work(ctx context.Context) error { return ctx.Err() }

// waiting is work that also asks for ctx.Done, as code that selects on it
// does: for a scope, the watch on its parent is set up then.
func waiting(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	default:
		return nil
	}
}

var sink error

func handTimeout(parent context.Context) (timedOut bool, err error) {
	ctx, stop := context.WithTimeout(parent, time.Hour)
	defer stop()
	err = work(ctx)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil && parent.Err() == nil {
		return true, nil
	}
	return false, err
}

func handScope(parent context.Context, work func(context.Context) error) error {
	ctx, stop := context.WithCancelCause(parent)
	defer stop(nil)
	err := work(ctx)
	if err != nil && errors.Is(err, context.Canceled) && ctx.Err() != nil && parent.Err() == nil {
		return nil
	}
	return err
}

// The contenders of each case, as ops.
func timeoutOps(parent context.Context) []op {
	return []op{
		{"hand", func() error { _, err := handTimeout(parent); return err }},
		{"moveonafter", func() error { _, err := timeout.MoveOnAfter(parent, time.Hour, work); return err }},
		{"failafter", func() error { return timeout.FailAfter(parent, time.Hour, work) }},
	}
}

func scopeOps(parent context.Context) []op {
	return []op{
		{"hand", func() error { return handScope(parent, work) }},
		{"scope", func() error { return cancel.New().Run(parent, work) }},
		{"hand-done", func() error { return handScope(parent, waiting) }},
		{"scope-done", func() error { return cancel.New().Run(parent, waiting) }},
	}
}

// parents are the two kinds of parent context: one that can never be
// cancelled, and a cancellable one, as inside a request or a nursery.
func parents(b *testing.B) []namedParent {
	ctx, stop := context.WithCancel(context.Background())
	b.Cleanup(stop)
	return []namedParent{{"parent=background", context.Background()}, {"parent=cancellable", ctx}}
}

type namedParent struct {
	name string
	ctx  context.Context
}

// BenchmarkTimeout: MoveOnAfter and FailAfter against context.WithTimeout by
// hand.
func BenchmarkTimeout(b *testing.B) {
	for _, p := range parents(b) {
		b.Run(p.name, func(b *testing.B) {
			interleave(b, 64, timeSpawn(b, timeoutOps(p.ctx)), [][2]string{
				{"moveonafter", "hand"},
				{"failafter", "hand"},
			})
		})
	}
}

// BenchmarkScope: cancel.Scope.Run against context.WithCancelCause by hand.
func BenchmarkScope(b *testing.B) {
	for _, p := range parents(b) {
		b.Run(p.name, func(b *testing.B) {
			interleave(b, 64, timeSpawn(b, scopeOps(p.ctx)), [][2]string{{"scope", "hand"}, {"scope-done", "hand-done"}})
		})
	}
}

// BenchmarkAllocsTimeout reports allocs/op and B/op of each contender alone.
func BenchmarkAllocsTimeout(b *testing.B) {
	for _, p := range parents(b) {
		for _, k := range []struct {
			kind string
			ops  []op
		}{{"timeout", timeoutOps(p.ctx)}, {"scope", scopeOps(p.ctx)}} {
			for _, o := range k.ops {
				b.Run(k.kind+"/"+p.name+"/"+o.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						sink = o.run()
					}
				})
			}
		}
	}
}
