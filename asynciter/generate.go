package asynciter

import (
	"context"
	"iter"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

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
// nobody asked for. The producer and the loop then take turns, never
// running at once, and the producer runs as a coroutine of the loop (see
// iter.Pull): its goroutine and the loop's hand the processor to each other
// directly, which costs less than waking a goroutine for each value.
// WithBuffer(n) lets it run up to n values ahead, at the same time as the
// loop, in a goroutine of its own, and moves values in bulk.
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
// If produce calls runtime.Goexit (as t.FailNow does), a lazy sequence
// carries it on into the loop's goroutine, as iter.Pull does, once the
// producer's defers have run; with WithBuffer the sequence ends with an
// error wrapping nursery.ErrGoexit instead.
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
		if ahead == 0 {
			lazy(ctx, produce, yield)
			return
		}
		g := startGen(ctx, ahead, produce)
		g.consume(ctx, yield)
	}
}

// lazy runs a Generate without look-ahead. The producer and the loop then
// take turns and never run at once, so the producer runs as a coroutine of
// the loop (iter.Pull): a goroutine of its own, to which the loop hands the
// processor when it asks for a value, and which hands it back with the
// value, without going through the scheduler. That is a few times cheaper
// than waking a goroutine for each value.
//
// A panic of the producer is recovered in its goroutine, with its stack,
// and re-raised in the loop's. A runtime.Goexit cannot be stopped, and
// iter.Pull carries it on into the loop's goroutine.
func lazy[T any](ctx context.Context, produce func(ctx context.Context, yield func(T) bool) error, yield func(T, error) bool) {
	pctx, stop := context.WithCancelCause(ctx)
	var (
		err      error               // what produce returned
		panicked *nursery.PanicError // what it panicked with
		byLoop   bool                // the loop has stopped the producer
	)
	// The loop and the coroutine hand over to each other, and iter.Pull
	// orders their memory at each hand-over: they share these variables
	// without a lock.
	next, stopPull := iter.Pull(func(pull func(T) bool) {
		done := pctx.Done()
		cut := false
		normal := false
		defer func() {
			if !normal {
				if v := recover(); v != nil {
					if pe, ok := v.(*nursery.PanicError); ok {
						panicked = asPanicError(pe)
					} else {
						panicked = &nursery.PanicError{Value: v, Stack: debug.Stack()}
					}
				}
			}
		}()
		err = produce(pctx, func(v T) bool {
			select {
			case <-done:
				cut = !byLoop
				return false
			default:
			}
			return pull(v)
		})
		if err == nil && cut {
			// yield said stop because ctx was done: the sequence was
			// cut short, which the loop must be told.
			err = pctx.Err()
		}
		normal = true
	})
	inBody := false
	defer func() {
		byLoop = true
		stop(ErrStopped)
		stopPull()
		if !inBody && panicked != nil {
			panic(panicked)
		}
	}()
	for {
		v, ok := next()
		if !ok {
			break
		}
		inBody = true
		if !yield(v, nil) {
			inBody = false
			return
		}
		inBody = false
	}
	if err != nil && panicked == nil && !byLoop {
		var zero T
		inBody = true
		yield(zero, err)
		inBody = false
	}
}

// gen is the state of one run of a Generate with a look-ahead (or of
// Buffer, Batch): a single-producer, single-consumer ring of capacity
// ahead+1 or more.
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

	_     pad
	tail  atomic.Uint64 // written by the producer
	_     pad
	asked atomic.Uint64 // written by the loop
	_     pad

	done     atomic.Bool // the producer has returned; set after its last tail
	consumer waker       // the loop, waiting for tail or done
	producer waker       // the producer, waiting for asked

	// The loop's own: items pulled, items known to be in the ring, and
	// whether the last pull gave up waiting.
	head, known uint64
	timedOut    bool

	cut bool // the producer's yield reported false because ctx was done
	sup supervisor
}

func newGen[T any](ahead int) *gen[T] {
	size := 1
	for size < ahead+1 {
		size <<= 1
	}
	g := &gen[T]{
		ring:  make([]T, size),
		mask:  uint64(size - 1),
		ahead: uint64(ahead),
	}
	g.consumer.init()
	g.producer.init()
	return g
}

// genSpins is how many times either side of a Generate with a look-ahead
// yields the processor before it sleeps: with a short look-ahead the two
// often take turns, and a turn taken without sleeping saves a wake-up on
// each side.
const genSpins = 4

// startGen starts produce behind a new ring.
func startGen[T any](ctx context.Context, ahead int, produce func(ctx context.Context, yield func(T) bool) error) *gen[T] {
	g := newGen[T](ahead)
	g.sup.start(ctx, func(ctx context.Context, _ *nursery.Nursery) error {
		err := produce(ctx, g.producerYield(ctx))
		if err == nil && g.cut {
			// yield said stop because ctx was done: the sequence was
			// cut short, which the loop must be told.
			err = ctx.Err()
		}
		return err
	}, g.finish)
	return g
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
			g.cut = !g.sup.byLoop.Load()
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
		for range genSpins {
			if tail+1 <= g.ahead+asked {
				return true
			}
			runtime.Gosched()
			asked = g.asked.Load()
		}
		for tail+1 > g.ahead+asked {
			g.producer.prepare()
			if asked = g.asked.Load(); tail+1 <= g.ahead+asked {
				g.producer.cancelSleep()
				break
			}
			select {
			case <-g.producer.ch:
			case <-done:
				g.cut = !g.sup.byLoop.Load()
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
	defer g.finishLoop(&inBody)
	for {
		v, ok := g.pull(nil)
		if !ok {
			g.end(yield, &inBody)
			return
		}
		inBody = true
		if !yield(v, nil) {
			inBody = false
			return
		}
		inBody = false
	}
}

// finishLoop is deferred by the loop: it stops and joins the producer, and
// re-raises its panic unless the loop body itself is unwinding (a panic or
// runtime.Goexit in the body), whose panic must go on untouched.
func (g *gen[T]) finishLoop(inBody *bool) {
	g.sup.join()
	if !*inBody {
		g.sup.rethrow()
	}
}

// pull asks for the next item and waits for it. It reports false if the
// producer has ended and every item it made has been pulled, or if timeout
// fires first (then g.timedOut is set; the item asked for is not lost: the
// next pull returns it).
func (g *gen[T]) pull(timeout <-chan time.Time) (v T, ok bool) {
	g.timedOut = false
	g.asked.Store(g.head + 1)
	g.producer.wake()
	if g.head == g.known {
		g.known = g.tail.Load()
		for i := 0; i < genSpins && g.head == g.known && !g.done.Load(); i++ {
			runtime.Gosched()
			g.known = g.tail.Load()
		}
		for g.head == g.known {
			g.consumer.prepare()
			if g.known = g.tail.Load(); g.head != g.known {
				g.consumer.cancelSleep()
				break
			}
			if g.done.Load() {
				g.consumer.cancelSleep()
				if g.known = g.tail.Load(); g.head != g.known {
					break
				}
				return v, false
			}
			if timeout == nil {
				<-g.consumer.ch
			} else {
				select {
				case <-g.consumer.ch:
				case <-timeout:
					g.consumer.cancelSleep()
					g.timedOut = true
					return v, false
				}
			}
			g.known = g.tail.Load()
		}
	}
	i := g.head & g.mask
	v = g.ring[i]
	var zero T
	g.ring[i] = zero
	g.head++
	return v, true
}

// end yields the producer's error, if any, once it has been joined.
func (g *gen[T]) end(yield func(T, error) bool, inBody *bool) {
	g.sup.join()
	g.sup.rethrow()
	if g.sup.err != nil {
		var zero T
		*inBody = true
		yield(zero, g.sup.err)
		*inBody = false
	}
}
