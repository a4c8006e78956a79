// Package nursery runs goroutines that cannot outlive the function that
// started them: [Run] waits for its body and for every task started in it,
// and the first failure cancels the rest.
//
// It is Go's answer to Python's trio nurseries and asyncio.TaskGroup, and a
// safer errgroup: the owner of a group of goroutines is a function call, not
// a value that someone must remember to Wait on.
//
//	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
//		for _, url := range urls {
//			n.Go(func(ctx context.Context) error {
//				return fetch(ctx, url)
//			})
//		}
//		return nil
//	})
//
// # Rules
//
// Run does not return until body and every task have returned: the return
// of each happens before Run returns. Nothing is left running in the
// background, also when a task fails, the context is cancelled, or something
// panics.
//
// The body is a task too. Its error cancels the tasks, and it sees their
// cancellation through its ctx.
//
// The first real error cancels the nursery's context, with that error as the
// cause ([context.Cause]). Run returns nil, the one real error unchanged (a
// named task's is wrapped as `task "name": err`), or all of them combined in
// the order they happened; [WithFirstError] keeps only the first, as errgroup
// does. Errors that only echo the nursery's own cancellation (its ctx.Err()
// or context.Cause(ctx), or errors wrapping nothing but them, returned by a
// cancelled task) are not real errors and are dropped; if the parent context
// was cancelled, Run returns the first echo of that once, not a pile of
// them.
//
// [Nursery.Go] may be called from the body, from tasks, or from any goroutine
// holding the Nursery, until Run returns. While the nursery is cancelling,
// Go still runs the task, with a context that is already done (trio's rule;
// the helpers over many items, Map, ForEach and Gather, stop starting items
// instead). After Run has returned, one rule holds for every way of
// starting a task: it is refused with [ErrClosed], never silently dropped.
// [Start], which returns an error, returns ErrClosed; [Nursery.Go],
// [Spawn] and [Nursery.Spawn], which return none, panic with an error
// wrapping it. [Nursery.Cancel] after Run does nothing.
//
// A task's context is the nursery's, not that of the goroutine that called
// Go: a timeout around a Go call does not limit the task.
//
// The nursery's context is a context of the standard library's (made with
// context.WithCancelCause under Run's ctx): a context derived from it,
// directly or through any number of context.WithValue layers (a request id,
// a logger, pprof labels, a tracing span), is attached to it without a
// goroutine, and is done by the time Cancel returns, or the failure that
// cancels the nursery has been recorded. Once Run has returned, the
// nursery's context is done, and context.Cause reports context.Canceled if
// nothing cancelled it before, as errgroup's does.
//
// The methods of a Nursery are safe for concurrent use. The zero Nursery is
// not valid: only Run makes one.
//
// # Panics
//
// A panic in the body or in a task is recovered where it happens, with that
// goroutine's stack. The nursery is cancelled, Run waits for every other task,
// and then Run panics in its own goroutine with a [*PanicError] holding the
// value, the original stack, the task's name, and any errors that happened
// besides. A panic that crosses nested nurseries keeps its value and stack
// and is not wrapped again. runtime.Goexit in a task (t.FailNow in a test) is
// recorded as an error wrapping [ErrGoexit]; it never leaves Run waiting
// forever.
//
// errgroup tried propagating panics to Wait in 2025 and reverted it, giving
// three reasons. Each is answered by the scope that Run is:
//
//   - "It delays panics arbitrarily." With errgroup, Wait may be called much
//     later, or never. Here the waiter is Run itself: it is already waiting
//     when the panic happens, the panic cancels every sibling at once, and
//     the re-panic comes as soon as they have returned. The delay is bounded
//     by how fast the siblings honour their context.
//   - "It turns the panic's stack into a mere value." PanicError.Error
//     includes the stack captured in the panicking goroutine, and the
//     runtime prints Error when a panic is not recovered, so a crash report
//     shows where the panic began as well as where it was re-raised.
//   - "It risks deadlocks that hide the panic, if the panic prevents the call
//     to Wait from being reached." There is no Wait call to reach: the body
//     returns into Run, and Run waits. What could still block is a sibling, or
//     the body, waiting for something only the panicking task would have
//     done. The nursery cancels their context at the moment of the panic, so
//     any of them that selects on ctx.Done() wakes up. Code that blocks
//     without a way to be cancelled can hang with or without this package.
//
// # Helpers
//
// Gather, AllSettled, Race and AsCompleted are asyncio's gather,
// gather(return_exceptions=True), wait(FIRST_COMPLETED) and as_completed;
// Map, ForEach and MapSettled do the same over a slice, with the nursery's
// options (a limit, say). Each is a Run in disguise, with the same
// guarantees:
//
//	helper        returns                      a failure...           ends when
//	Gather        values, in argument order    cancels the others     all have returned
//	Map           values, in the items' order  cancels the others     all have returned
//	ForEach       the error(s)                 cancels the others     all have returned
//	AllSettled    a Result per function        cancels nothing        all have returned
//	MapSettled    a Result per item            cancels nothing        all have returned
//	Race          the first success            cancels nothing        one succeeds or all fail
//	AsCompleted   Results, in finishing order  cancels nothing        the loop ends, or breaks
//
// [Spawn] starts a task and returns a handle to Wait on or Cancel, like
// asyncio.create_task ([Nursery.Spawn] for a task with no value). [Start]
// waits until a task reports that it is ready, like trio's nursery.start.
//
// # Options
//
// [WithLimit] bounds how many tasks run at once (errgroup's SetLimit, with
// the body not counted); [WithSemaphore] shares one limit between nested
// nurseries; [WithCollectAll] keeps every task running after a failure and
// returns all errors; [WithFirstError] returns only the first;
// [WithSignals] turns SIGINT and SIGTERM into cancellation; [WithName] names
// a task (in errors, panics and pprof profiles) or a nursery.
//
// # What is still running
//
// A Run that does not return is waiting for a task. [WithStuckReport] makes
// it say which, through log/slog, once it has waited longer than a delay
// after its body returned or it was cancelled. [WithTracking] (or
// [SetTracking] for the whole process) keeps the live tree of nurseries and
// their open tasks, with names, functions and ages, which [Tree], [WriteTree]
// and [TreeHandler] show from outside: as text, as JSON (a [TreeSnapshot],
// which the command cmd/nurseries reads, as Python's "asyncio pstree"), and
// as a page for a browser. Tracking is off by default and then costs
// nothing measurable; on, it costs each task a record. Tasks meant to run
// until the nursery is cancelled, such as a server's, say so with
// [UntilCancelled], so that they are not taken for stuck ones.
//
// # Watching from outside
//
// While the execution tracer runs (go test -trace, /debug/pprof/trace, a
// flight recorder), every Run is a runtime/trace task of type "nursery" and
// every task a region, with no code to add; [WithStuckTrace] writes the
// flight recorder's last seconds when a Run is reported stuck. An
// [Observer] (trio's Instrument), given with [WithObserver] or
// [SetObserver], is told of every nursery and task that starts and ends,
// with each task's [Outcome]: the module otelnursery makes OpenTelemetry
// spans with one.
//
// The docs/ directory of the module has a cookbook of these patterns, and a
// guide to moving from errgroup. errgroup's own tests run against the
// nursery in CI, through a thin adapter: the file PEERS.md beside this
// package's source lists the two that fail, both for reusing a group after
// Wait, which a nursery does not allow.
package nursery
