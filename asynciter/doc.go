// Package asynciter runs the goroutines behind a range loop and does not let
// the loop statement finish until they have: a producer, a pool of workers or
// a fan-in lives exactly as long as the loop that consumes it.
//
// Go's range over functions (iter.Seq, iter.Seq2) is the async for of this
// package. Generate is an async generator; Map runs a function over a
// sequence with bounded concurrency, in input order or as results finish;
// Batch, Merge, FlatMapConcurrent, Buffer, Throttle, Tee and the plain
// adapters Filter, FlatMap, Take, Collect and Reduce compose them. FromChan
// and ToChan meet code that speaks in Go channels. Memory channels
// (OpenChannel, like trio's) and Queue (like asyncio's) hand values between
// goroutines that a nursery owns.
//
//	pages := asynciter.Map(ctx, slices.Values(urls), fetch, asynciter.WithLimit(8))
//	for page, err := range pages {
//		if err != nil {
//			return err // the first failure; the other fetches are cancelled
//		}
//		if done(page) {
//			break // cancels the fetches still running, and waits for them
//		}
//	}
//
// # Streams and errors
//
// A stream is an iter.Seq2[T, error]. Every pair but the last has a nil
// error; an error is terminal: it comes as the last pair, with a zero
// value, and the loop should return it. A stream that ends without an error
// simply ends. Operators pass an error of their input on as their own last
// pair, after the values that came before it.
//
// When a stream must go on past failures, carry them as values: Settled(fn)
// makes Map's function return a nursery.Result, value and error, for each
// item, and the stream's own error is then only the end of ctx or of its
// input.
//
// # Rules
//
// Nothing outlives the loop. When the loop over a sequence of this package
// ends, in any way (the sequence ends, break, return, goto, a panic in the
// loop body, runtime.Goexit), the goroutines behind it are cancelled, not
// drained: their ctx is cancelled with ErrStopped as its cause, the
// producer's yield reports false, and the loop statement finishes only once
// every one of them has returned. The values they had made that the loop did
// not take are dropped, and so are the errors they return after the loop
// stopped: the loop asked for nothing more.
//
// A stage stops its input the only way a Go iterator can be stopped: by
// returning false from the input's yield. So a stage waits, after its loop
// stopped, until its input yields its next value or returns. Inputs that
// block for long without yielding should watch a ctx that ends.
//
// Cancelling is not draining. A stage that stops reads nothing more from its
// input; if that input ranges over a channel filled by a goroutine that does
// not watch ctx, that goroutine stays blocked in its send. Read such a
// channel with FromChan(ctx, ch, DrainOnStop), which drains it when the loop
// stops; FromChan makes the choice explicit, as only the caller knows its
// sender.
//
// # Beside conc and rill
//
// The defaults that differ, and why:
//
//   - Map runs at most GOMAXPROCS calls at once unless WithLimit says
//     otherwise, so that a stream of any length has a bound (conc's stream
//     has none unless WithMaxGoroutines; rill takes n every time;
//     nursery.Map has none).
//   - Map keeps the input order, as a loop would (rill's Map does not; its
//     OrderedMap does, as does conc's stream); WithUnordered for the other.
//   - The first error ends the stream and stops the work behind it: fail
//     fast means stop. conc's iter.MapErr and stream run every item, and
//     rill carries errors as items; Settled does that here.
//   - FlatMap reads its streams one after the other; FlatMapConcurrent reads
//     k at once, as rill's FlatMap does.
//   - Generate is lazy: it computes no value before the loop asks for it
//     (rill's Generate runs one value ahead). WithBuffer(n) runs ahead.
//   - Stopping a loop cancels and joins the goroutines behind it; conc's
//     stream waits for its tasks, and rill drains its channels in the
//     background. Nothing here runs after the loop statement has finished.
//
// The loop body runs in the loop's goroutine, always: yield is only ever
// called there, never from a goroutine of the package. Sequences made here
// are not safe to range over from several goroutines at once; each range
// over them starts their goroutines anew. The sequential operators start no
// goroutine at all.
//
// Sequences and channels check their ctx on entry: a sequence ranged with a
// ctx already done yields (zero, ctx.Err()) and starts nothing; Send, Recv,
// Put, Get and Join return ctx.Err() unchanged, so err == context.Canceled
// works.
//
// # Panics
//
// A panic in a producer, in a function given to Map, or in an input ranged in
// a goroutine of the package is recovered there, with its stack, by the
// nursery that runs it; the other goroutines are cancelled and joined; and
// the panic is re-raised in the loop's goroutine as a *nursery.PanicError,
// also if the loop had already stopped. The value that crossed several
// stages is re-raised once, unwrapped to the innermost *nursery.PanicError.
//
// A panic in the loop body is never recovered: the goroutines are cancelled
// and joined while it unwinds, and it goes on with its own value and stack.
// If a goroutine panicked meanwhile, the loop body's panic is the one that
// goes on.
//
// Bad arguments (a nil function or context, a limit below 1, a zero batch
// size or wait, a negative channel size) panic at once, with a message that
// names the function and the argument.
//
// # Memory channels and queues
//
// A memory channel has a Sender and a Receiver, each of which may be cloned;
// an end closes when all its handles are closed. Recv returns ErrEndOfChannel
// once the senders are gone and the buffer is drained; Send returns
// ErrBroken once the receivers are gone; a handle used after its own Close
// returns ErrClosed. A Send or Recv cancelled by its ctx leaves the channel
// as it was, and a value handed to a receiver is never lost.
//
// A Queue is asyncio.Queue: Put, Get, TaskDone, Join, and Shutdown with
// Python 3.13's semantics.
//
// Sizes follow each one's original, so 0 means two things: OpenChannel(0)
// is a rendezvous (trio's open_memory_channel(0)), NewQueue(0) is unbounded
// (asyncio's Queue(maxsize=0)). Unbounded means unbounded to both; write it
// rather than 0 for a queue. An unbounded buffer gives its memory back as it
// drains.
//
// The module's cookbook, in its docs directory, has recipes for these patterns
// beside their Python originals: docs/async-iteration.md (async iteration, and
// producer-consumer.md for channels and queues).
package asynciter
