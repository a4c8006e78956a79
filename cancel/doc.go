// Package cancel runs a function under a cancel scope: a context that ends
// when the scope is cancelled, when its deadline passes, or when its parent
// ends, unless it is shielded; [Scope.Run] does not return before the
// function does, and the scope remembers which of these ended it.
//
// A context already gives Go most of trio's cancellation: it is level
// triggered (once done, every later wait on it fails at once), it flows down
// to everything started under it, and [context.Cause] says why it ended. A
// [Scope] adds what a context cannot do:
//
//   - its deadline can move while it runs ([Scope.SetDeadline]): later, to
//     give the work more time, or into the past, to end it now;
//   - it can be shielded ([WithShield], [Scope.SetShield]) from its parent's
//     cancellation, so that cleanup code can still block on I/O after the
//     work around it was cancelled, under a deadline of its own;
//   - it tells afterwards whether it was cancelled ([Scope.CancelCalled])
//     and whether that cancellation is what stopped the work
//     ([Scope.CancelledCaught]); the echo of its own cancellation (ctx.Err()
//     returned by the work) is absorbed instead of being reported as a
//     failure.
//
// [Sleep] is a sleep that ends early when the context does, and says why.
//
// # Rules
//
// A Scope runs once; the zero Scope is ready to use. [Scope.Cancel],
// [Scope.SetDeadline] and [Scope.SetShield] may be called from any goroutine,
// before, during or after Run. Run always calls its function, even if the
// scope is already cancelled: the function starts with a done context and can
// still clean up. Run does not return before its function does: the scope
// does not stop the work, it asks it to stop.
//
// Contexts never come back to life: once the scope's context is done, moving
// the deadline later or turning the shield on does not undo it.
//
// When a scope and its parent are both cancelled, the outer one is
// responsible: the inner scope passes the context error on, and the outer
// scope catches it. A shielded scope catches its own cancellation whatever
// its parent does.
//
// The scope's context is, to the standard library, one of its own: a
// context made from it with context.WithCancel, WithTimeout or AfterFunc,
// directly or through any number of context.WithValue layers, is attached
// to it without a goroutine, reports its Err and its Cause
// (context.DeadlineExceeded after its deadline, not context.Canceled), and
// is done by the time Cancel, SetDeadline into the past, or the
// cancellation of an enclosing scope or nursery returns. Its Err is nil
// until its Done is closed.
//
// Two rules come from the standard library itself. A context derived with
// a deadline later than the scope's gets no timer of its own (the standard
// library relies on the sooner one): it ends with the scope, and if
// SetDeadline moves the scope's deadline later, it moves with it. And a
// cancellation that starts in a context of your own above the scope (a
// context.WithCancel that you cancel) reaches the scope through a goroutine
// of the standard library's, a moment after your cancel returns: the
// standard library has no synchronous way in for contexts of other kinds.
// See [Scope.Run] for what to do when a bound of your own must hold while
// the scope's deadline moves.
//
// # Which shield
//
// For cleanup after cancellation, use timeout.MoveOnAfter(ctx, d, cleanup,
// timeout.WithShield()): a shield should come with a deadline, and that one
// has it built in. Use [WithShield] here when you also cancel the scope,
// move its deadline, or turn the shield off while it runs.
//
// # The name of the package
//
// The name cancel is also what most code calls the function that
// context.WithCancel returns, and a local variable named cancel hides the
// package: "cancel.Sleep undefined (type context.CancelFunc has no field or
// method Sleep)". Name that function stop, as this module's docs and
// examples do:
//
//	ctx, stop := context.WithCancel(ctx)
//	defer stop()
//	err := cancel.Sleep(ctx, time.Second)
//
// or import the package under another name:
//
//	import cscope "github.com/structured-go/structured/cancel"
//
// The module's cookbook, in its docs directory, has recipes for these patterns
// beside their Python originals: docs/cancellation.md (cancellation and
// shielded cleanup).
package cancel
