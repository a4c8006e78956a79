package asynciter

import (
	"context"
	"iter"
	"sync/atomic"

	"github.com/structured-go/structured/nursery"
)

// teeBuffer is how many values a consumer of Tee may lag behind the input.
const teeBuffer = 16

// Tee broadcasts in to several consumers: each consumer runs in a task of a
// nursery and gets a stream of every value of in, in order, ending with the
// error of in, if any, as its last pair. Tee returns when in and every
// consumer have returned.
//
// in is read once, in the goroutine that calls Tee. A consumer may lag
// behind the input by up to 16 values; beyond that the input waits for the
// slowest consumer still reading. A consumer that returns early only stops
// its own stream: the others go on, and the input is stopped once every
// consumer has returned.
//
// Tee returns as nursery.Run does: nil, a consumer's error (the first one
// cancels the ctx of the others, which Tee also stops feeding), or several
// combined. A panic of a consumer or of in is re-raised in the caller's
// goroutine as a *nursery.PanicError once everything has returned. Tee
// panics if ctx, in or a consumer is nil.
func Tee[T any](ctx context.Context, in iter.Seq2[T, error], consumers ...func(ctx context.Context, s iter.Seq2[T, error]) error) error {
	if ctx == nil {
		panic("asynciter: Tee called with a nil context")
	}
	if in == nil {
		panic("asynciter: Tee called with a nil input sequence")
	}
	for _, c := range consumers {
		if c == nil {
			panic("asynciter: Tee called with a nil consumer")
		}
	}
	type pair struct {
		v   T
		err error
	}
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		senders := make([]*Sender[pair], len(consumers))
		// failed is set by a consumer that fails, before it closes its
		// feed: the input stops at once, rather than go on feeding the
		// others until the nursery's cancellation reaches it.
		var failed atomic.Bool
		for i, consume := range consumers {
			s, r := OpenChannel[pair](teeBuffer)
			senders[i] = s
			n.Go(func(ctx context.Context) (err error) {
				normal := false
				defer func() {
					if err != nil || !normal { // failed or panicked
						failed.Store(true)
					}
					r.Close() // stops this consumer's feed
				}()
				err = consume(ctx, func(yield func(T, error) bool) {
					for p, err := range r.All(ctx) {
						if err != nil {
							// ctx ended (the nursery is failing) or
							// the stream was ranged after Tee ended.
							yield(p.v, err)
							return
						}
						if !yield(p.v, p.err) || p.err != nil {
							return
						}
					}
				})
				normal = true
				return err
			})
		}
		live := len(senders)
		send := func(p pair) bool {
			if failed.Load() {
				return false
			}
			for i, s := range senders {
				if s == nil {
					continue
				}
				if err := s.Send(ctx, p); err != nil {
					if err != ErrBroken {
						return false // ctx is done: a consumer failed
					}
					s.Close()
					senders[i] = nil
					if live--; live == 0 {
						return false
					}
				}
			}
			return true
		}
		if live == 0 {
			return nil
		}
		for v, err := range in {
			if !send(pair{v, err}) {
				// Every consumer stopped, or ctx ended: the feeds stay
				// open, so that a consumer still reading sees its ctx
				// end rather than a clean end of stream.
				return nil
			}
			if err != nil {
				break
			}
		}
		for _, s := range senders {
			if s != nil {
				s.Close() // the stream ends cleanly
			}
		}
		return nil
	})
}
