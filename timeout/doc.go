// Package timeout gives up on work after a deadline: trio's move_on_after and
// fail_after, asyncio's wait_for and reschedulable asyncio.timeout.
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
// go to the outer deadline), the work's error passes through unchanged, for
// the outer code to handle. A timeout never cancels its parent context.
//
// The work's own error always wins: work that returns nil as the deadline
// passes keeps its result, and an error returned while reacting to the
// timeout (a failed cleanup) replaces the timeout.
//
// A deadline that has already passed, or a duration of zero or less, still
// runs the work, with a context that is already done.
//
// ErrTimeout matches context.DeadlineExceeded too, so code that checks for a
// deadline keeps working. A nursery treats it as a real failure of the task
// that returned it, never as the echo of its own cancellation.
//
// A Timeout is a reschedulable timeout, asyncio.Timeout: its deadline can
// move, or be disabled, while the work runs.
//
// Timeouts do not reach code that has been cancelled already: in a cleanup
// path after cancellation, use WithShield, or the cleanup's context is done
// from the start.
package timeout
