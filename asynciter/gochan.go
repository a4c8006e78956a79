package asynciter

import (
	"context"
	"fmt"
	"iter"

	"github.com/structured-go/structured/nursery"
)

// A StopMode says what FromChan does with its channel when the loop stops
// before the channel is closed: when it breaks or returns early, when ctx
// ends, or when a stage that reads the sequence stops reading. There is no
// default: the choice depends on the sender, and only the caller knows it.
type StopMode int

const (
	// LeaveOnStop returns at once and leaves the values not yet received
	// in the channel. The sender must stop by itself: by watching a ctx
	// that ends, as a sender in a select on ctx.Done() does.
	LeaveOnStop StopMode = iota + 1
	// DrainOnStop receives and drops the values until the channel is
	// closed, so that a sender that does not watch ctx is not left blocked
	// in its send for ever. The loop statement does not finish until the
	// sender has closed the channel: use it with a sender that always
	// closes it.
	DrainOnStop
)

// String returns the constant's name.
func (m StopMode) String() string {
	switch m {
	case LeaveOnStop:
		return "LeaveOnStop"
	case DrainOnStop:
		return "DrainOnStop"
	}
	return fmt.Sprintf("StopMode(%d)", int(m))
}

// FromChan returns the values received from ch, in the loop's goroutine,
// until ch is closed: then the sequence ends without an error. If ctx ends
// first, the sequence ends with ctx.Err() as its last pair. onStop says
// what happens to ch when the loop stops before ch is closed (the loop
// breaks, ctx ends, a stage reading the sequence stops): LeaveOnStop leaves
// it as it is, DrainOnStop drains it until it is closed. FromChan starts no
// goroutine.
//
// Use it where a channel comes from code that is not this package's, such
// as another package's producer. Map, MapStream and the other stages stop
// reading their input when they are cancelled: cancelling is not draining.
// A sender that does not watch ctx then blocks for ever in its send, unless
// the channel is drained: FromChan(ctx, ch, DrainOnStop) does it.
//
// FromChan panics if ctx or ch is nil, or if onStop is neither LeaveOnStop
// nor DrainOnStop.
func FromChan[T any](ctx context.Context, ch <-chan T, onStop StopMode) iter.Seq2[T, error] {
	if ctx == nil {
		panic("asynciter: FromChan called with a nil context")
	}
	if ch == nil {
		panic("asynciter: FromChan called with a nil channel")
	}
	if onStop != LeaveOnStop && onStop != DrainOnStop {
		panic(fmt.Sprintf("asynciter: FromChan(%v): say what happens when the loop stops early: LeaveOnStop or DrainOnStop", onStop))
	}
	return func(yield func(T, error) bool) {
		closed := false
		if onStop == DrainOnStop {
			defer func() {
				if !closed {
					for range ch {
					}
				}
			}()
		}
		done := ctx.Done()
		if err := ctx.Err(); err != nil {
			var zero T
			yield(zero, err)
			return
		}
		for {
			select {
			case v, ok := <-ch:
				if !ok {
					closed = true
					return
				}
				if !yield(v, nil) {
					return
				}
			case <-done:
				var zero T
				yield(zero, ctx.Err())
				return
			}
		}
	}
}

// ToChan hands the values of in to code that takes a channel, such as
// another package's consumer: it calls body with a channel on which a
// goroutine of its own sends the values of in, in order, and which it
// closes when in ends. It returns once body and that goroutine have both
// returned: nothing it started outlives it.
//
// If body returns before the channel is closed, the goroutine is stopped,
// not drained: it stops in (its yield returns false) and drops the values
// not yet sent, as every stage of this package does. A sequence, unlike a
// channel, can always be stopped. If in ends with an error, the channel is
// closed, body's ctx is cancelled with that error as its cause, and ToChan
// returns it. ToChan returns as nursery.Run does: nil, the error of body or
// of in, or both, combined. A panic of body or in is re-raised in the
// caller's goroutine as a *nursery.PanicError once both have returned.
//
// body must not keep the channel after it returns. ToChan panics if ctx,
// in or body is nil.
func ToChan[T any](ctx context.Context, in iter.Seq2[T, error], body func(ctx context.Context, ch <-chan T) error) error {
	if ctx == nil {
		panic("asynciter: ToChan called with a nil context")
	}
	if in == nil {
		panic("asynciter: ToChan called with a nil input sequence")
	}
	if body == nil {
		panic("asynciter: ToChan called with a nil body")
	}
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		ch := make(chan T)
		n.Go(func(ctx context.Context) error {
			defer close(ch)
			done := ctx.Done()
			for v, err := range in {
				if err != nil {
					return err
				}
				select {
				case ch <- v:
				case <-done:
					return nil // body has returned, or failed, or ctx ended
				}
			}
			return nil
		})
		err := body(ctx, ch)
		n.Cancel(ErrStopped) // body is done with the channel: stop the sender
		return err
	})
}
