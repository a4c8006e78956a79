package asynciter

import (
	"context"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/structured-go/structured/nursery"
)

// Map returns a sequence of fn applied to every value of in, with up to k
// calls of fn running at once in goroutines of their own (k from WithLimit,
// default runtime.GOMAXPROCS(0)).
//
// Results come in input order, as if fn had been called in a plain loop. To
// keep that order with concurrent calls, a result may have to wait for an
// earlier one. The reorder window is bounded: Map holds at most k+n values
// read from in and not yet yielded (n from WithBuffer, default 2k+16), so at
// most that many results wait; in itself is one value further ahead, the one
// it made and is waiting to hand over. With WithUnordered, results come as
// calls finish, and a slow call holds back nothing but itself.
//
// The first error of fn ends the sequence: it is the last pair, and no call
// is started for a later value. In input order the error comes in its
// place, after the results of every earlier value (whose calls go on until
// they are done); calls for later values are not started, and those already
// running are cancelled when the error is yielded. Unordered, the error
// comes as soon as it happens, after the results that finished before it,
// and every call still running is cancelled at once. If ctx is done, no new
// call starts, and its error ends the sequence in the same way.
//
// When the loop ends early, Map cancels the ctx of the calls still running
// and stops reading in, and the loop statement does not finish until every
// call and in itself have returned. A panic in fn or in is re-raised in the
// loop's goroutine as a *nursery.PanicError once all of them have returned.
// in is ranged over in a goroutine of Map's, never the loop's.
//
// Map panics if ctx, in or fn is nil. It takes the options WithLimit,
// WithUnordered and WithBuffer.
func Map[T, U any](ctx context.Context, in iter.Seq[T], fn func(context.Context, T) (U, error), opts ...Option) iter.Seq2[U, error] {
	checkMap("Map", ctx, in == nil, fn == nil)
	c := mapConfig("Map", opts)
	return func(yield func(U, error) bool) {
		runMap(ctx, c, func(push func(T) bool) error {
			for v := range in {
				if !push(v) {
					break
				}
			}
			return nil
		}, fn, yield)
	}
}

// MapStream is Map over a stream that may fail, such as the sequence of a
// Generate: an error of in ends the sequence after the results of every
// value in yielded before it, in either order, unless an error of fn came
// first. Everything else is as in Map.
func MapStream[T, U any](ctx context.Context, in iter.Seq2[T, error], fn func(context.Context, T) (U, error), opts ...Option) iter.Seq2[U, error] {
	checkMap("MapStream", ctx, in == nil, fn == nil)
	c := mapConfig("MapStream", opts)
	return func(yield func(U, error) bool) {
		runMap(ctx, c, func(push func(T) bool) error {
			for v, err := range in {
				if err != nil {
					return err
				}
				if !push(v) {
					break
				}
			}
			return nil
		}, fn, yield)
	}
}

func checkMap(name string, ctx context.Context, nilIn, nilFn bool) {
	switch {
	case ctx == nil:
		panic("asynciter: " + name + " called with a nil context")
	case nilIn:
		panic("asynciter: " + name + " called with a nil input sequence")
	case nilFn:
		panic("asynciter: " + name + " called with a nil function")
	}
}

func mapConfig(name string, opts []Option) config {
	c := parseOptions(name, optLimit|optUnordered|optBuffer, opts)
	if c.limit == 0 {
		c.limit = defaultLimit()
	}
	if c.buffer < 0 {
		c.buffer = 2*c.limit + 16
	}
	return c
}

// Slot phases, in the low two bits of a slot's word; the high bits hold the
// index of the item the phase is about.
const (
	phaseFree   = 0 // ready to take item index
	phaseFilled = 1 // holds the input of item index
	phaseDone   = 3 // holds the result of item index (input order only)
)

// A slot carries one item from the feeder to a worker and, in input order,
// its result from the worker to the loop.
type slot[T, U any] struct {
	word atomic.Uint64
	in   T
	out  U
	err  error
}

// A result is an unordered result.
type result[U any] struct {
	v   U
	err error
}

// mapper is the state of one run of a Map.
//
// The feeder (the nursery's body) ranges over the input and puts item i in
// slots[i&mask], once the slot is free for it and fewer than window items
// are read and not yet yielded. Workers claim items in order by bumping
// claimed, wait until their item is filled, and call fn. In input order the
// result goes back into the slot, which the loop frees for item i+len(slots)
// once it has yielded it; unordered, the worker frees the slot as soon as it
// has read the input, and appends the result to a queue under mu.
type mapper[T, U any] struct {
	slots     []slot[T, U]
	mask      uint64
	window    uint64
	limit     int
	unordered bool
	fn        func(context.Context, T) (U, error)

	_       pad
	claimed atomic.Uint64 // items claimed by workers
	_       pad
	yielded atomic.Uint64 // results yielded by the loop
	_       pad

	end     atomic.Uint64 // 1 + the number of items in the input, once known; 0 before
	inErr   error         // the input's error; written before end
	halted  atomic.Bool   // start no more calls beyond failAt
	failAt  atomic.Uint64 // index of the earliest failed item (input order)
	stopped atomic.Bool   // the loop has ended: stop everything
	over    atomic.Bool   // the nursery has returned

	feeder   waker
	consumer waker
	// The workers' wakers: the first nworkers are started. A worker that
	// waits for its item counts itself in idle first, and the feeder wakes
	// the idle workers after each fill: one of them is waiting for it.
	wakers   []waker
	nworkers atomic.Int32
	idle     atomic.Int32

	mu    sync.Mutex // guards queue
	queue []result[U]

	sup supervisor
}

func runMap[T, U any](ctx context.Context, c config, feed func(push func(T) bool) error, fn func(context.Context, T) (U, error), yield func(U, error) bool) {
	if err := ctx.Err(); err != nil {
		var zero U
		yield(zero, err)
		return
	}
	window := c.limit + c.buffer
	size := 1
	for size < window {
		size <<= 1
	}
	m := &mapper[T, U]{
		slots:     make([]slot[T, U], size),
		mask:      uint64(size - 1),
		window:    uint64(window),
		limit:     c.limit,
		unordered: c.unordered,
		fn:        fn,
		wakers:    make([]waker, c.limit),
	}
	m.feeder.init()
	m.consumer.init()
	m.failAt.Store(^uint64(0))
	for i := range m.slots {
		m.slots[i].word.Store(uint64(i) << 2)
	}
	m.sup.start(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		return m.feed(ctx, n, feed)
	}, func() {
		m.over.Store(true)
		m.consumer.wake()
	})
	if m.unordered {
		m.consumeUnordered(yield)
	} else {
		m.consumeOrdered(yield)
	}
}

// spins is how many times a goroutine yields the processor before it goes to
// sleep waiting for another: cheap work on the other side often completes
// meanwhile, which saves a sleep and a wake-up.
const spins = 2

// feed is the nursery's body: it ranges over the input and starts workers.
func (m *mapper[T, U]) feed(ctx context.Context, n *nursery.Nursery, feed func(push func(T) bool) error) error {
	normal := false
	defer func() {
		if !normal {
			m.stopAll() // the input panicked: wake everyone
		}
	}()
	var i uint64
	started := 0
	err := feed(func(v T) bool {
		if m.stopped.Load() || m.halted.Load() {
			return false
		}
		if started < m.limit {
			// One more worker for each of the first k items: a short
			// input starts no more goroutines than it has items.
			w := &m.wakers[started]
			w.init()
			started++
			m.nworkers.Store(int32(started))
			n.Go(func(ctx context.Context) error {
				m.work(ctx, w)
				return nil
			})
		}
		s := &m.slots[i&m.mask]
		want := i << 2
		if !m.waitFeed(s, want, i) {
			return false
		}
		s.in = v
		s.word.Store(want | phaseFilled)
		if m.idle.Load() > 0 {
			m.wakeWorkers()
		}
		i++
		return true
	})
	m.inErr = err
	m.end.Store(i + 1)
	m.wakeWorkers()
	m.consumer.wake()
	normal = true
	return nil
}

// waitFeed waits until slot s is free for the item whose word is want and the
// window has room for item i. It reports false if the feeding must stop.
func (m *mapper[T, U]) waitFeed(s *slot[T, U], want, i uint64) bool {
	ready := func() bool {
		return s.word.Load() == want && i-m.yielded.Load() < m.window
	}
	if ready() {
		return true
	}
	for range spins {
		runtime.Gosched()
		if ready() {
			return true
		}
	}
	for {
		m.feeder.prepare()
		if ready() {
			m.feeder.cancelSleep()
			return true
		}
		if m.stopped.Load() || m.halted.Load() {
			m.feeder.cancelSleep()
			return false
		}
		<-m.feeder.ch
	}
}

// work is a worker: it claims items in order until there are none left.
func (m *mapper[T, U]) work(ctx context.Context, w *waker) {
	normal := false
	defer func() {
		if !normal {
			m.stopAll() // fn panicked or called runtime.Goexit
		}
	}()
	done := ctx.Done()
	for {
		j := m.claimed.Add(1) - 1
		s := &m.slots[j&m.mask]
		if !m.waitFilled(s, j, w) {
			normal = true
			return
		}
		v := s.in
		var zeroT T
		s.in = zeroT
		if m.unordered {
			s.word.Store((j + uint64(len(m.slots))) << 2)
			m.feeder.wake()
		}
		var out U
		var err error
		select {
		case <-done:
			if m.stopped.Load() || (m.unordered && m.halted.Load()) {
				// Cancelled by this Map: the loop has ended, or (in
				// finishing order) an error already ends it.
				normal = true
				return
			}
			err = ctx.Err()
		default:
			if m.halted.Load() && j > m.failAt.Load() {
				normal = true
				return // a result nobody will yield
			}
			out, err = m.fn(ctx, v)
		}
		if err != nil {
			m.fail(j)
		}
		if m.unordered {
			m.mu.Lock()
			m.queue = append(m.queue, result[U]{out, err})
			m.mu.Unlock()
			if err != nil {
				m.sup.stop(ErrStopped) // cancel every call still running
			}
		} else {
			s.out, s.err = out, err
			s.word.Store(j<<2 | phaseDone)
		}
		m.consumer.wake()
	}
}

// waitFilled waits until slot s holds the input of item j. It reports false
// if there is no such item, or if the work must stop.
func (m *mapper[T, U]) waitFilled(s *slot[T, U], j uint64, w *waker) bool {
	want := j<<2 | phaseFilled
	gone := func() bool {
		if m.stopped.Load() || (m.halted.Load() && j > m.failAt.Load()) {
			return true
		}
		end := m.end.Load()
		return end != 0 && j >= end-1
	}
	if s.word.Load() == want {
		return true
	}
	for range spins {
		runtime.Gosched()
		if s.word.Load() == want {
			return true
		}
	}
	m.idle.Add(1)
	defer m.idle.Add(-1)
	for {
		w.prepare()
		if s.word.Load() == want {
			w.cancelSleep()
			return true
		}
		if gone() {
			w.cancelSleep()
			return false
		}
		<-w.ch
	}
}

// fail records that item j failed: no call starts for a later item.
func (m *mapper[T, U]) fail(j uint64) {
	for {
		f := m.failAt.Load()
		if j >= f || m.failAt.CompareAndSwap(f, j) {
			break
		}
	}
	m.halted.Store(true)
	m.wakeWorkers()
	m.feeder.wake()
}

func (m *mapper[T, U]) wakeWorkers() {
	for i := range m.nworkers.Load() {
		m.wakers[i].wake()
	}
}

// stopAll makes every goroutine of the run stop at its next step.
func (m *mapper[T, U]) stopAll() {
	m.stopped.Store(true)
	m.wakeWorkers()
	m.feeder.wake()
	m.consumer.wake()
}

// finish is deferred by the loop: it stops and joins everything, and
// re-raises a panic of theirs unless the loop body itself is panicking.
func (m *mapper[T, U]) finish(inBody *bool) {
	m.stopAll()
	m.sup.join()
	if !*inBody {
		m.sup.rethrow()
	}
}

// consumeOrdered is the loop's side in input order.
func (m *mapper[T, U]) consumeOrdered(yield func(U, error) bool) {
	inBody := false
	defer m.finish(&inBody)
	var y uint64
	for {
		s := &m.slots[y&m.mask]
		want := y<<2 | phaseDone
		if s.word.Load() != want && !m.waitDone(s, want, y) {
			m.endStream(yield, &inBody)
			return
		}
		v, err := s.out, s.err
		var zeroU U
		s.out, s.err = zeroU, nil
		y++
		s.word.Store((y - 1 + uint64(len(m.slots))) << 2)
		m.yielded.Store(y)
		m.feeder.wake()
		inBody = true
		if err != nil {
			m.stopAll()
			m.sup.stop(ErrStopped)
			yield(v, err)
			inBody = false
			return
		}
		if !yield(v, nil) {
			inBody = false
			return
		}
		inBody = false
	}
}

// waitDone waits until slot s holds the result of item y. It reports false
// if the sequence has ended before item y.
func (m *mapper[T, U]) waitDone(s *slot[T, U], want, y uint64) bool {
	ended := func() bool {
		end := m.end.Load()
		return (end != 0 && y >= end-1) || m.over.Load()
	}
	for range spins {
		runtime.Gosched()
		if s.word.Load() == want {
			return true
		}
	}
	for {
		m.consumer.prepare()
		if s.word.Load() == want {
			m.consumer.cancelSleep()
			return true
		}
		if ended() {
			m.consumer.cancelSleep()
			return s.word.Load() == want
		}
		<-m.consumer.ch
	}
}

// endStream ends the sequence once every result has been yielded: the
// nursery is joined, a panic re-raised, the input's error yielded last.
func (m *mapper[T, U]) endStream(yield func(U, error) bool, inBody *bool) {
	m.sup.join()
	m.sup.rethrow()
	err := m.sup.err
	if err == nil && m.end.Load() != 0 {
		err = m.inErr
	}
	if err != nil {
		var zero U
		*inBody = true
		yield(zero, err)
		*inBody = false
	}
}

// consumeUnordered is the loop's side in finishing order.
func (m *mapper[T, U]) consumeUnordered(yield func(U, error) bool) {
	inBody := false
	defer m.finish(&inBody)
	var batch []result[U]
	var y uint64
	for {
		m.mu.Lock()
		batch, m.queue = m.queue, batch[:0]
		m.mu.Unlock()
		if len(batch) == 0 {
			if !m.waitQueue(y) {
				m.endStream(yield, &inBody)
				return
			}
			continue
		}
		for i, r := range batch {
			var zero result[U]
			batch[i] = zero
			y++
			m.yielded.Store(y)
			m.feeder.wake()
			inBody = true
			if r.err != nil {
				m.stopAll()
				m.sup.stop(ErrStopped)
				yield(r.v, r.err)
				inBody = false
				return
			}
			if !yield(r.v, nil) {
				inBody = false
				return
			}
			inBody = false
		}
	}
}

// waitQueue waits until the queue has a result. It reports false if every
// item has been yielded (y of them) and none will come.
func (m *mapper[T, U]) waitQueue(y uint64) bool {
	has := func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.queue) > 0
	}
	for range spins {
		runtime.Gosched()
		if has() {
			return true
		}
	}
	for {
		m.consumer.prepare()
		if has() {
			m.consumer.cancelSleep()
			return true
		}
		end := m.end.Load()
		if (end != 0 && y >= end-1) || m.over.Load() {
			m.consumer.cancelSleep()
			return has()
		}
		<-m.consumer.ch
	}
}
