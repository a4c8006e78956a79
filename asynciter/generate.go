package asynciter

import (
	"context"
	"iter"
	"sync/atomic"

	"github.com/structured-go/structured/nursery"
)

// Generate returns a sequence of the values that produce passes to its
// yield, made in a goroutine of their own, like a Python async generator
// consumed with async for:
//
//	for v, err := range asynciter.Generate(ctx, produce) {
//		if err != nil {
//			return err // produce's error, the last pair of the sequence
//		}
//		use(v)
//	}
//
// The producer starts when the loop starts, not before: a sequence that is
// never ranged over runs nothing. By default it is lazy: its yield returns
// only when the loop asks for the next value, so it never computes a value
// nobody asked for. WithBuffer(n) lets it run up to n values ahead, and moves
// values in bulk.
//
// The producer's yield reports false when it must stop: the loop has ended
// (break, return, or a panic in its body), or ctx is done. The producer
// should then return. When the loop ends early, ctx of the producer is
// cancelled, and the loop statement does not finish until produce has
// returned: nothing it started outlives the loop. Values it made that the
// loop did not take are dropped, and so is what it returns then, as the loop
// asked for nothing more.
//
// If produce returns an error, the loop gets the values made before it and
// then (zero value, err) as its last pair. If ctx ends the sequence (yield
// reported false because ctx was done, or ctx is done before the loop
// starts, in which case produce is not called), the last pair carries
// ctx.Err() unless produce returned an error of its own. If produce panics,
// the panic is re-raised in the loop's goroutine as a *nursery.PanicError,
// after the producer has returned; also if the loop had already stopped.
//
// Each range over the sequence runs produce anew. Generate panics if ctx or
// produce is nil. It takes the option WithBuffer.
func Generate[T any](ctx context.Context, produce func(ctx context.Context, yield func(T) bool) error, opts ...Option) iter.Seq2[T, error] {
	if ctx == nil {
		panic("asynciter: Generate called with a nil context")
	}
	if produce == nil {
		panic("asynciter: Generate called with a nil produce function")
	}
	ahead := 0
	if len(opts) > 0 {
		if c := parseOptions("Generate", optBuffer, opts); c.buffer > 0 {
			ahead = c.buffer
		}
	}
	return func(yield func(T, error) bool) {
		if err := ctx.Err(); err != nil {
			var zero T
			yield(zero, err)
			return
		}
		g := newGen[T](ahead)
		g.sup.start(ctx, func(ctx context.Context, _ *nursery.Nursery) error {
			err := produce(ctx, g.producerYield(ctx))
			if err == nil && g.cut {
				// yield said stop because ctx was done: the sequence
				// was cut short, which the loop must be told.
				err = ctx.Err()
			}
			return err
		}, g.finish)
		g.consume(ctx, yield)
	}
}

// gen is the state of one run of a Generate: a single-producer,
// single-consumer ring of capacity ahead+1 or more.
//
// Items are numbered from 1. The producer publishes tail, the number of
// items it has put in the ring; the loop publishes asked, the number of
// items it has asked for (it asks for item k when it is ready to run its
// body for item k, and it has read item k-1 out of the ring by then). The
// producer's yield of item k returns once asked >= k+1-ahead, so the
// producer never has more than ahead items the loop has not asked for. Item
// k goes into the slot of item k-len(ring), which the loop has read before
// asking for item k-ahead, as len(ring) > ahead.
type gen[T any] struct {
	ring  []T
	mask  uint64
	ahead uint64

	_    pad
	tail atomic.Uint64 // written by the producer
	_    pad
	asked atomic.Uint64 // written by the loop
	_     pad

	done     atomic.Bool // the producer has returned; set after its last tail
	consumer *waker      // the loop, waiting for tail or done
	producer *waker      // the producer, waiting for asked

	cut bool // the producer's yield reported false because ctx was done
	sup supervisor
}

func newGen[T any](ahead int) *gen[T] {
	size := 1
	for size < ahead+1 {
		size <<= 1
	}
	return &gen[T]{
		ring:     make([]T, size),
		mask:     uint64(size - 1),
		ahead:    uint64(ahead),
		consumer: newWaker(),
		producer: newWaker(),
	}
}

// finish is called by the supervising goroutine once the producer returned.
func (g *gen[T]) finish() {
	g.done.Store(true)
	g.consumer.wake()
}

// producerYield returns the yield given to the producer.
func (g *gen[T]) producerYield(ctx context.Context) func(T) bool {
	done := ctx.Done()
	var tail, asked uint64 // the producer's copies
	return func(v T) bool {
		select {
		case <-done:
			g.cut = context.Cause(ctx) != errStopped
			return false
		default:
		}
		g.ring[tail&g.mask] = v
		tail++
		g.tail.Store(tail)
		g.consumer.wake()
		// Wait until the loop has asked for item tail+1-ahead.
		if tail+1 <= g.ahead+asked {
			return true
		}
		asked = g.asked.Load()
		for tail+1 > g.ahead+asked {
			g.producer.prepare()
			if asked = g.asked.Load(); tail+1 <= g.ahead+asked {
				g.producer.cancelSleep()
				break
			}
			select {
			case <-g.producer.ch:
			case <-done:
				g.cut = context.Cause(ctx) != errStopped
				return false
			}
			asked = g.asked.Load()
		}
		return true
	}
}

// consume is the loop's side: it asks for items one by one and yields them.
func (g *gen[T]) consume(ctx context.Context, yield func(T, error) bool) {
	inBody := false
	defer func() {
		g.sup.join()
		if !inBody {
			// Not unwinding from a panic in the loop body: a panic of
			// the producer is re-raised here, also after a break.
			g.sup.rethrow()
		}
	}()
	var head, tail uint64 // the loop's copies: items read, items known put
	for {
		g.asked.Store(head + 1)
		g.producer.wake()
		if head == tail {
			tail = g.tail.Load()
			for head == tail {
				g.consumer.prepare()
				if tail = g.tail.Load(); head != tail {
					g.consumer.cancelSleep()
					break
				}
				if g.done.Load() {
					g.consumer.cancelSleep()
					if tail = g.tail.Load(); head != tail {
						break
					}
					g.end(yield)
					return
				}
				<-g.consumer.ch
				tail = g.tail.Load()
			}
		}
		i := head & g.mask
		v := g.ring[i]
		var zero T
		g.ring[i] = zero
		head++
		inBody = true
		if !yield(v, nil) {
			inBody = false
			return
		}
		inBody = false
	}
}

// end yields the producer's error, if any, once it has been joined.
func (g *gen[T]) end(yield func(T, error) bool) {
	g.sup.join()
	g.sup.rethrow()
	if g.sup.err != nil {
		var zero T
		yield(zero, g.sup.err)
	}
}
