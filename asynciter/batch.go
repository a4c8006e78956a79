package asynciter

import (
	"context"
	"fmt"
	"iter"
	"time"
)

// Batch groups the values of in into slices, like tokio's chunks_timeout: a
// batch is yielded when it holds size values, or when wait has passed since
// its first value arrived, whichever comes first. A batch is never empty,
// and no value waits longer than wait for its batch to go, however slowly
// in produces: in is read in a goroutine of Batch's, up to size values
// ahead of the loop.
//
// An error of in, or ctx ending, first flushes the partial batch, if any,
// and then ends the sequence with (nil, err); for ctx that is ctx.Err().
// When the loop stops early, the goroutine stops in and is joined before the
// loop statement finishes; values it read that were not yielded are
// dropped. A panic of in is re-raised in the loop's goroutine as a
// *nursery.PanicError.
//
// Each batch is a new slice: the loop may keep it. Batch panics if ctx or in
// is nil, if size < 1, or if wait <= 0.
func Batch[T any](ctx context.Context, in iter.Seq2[T, error], size int, wait time.Duration) iter.Seq2[[]T, error] {
	if ctx == nil {
		panic("asynciter: Batch called with a nil context")
	}
	if in == nil {
		panic("asynciter: Batch called with a nil input sequence")
	}
	if size < 1 {
		panic(fmt.Sprintf("asynciter: Batch(size %d): the size must be at least 1", size))
	}
	if wait <= 0 {
		panic(fmt.Sprintf("asynciter: Batch(wait %v): the wait must be positive", wait))
	}
	return func(yield func([]T, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		g := startGen(ctx, size, pump(in))
		inBody := false
		defer g.finishLoop(&inBody)
		timer := time.NewTimer(wait)
		timer.Stop()
		defer timer.Stop()
		for {
			// The first value of a batch: no deadline yet.
			v, ok := g.pull(nil)
			if !ok {
				g.end(func(_ T, err error) bool { return yield(nil, err) }, &inBody)
				return
			}
			batch := make([]T, 1, size)
			batch[0] = v
			timer.Reset(wait)
			ended := false
			for len(batch) < size {
				v, ok := g.pull(timer.C)
				if !ok {
					ended = !g.timedOut
					break
				}
				batch = append(batch, v)
			}
			timer.Stop()
			inBody = true
			if !yield(batch, nil) {
				inBody = false
				return
			}
			inBody = false
			if ended {
				g.end(func(_ T, err error) bool { return yield(nil, err) }, &inBody)
				return
			}
		}
	}
}
