// Package cancel runs a function under a cancel scope: a context that ends
// when the scope is cancelled, when its deadline passes, or when its parent
// ends, unless it is shielded, and that remembers which of these ended it.
//
// A context already gives Go most of trio's cancellation: it is level
// triggered (once done, every later wait on it fails at once), it flows down
// to everything started under it, and context.Cause says why it ended. A
// Scope adds what a context cannot do:
//
//   - its deadline can move while it runs (SetDeadline): later, to give the
//     work more time, or into the past, to end it now;
//   - it can be shielded (WithShield, SetShield) from its parent's
//     cancellation, so that cleanup code can still block on I/O after the
//     work around it was cancelled, under a deadline of its own;
//   - it tells afterwards whether it was cancelled (CancelCalled) and
//     whether that cancellation is what stopped the work (CancelledCaught);
//     the echo of its own cancellation (ctx.Err() returned by the work) is
//     absorbed instead of being reported as a failure.
//
// # Rules
//
// A Scope runs once. Cancel, SetDeadline and SetShield may be called from any
// goroutine, before, during or after Run. Run always calls its function, even
// if the scope is already cancelled: the function starts with a done context
// and can still clean up. Run does not return before its function does: the
// scope does not stop the work, it asks it to stop.
//
// Contexts never come back to life: once the scope's context is done, moving
// the deadline later or turning the shield on does not undo it.
//
// When a scope and its parent are both cancelled, the outer one is
// responsible: the inner scope passes the context error through, and the
// outer scope catches it. A shielded scope catches its own cancellation
// whatever its parent does.
//
// Sleep is a sleep that ends early when the context does, and says why.
//
// In examples and docs, name the function that cancels a context stop, not
// cancel, so as not to hide this package.
package cancel
