package asynciter

import (
	"context"
	"fmt"
	"iter"
)

// Buffer returns in, read ahead of the loop by up to n values in a goroutine
// of its own, so that a slow loop body and a slow input overlap. It is
// Generate over in with WithBuffer(n): when the loop stops, the goroutine
// stops in and is joined before the loop statement finishes; an error of in
// is the last pair; if ctx is done, reading stops and the sequence ends,
// after the values already read, with ctx.Err().
//
// Buffer panics if ctx or in is nil, or if n < 1.
func Buffer[T any](ctx context.Context, in iter.Seq2[T, error], n int) iter.Seq2[T, error] {
	if ctx == nil {
		panic("asynciter: Buffer called with a nil context")
	}
	if in == nil {
		panic("asynciter: Buffer called with a nil input sequence")
	}
	if n < 1 {
		panic(fmt.Sprintf("asynciter: Buffer(%d): the buffer must be at least 1", n))
	}
	return Generate(ctx, pump(in), WithBuffer(n))
}

// pump is a producer that passes the values of in on.
func pump[T any](in iter.Seq2[T, error]) func(ctx context.Context, yield func(T) bool) error {
	return func(ctx context.Context, yield func(T) bool) error {
		for v, err := range in {
			if err != nil {
				return err
			}
			if !yield(v) {
				return nil
			}
		}
		return nil
	}
}
