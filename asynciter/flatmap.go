package asynciter

import (
	"context"
	"iter"

	"github.com/structured-go/structured/nursery"
)

// FlatMapConcurrent is FlatMap with up to k of the streams that fn makes
// read at once, each in a goroutine of its own (k from WithLimit, default
// runtime.GOMAXPROCS(0)), as rill's FlatMap does: values of different
// streams interleave as they come, values of one stream keep their order,
// and a slow stream holds back nothing but itself. fn gets a ctx that ends
// when the sequence no longer needs its stream; make the stream with it.
// Each stream may run at most 16 values ahead of the loop.
//
// The first error, of in or of one of the streams, ends the sequence as
// its last pair, after the values that came before it; no stream is
// started after it, and the others are stopped. If ctx ends, every stream
// and in are stopped and the sequence ends with ctx.Err(). When the loop
// stops early, the streams and in are stopped, and the loop statement does
// not finish until every goroutine has returned. A panic of fn, of a
// stream or of in is re-raised in the loop's goroutine as a
// *nursery.PanicError. in is ranged over in a goroutine of the package,
// never the loop's.
//
// FlatMapConcurrent panics if ctx, in or fn is nil, and when fn returns a
// nil stream. It takes the option WithLimit.
func FlatMapConcurrent[T, U any](ctx context.Context, in iter.Seq2[T, error], fn func(ctx context.Context, v T) iter.Seq2[U, error], opts ...Option) iter.Seq2[U, error] {
	switch {
	case ctx == nil:
		panic("asynciter: FlatMapConcurrent called with a nil context")
	case in == nil:
		panic("asynciter: FlatMapConcurrent called with a nil input sequence")
	case fn == nil:
		panic("asynciter: FlatMapConcurrent called with a nil function")
	}
	k := parseOptions("FlatMapConcurrent", optLimit, opts).limit
	if k == 0 {
		k = defaultLimit()
	}
	return func(yield func(U, error) bool) {
		if err := ctx.Err(); err != nil {
			var zero U
			yield(zero, err)
			return
		}
		// A merger of k+1 inputs: one for each goroutine that reads a
		// stream, reused from stream to stream, and one for in's error.
		runMerger(ctx, k+1, func(ctx context.Context, n *nursery.Nursery, m *merger[U]) error {
			return flatten(ctx, n, m, k, in, fn)
		}, yield)
	}
}

// flatten is the nursery's body of a FlatMapConcurrent: it ranges over in
// and starts a reader of fn's stream for each value, once one of the k
// readers' slots is free.
func flatten[T, U any](ctx context.Context, n *nursery.Nursery, m *merger[U], k int, in iter.Seq2[T, error], fn func(ctx context.Context, v T) iter.Seq2[U, error]) error {
	normal := false
	defer func() {
		if !normal {
			m.stop() // in panicked: wake the readers waiting for room
		}
	}()
	free := make(chan int, k) // the readers' slots not in use
	for i := range k {
		free <- i
	}
	done := ctx.Done()
	var zero U
	for v, err := range in {
		if err != nil {
			m.push(k, zero, err)
			break
		}
		var slot int
		select {
		case slot = <-free:
		case <-done:
		}
		if ctx.Err() != nil {
			if !m.sup.byLoop.Load() {
				m.push(k, zero, ctx.Err())
			}
			break
		}
		if m.ended() {
			break // a stream failed, or the loop stopped: start no more
		}
		n.Go(func(ctx context.Context) error {
			normal := false
			defer func() {
				if !normal {
					m.stop() // fn or its stream panicked
				}
				free <- slot
			}()
			s := fn(ctx, v)
			if s == nil {
				panic("asynciter: FlatMapConcurrent's function returned a nil stream")
			}
			err := m.read(ctx, slot, s)
			normal = true
			return err
		})
	}
	normal = true
	return nil
}
