// Package timeout gives up on work after a deadline, and does not return
// before the work has: trio's move_on_after and fail_after, asyncio's
// wait_for and reschedulable asyncio.timeout.
//
//	timedOut, err := timeout.MoveOnAfter(ctx, time.Second, fetchOptional) // give up quietly
//	err := timeout.FailAfter(ctx, time.Second, fetchRequired)             // give up with ErrTimeout
//	v, err := timeout.Call(ctx, time.Second, fetchValue)                  // wait_for, with a value
//
// # Rules
//
// The work runs under a context with the deadline; when it passes, the
// context is done with context.DeadlineExceeded, and the work is expected to
// return. The call does not return before the work does: a timeout asks the
// work to stop, it does not abandon it.
//
// Only the timeout that fired reports it. If the parent context was
// cancelled, or its own deadline passed first (or at the same instant: ties
// go to the outer deadline), the work's error passes through, for the outer
// code to handle. A timeout never cancels its parent context.
//
// The work's own error always wins: work that returns nil as the deadline
// passes keeps its result, and an error returned while reacting to the
// timeout (a failed cleanup) replaces the timeout.
//
// A deadline that has already passed, or a duration of zero or less, still
// runs the work, with a context that is already done (trio's rule): if the
// work returns the echo of that deadline, the timeout fired, MoveOnAfter
// reports timedOut, and FailAfter's error says the deadline had passed when
// the work began.
//
// The error of a timeout that fired matches [ErrTimeout], and
// context.DeadlineExceeded too, so code that checks for a deadline keeps
// working. It says what was asked and keeps the words of the work's own
// error: `timeout: deadline of 50ms exceeded: fetch: context deadline
// exceeded`; for a Timeout that Reschedule moved, `timeout: deadline
// exceeded, rescheduled from 1h0m0s to 2s after the work began`. A nursery treats it as a
// real failure of the task that returned it, never as the echo of its own
// cancellation.
//
// A nested timeout keeps its own deadline even when an enclosing one that
// came first moves later or is removed ([Timeout.Reschedule],
// cancel.Scope.SetDeadline).
//
// A [Timeout] is a reschedulable timeout, asyncio.Timeout: its deadline can
// move, or be disabled, while the work runs. The zero Timeout is a disabled
// one.
//
// # Cleanup after cancellation
//
// Timeouts do not reach code that has been cancelled already: its context is
// done from the start. For cleanup that must still block, for a bounded
// time, after the work around it was cancelled, pass [WithShield]:
//
//	_, err := timeout.MoveOnAfter(ctx, 5*time.Second, flush, timeout.WithShield())
//
// This is the shield to reach for: it comes with a deadline. cancel.WithShield
// is for a cancel scope that you also cancel, move or unshield yourself.
//
// The module's cookbook, in its docs directory, has recipes for these patterns
// beside their Python originals: docs/timeouts.md (timeouts).
package timeout
