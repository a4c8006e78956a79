package timeout

import (
	"context"
	"time"

	"github.com/structured-go/structured/internal/echo"
	"github.com/structured-go/structured/internal/scope"
)

// run runs fn under a deadline d after now and reports whether that deadline
// ended it; if so, work is what fn returned.
func run(ctx context.Context, now time.Time, d time.Duration, fn func(ctx context.Context) error, opts []Option, name string) (isTimeout bool, err, work error) {
	if ctx == nil {
		panic("timeout: " + name + " called with a nil context")
	}
	if fn == nil {
		panic("timeout: " + name + " called with a nil function")
	}
	var c config
	if len(opts) > 0 {
		c = parseOptions(opts, name) // kept out of line: the common call allocates nothing for options
	}
	deadline := now.Add(d)
	parent := ctx
	if c.shield {
		parent = context.WithoutCancel(ctx)
	} else if pd, ok := ctx.Deadline(); ok && !pd.After(deadline) {
		if scope.Movable(ctx) {
			// The parent's deadline comes first for now, but it can move
			// later: this timeout needs a timer of its own.
			return runScoped(ctx, deadline, fn)
		}
		// The parent's fixed deadline comes first, or at the same instant
		// (the outer one wins ties): this timeout can never be the one to
		// fire.
		return false, fn(ctx), nil
	}
	tctx, stop := context.WithDeadline(parent, deadline)
	defer stop()
	err = fn(tctx)
	// tctx ends by its deadline or by the parent's cancellation; while the
	// parent is not done, it can only be the deadline. If the parent is done
	// too, the outer code handles it: the echo goes on as the parent's.
	if err != nil && tctx.Err() != nil && echo.Of(tctx, err) {
		if !c.shield && ctx.Err() == nil {
			deferToParent(ctx, deadline)
		}
		if c.shield || ctx.Err() == nil {
			return true, nil, err
		}
		if perr := ctx.Err(); !echo.Match(err, perr, context.Cause(ctx)) {
			return false, echo.Rebase(err, tctx.Err(), context.Cause(tctx), perr), nil
		}
	}
	return false, err, nil
}

// deferToParent waits, after this timeout's deadline fired, while the
// parent's deadline is no later and due: it was moved to tie with (or come
// before) this one after the work started, and ties go to the outer deadline,
// whose cancellation is on its way. Only a deadline that can move needs it.
func deferToParent(ctx context.Context, deadline time.Time) {
	if !scope.Movable(ctx) {
		return
	}
	for ctx.Err() == nil {
		pd, ok := ctx.Deadline()
		if !ok || pd.After(deadline) || time.Now().Before(pd) {
			return // the parent's deadline is later, or not yet due: this one fired first
		}
		select {
		case <-ctx.Done():
		case <-time.After(tieRecheck):
		}
	}
}

// tieRecheck is how often deferToParent looks again.
const tieRecheck = time.Millisecond

// runScoped is run under a parent whose deadline is earlier but may move: a
// scope keeps a deadline of its own while deferring to the parent's.
func runScoped(ctx context.Context, deadline time.Time, fn func(ctx context.Context) error) (isTimeout bool, err, work error) {
	var s scope.Scope
	s.SetDeadline(deadline)
	err, _ = s.Run(ctx, func(ctx context.Context) error {
		work = fn(ctx)
		return work
	})
	if err == nil && s.CancelledCaught() && s.Trigger() == scope.ByDeadline {
		return true, nil, work
	}
	return false, err, nil
}
