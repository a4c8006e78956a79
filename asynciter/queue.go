package asynciter

import (
	"context"
	"fmt"
	"iter"
	"sync"
)

// A Queue is a first-in first-out queue for handing work between
// goroutines, like Python's asyncio.Queue, shutdown included (Python 3.13).
//
// It counts unfinished work: each Put adds one, each TaskDone takes one
// away, and Join waits until the count is zero, that is, until every item
// put has been got and declared done. Shutdown stops the queue: Put fails
// from then on, and Get fails once the queue is empty (at once, with
// immediate, which also discards what is left).
//
// A typical worker pool reads:
//
//	q := asynciter.NewQueue[Job](100)
//	nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
//		for range 4 {
//			n.Go(func(ctx context.Context) error {
//				for job, err := range q.All(ctx) {
//					if err != nil {
//						return err
//					}
//					handle(job)
//					q.TaskDone()
//				}
//				return nil // shut down and empty
//			})
//		}
//		for _, job := range jobs {
//			if err := q.Put(ctx, job); err != nil {
//				return err
//			}
//		}
//		err := q.Join(ctx) // every job handled
//		q.Shutdown(false)  // the workers' loops end
//		return err
//	})
//
// The zero Queue is an empty, unbounded queue, ready to use. A Queue must not
// be copied after first use. Every method is safe for concurrent use.
type Queue[T any] struct {
	mu         sync.Mutex
	size       int // 0: unbounded
	items      deque[T]
	unfinished int
	shutdown   bool
	changed    chan struct{} // closed when the queue changes; nil if nobody waits
}

// NewQueue returns an empty queue that holds at most size items, or an
// unbounded one for size 0 or Unbounded. 0 is unbounded because it is in
// asyncio (Queue(maxsize=0)), which Queue follows; it is not a rendezvous,
// as it is for OpenChannel: a Queue has none. Unbounded says the same as 0
// and cannot be misread; it is the spelling to prefer. An unbounded queue's
// Put never waits, and the queue gives its memory back as it drains.
//
// NewQueue panics if size is negative and not Unbounded.
func NewQueue[T any](size int) *Queue[T] {
	if size == Unbounded {
		size = 0
	}
	if size < 0 {
		panic(fmt.Sprintf("asynciter: NewQueue(%d): the size must be at least 1, or 0 or Unbounded for an unbounded queue", size))
	}
	return &Queue[T]{size: size}
}

// broadcast wakes every waiter. q.mu is held.
func (q *Queue[T]) broadcast() {
	if q.changed != nil { // made by the first waiter since the last change
		close(q.changed)
		q.changed = nil
	}
}

// await waits until the queue changes or ctx ends. q.mu is held on entry
// and on return.
func (q *Queue[T]) await(ctx context.Context) error {
	if q.changed == nil {
		q.changed = make(chan struct{})
	}
	ch := q.changed
	q.mu.Unlock()
	var err error
	select {
	case <-ch:
	case <-ctx.Done():
		err = ctx.Err()
	}
	q.mu.Lock()
	return err
}

func checkCtx(method string, ctx context.Context) {
	if ctx == nil {
		panic("asynciter: Queue." + method + " called with a nil context")
	}
}

// Put adds v at the end of the queue, waiting while the queue is full. It
// returns ErrQueueShutDown if the queue is shut down, also while Put waits,
// and ctx.Err() if ctx ends first; in both cases v was not added. Put checks
// ctx before anything else. It panics if ctx is nil.
func (q *Queue[T]) Put(ctx context.Context, v T) error {
	checkCtx("Put", ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if err, ok := q.putNow(v); ok {
			return err
		}
		if err := q.await(ctx); err != nil {
			return err
		}
	}
}

// TryPut adds v if the queue has room, and returns ErrWouldBlock if it is
// full, or ErrQueueShutDown if it is shut down.
func (q *Queue[T]) TryPut(v T) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err, ok := q.putNow(v); ok {
		return err
	}
	return ErrWouldBlock
}

func (q *Queue[T]) putNow(v T) (err error, ok bool) {
	if q.shutdown {
		return ErrQueueShutDown, true
	}
	if q.size > 0 && q.items.len() >= q.size {
		return nil, false
	}
	q.items.push(v)
	q.unfinished++
	q.broadcast()
	return nil, true
}

// Get removes and returns the item at the front of the queue, waiting while
// it is empty. It returns ErrQueueShutDown if the queue is shut down and
// empty (also while Get waits), and ctx.Err() if ctx ends first; in both
// cases nothing was removed. Get checks ctx before anything else. It panics
// if ctx is nil.
func (q *Queue[T]) Get(ctx context.Context) (T, error) {
	checkCtx("Get", ctx)
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if v, err, ok := q.getNow(); ok {
			return v, err
		}
		if err := q.await(ctx); err != nil {
			return zero, err
		}
	}
}

// TryGet removes and returns the item at the front of the queue if there is
// one, and returns ErrWouldBlock if it is empty, or ErrQueueShutDown if it is
// shut down and empty.
func (q *Queue[T]) TryGet() (T, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if v, err, ok := q.getNow(); ok {
		return v, err
	}
	var zero T
	return zero, ErrWouldBlock
}

func (q *Queue[T]) getNow() (v T, err error, ok bool) {
	if q.items.len() > 0 {
		v = q.items.pop()
		q.broadcast()
		return v, nil, true
	}
	if q.shutdown {
		return v, ErrQueueShutDown, true
	}
	return v, nil, false
}

// All returns the items got from q, one Get after the other, until the queue
// is shut down and empty: then the sequence ends without an error. An error
// of Get, ctx.Err(), is its last pair. Each item still needs its TaskDone.
func (q *Queue[T]) All(ctx context.Context) iter.Seq2[T, error] {
	checkCtx("All", ctx)
	return func(yield func(T, error) bool) {
		for {
			v, err := q.Get(ctx)
			if err == ErrQueueShutDown {
				return
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// Len returns the number of items in the queue.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.items.len()
}

// TaskDone declares that the work of an item got from the queue is done.
// When every item put has been declared done, Join returns. TaskDone returns
// ErrTaskDoneTooOften, and changes nothing, if it is called more times than
// items were put (less those a Shutdown(true) discarded).
func (q *Queue[T]) TaskDone() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.unfinished <= 0 {
		return ErrTaskDoneTooOften
	}
	q.unfinished--
	if q.unfinished == 0 {
		q.broadcast()
	}
	return nil
}

// Join waits until every item put in the queue has been got and declared
// done with TaskDone; on a fresh queue it returns at once. It returns
// ctx.Err() if ctx ends first. It panics if ctx is nil.
func (q *Queue[T]) Join(ctx context.Context) error {
	checkCtx("Join", ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.unfinished > 0 {
		if err := q.await(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Shutdown shuts the queue down, as Python's Queue.shutdown does. From then
// on Put and TryPut return ErrQueueShutDown, and so do the Puts waiting now.
// Get and TryGet go on returning the items left, and return
// ErrQueueShutDown once the queue is empty, as do the Gets waiting now.
//
// With immediate, the items left are discarded at once, and the count of
// unfinished work is reduced by their number, so that Join returns once the
// items already got are declared done (at once, if there are none).
// Shutdown may be called more than once; a later call with immediate still
// discards what is left.
func (q *Queue[T]) Shutdown(immediate bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	if immediate {
		for q.items.len() > 0 {
			q.items.pop()
			if q.unfinished > 0 {
				q.unfinished--
			}
		}
	}
	q.broadcast()
}
