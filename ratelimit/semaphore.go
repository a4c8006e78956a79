package ratelimit

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// A Semaphore bounds how much of a resource is in use at once: callers
// acquire a weight (a number of tokens) before they use it and release it
// afterwards. It is asyncio.Semaphore and trio.CapacityLimiter, with the
// method set of golang.org/x/sync/semaphore.Weighted.
//
// Waiters are served first come, first served, and nobody barges: while
// anyone is waiting, TryAcquire fails and Acquire queues, even for a request
// small enough to fit. A large request at the head of the queue therefore
// holds back smaller ones behind it, which is what keeps it from starving.
//
// A Semaphore must be made with NewSemaphore; the zero value is not usable.
// All methods are safe for concurrent use.
type Semaphore struct {
	// state holds the tokens in use, shifted left by one, and in its low
	// bit whether anyone is queued. While the bit is clear, Acquire and
	// Release change state with one compare-and-swap and never touch mu;
	// while it is set, only holders of mu change it, so that a waiter is
	// never overtaken or forgotten.
	state atomic.Uint64
	size  atomic.Int64

	mu         sync.Mutex
	head, tail *waiter // the queue, oldest first
	waiting    int
	free       *waiter // waiters to reuse, linked by nextFree
	nfree      int
}

const queuedBit = 1

// maxCapacity keeps held<<1 inside a uint64 with room for one request more.
const maxCapacity = math.MaxInt64 >> 2

func held(s uint64) int64 { return int64(s >> 1) }

// fits reports whether n more tokens fit beside those held in state st
// under the capacity size. It subtracts rather than adds, so that no n, up
// to math.MaxInt64, can overflow into a small sum that fits.
func fits(st uint64, n, size int64) bool { return n <= size-held(st) }

type waitStatus uint8

const (
	queued  waitStatus = iota // in the queue
	granted                   // dequeued, tokens counted as held
	failed                    // dequeued by a Resize below its weight
)

// A waiter is one Acquire in the queue. Each Semaphore keeps the waiters
// it has made, channel included, for reuse, so that an Acquire that waits
// allocates nothing in a steady state. (Not a sync.Pool: a channel made
// inside a synctest bubble must not be used outside it, nor one made
// outside inside it.)
type waiter struct {
	n          int64
	ready      chan struct{} // capacity 1; one send when dequeued
	next, prev *waiter
	status     waitStatus // written under mu before the send on ready

	// inUse is true from the waiter's enqueueing until its Acquire has
	// received from ready; a waiter on the free list is reused only once
	// its last Acquire is done with it.
	inUse    atomic.Bool
	nextFree *waiter
}

// maxFree bounds the waiters kept for reuse.
const maxFree = 8

// NewSemaphore returns a semaphore with a capacity of n tokens, all free.
// It panics if n is negative. A capacity of 0 admits nobody until a Resize.
func NewSemaphore(n int64) *Semaphore {
	checkCapacity("NewSemaphore", n)
	s := &Semaphore{}
	s.size.Store(n)
	return s
}

func checkCapacity(fn string, n int64) {
	if n < 0 {
		panic(fmt.Sprintf("ratelimit: %s(%d): the capacity must not be negative", fn, n))
	}
	if n > maxCapacity {
		panic(fmt.Sprintf("ratelimit: %s(%d): the capacity must be at most %d", fn, n, int64(maxCapacity)))
	}
}

func checkWeight(fn string, n int64) {
	if n < 0 {
		panic(fmt.Sprintf("ratelimit: Semaphore.%s(n=%d): n must not be negative", fn, n))
	}
}

// Acquire takes n tokens, waiting until they are free or ctx is done. It
// returns nil once it holds them; the caller must Release them.
//
// If ctx is done, Acquire returns ctx.Err() unchanged (so err ==
// context.Canceled works) and holds nothing, also when it could have taken
// the tokens at once: ctx becoming done has happened before the acquisition,
// whether before the call or while it waited. If the tokens were handed to
// it in the same instant as ctx ended, it gives them back, waking whoever
// can go next, and still returns ctx.Err().
//
// A request larger than the capacity can never be granted, so instead of
// waiting forever Acquire fails at once with an error wrapping
// ErrExceedsCapacity; a waiting request fails the same way when Resize
// makes the capacity smaller than it. Acquire panics if ctx is nil or n is
// negative. Acquire(ctx, 0) succeeds at once unless someone is queued, in
// which case it waits its turn like everyone else.
func (s *Semaphore) Acquire(ctx context.Context, n int64) error {
	if ctx == nil {
		panic("ratelimit: Semaphore.Acquire called with a nil context")
	}
	checkWeight("Acquire", n)
	if done := ctx.Done(); done != nil {
		select {
		case <-done:
			return ctx.Err()
		default:
		}
	}
	if st := s.state.Load(); st&queuedBit == 0 && fits(st, n, s.size.Load()) &&
		s.state.CompareAndSwap(st, st+uint64(n)<<1) {
		return nil
	}
	return s.acquireSlow(ctx, n)
}

func (s *Semaphore) acquireSlow(ctx context.Context, n int64) error {
	// Before queueing, let the other goroutines run once: a holder that is
	// about to release on another core usually does so meanwhile, and the
	// tokens are then taken without parking this goroutine. Nobody is
	// overtaken, since this caller is not in the queue yet.
	for range 2 {
		if size := s.size.Load(); n > size {
			return exceedsCapacity(n, size)
		}
		if s.tryTake(n) {
			return nil
		}
		if s.state.Load()&queuedBit != 0 {
			break // others are queued: join them
		}
		runtime.Gosched()
	}

	s.mu.Lock()
	size := s.size.Load()
	if n > size {
		s.mu.Unlock()
		return exceedsCapacity(n, size)
	}
	if s.tryTake(n) {
		s.mu.Unlock()
		return nil
	}
	w := s.getWaiter()
	w.n, w.status = n, queued
	s.push(w)
	s.setQueued()
	// A Release without the lock may have freed tokens between tryTake and
	// setQueued; give them to the queue now that the bit stops such
	// Releases.
	s.notify()
	s.mu.Unlock()

	done := ctx.Done()
	if done == nil {
		<-w.ready
		return s.finish(w, n)
	}
	select {
	case <-w.ready:
		return s.finish(w, n)
	case <-done:
	}
	err := ctx.Err()
	s.mu.Lock()
	switch w.status {
	case queued:
		wasHead := s.head == w
		s.remove(w)
		s.putWaiter(w)
		if wasHead {
			// The next waiter may fit where this one did not.
			s.notify()
		}
	case granted:
		// The tokens came as ctx ended: give them back to the next.
		<-w.ready
		s.add(-w.n)
		s.notify()
	case failed:
		<-w.ready
	}
	w.inUse.Store(false)
	s.mu.Unlock()
	return err
}

// finish ends an Acquire whose waiter was dequeued and has received.
func (s *Semaphore) finish(w *waiter, n int64) error {
	st := w.status
	w.inUse.Store(false) // w may be reused from here on
	if st == failed {
		return exceedsCapacity(n, s.size.Load())
	}
	return nil
}

// getWaiter returns a waiter that no Acquire is using. It must be called
// with mu held.
func (s *Semaphore) getWaiter() *waiter {
	for p := &s.free; *p != nil; p = &(*p).nextFree {
		if w := *p; !w.inUse.Load() {
			*p, w.nextFree = w.nextFree, nil
			s.nfree--
			w.inUse.Store(true)
			return w
		}
	}
	w := &waiter{ready: make(chan struct{}, 1)}
	w.inUse.Store(true)
	return w
}

// putWaiter keeps a dequeued waiter for reuse, if there is room. Its
// Acquire may still be about to receive; getWaiter skips it until then. It
// must be called with mu held.
func (s *Semaphore) putWaiter(w *waiter) {
	if s.nfree < maxFree {
		w.nextFree = s.free
		s.free = w
		s.nfree++
	}
}

func exceedsCapacity(n, size int64) error {
	return errorf(ErrExceedsCapacity, "Semaphore.Acquire(n=%d) exceeds the semaphore's capacity of %d", n, size)
}

// tryTake takes n tokens if nobody is queued and they fit.
func (s *Semaphore) tryTake(n int64) bool {
	for {
		st := s.state.Load()
		if st&queuedBit != 0 || !fits(st, n, s.size.Load()) {
			return false
		}
		if s.state.CompareAndSwap(st, st+uint64(n)<<1) {
			return true
		}
	}
}

// add changes the tokens held by d. It must be called with mu held.
func (s *Semaphore) add(d int64) {
	for {
		st := s.state.Load()
		if s.state.CompareAndSwap(st, uint64(int64(st)+d<<1)) {
			return
		}
	}
}

func (s *Semaphore) setQueued() {
	for {
		st := s.state.Load()
		if st&queuedBit != 0 || s.state.CompareAndSwap(st, st|queuedBit) {
			return
		}
	}
}

// notify hands tokens to waiters from the head of the queue for as long as
// the head's request fits. It stops at the first that does not fit rather
// than look for a smaller one behind it: a big request would starve
// otherwise. It must be called with mu held.
func (s *Semaphore) notify() {
	size := s.size.Load()
	for w := s.head; w != nil; w = s.head {
		if !fits(s.state.Load(), w.n, size) {
			break
		}
		s.add(w.n)
		s.remove(w)
		w.status = granted
		w.ready <- struct{}{}
		s.putWaiter(w)
	}
	if s.head == nil {
		for {
			st := s.state.Load()
			if st&queuedBit == 0 || s.state.CompareAndSwap(st, st&^queuedBit) {
				break
			}
		}
	}
}

func (s *Semaphore) push(w *waiter) {
	w.prev, w.next = s.tail, nil
	if s.tail == nil {
		s.head = w
	} else {
		s.tail.next = w
	}
	s.tail = w
	s.waiting++
}

func (s *Semaphore) remove(w *waiter) {
	if w.prev == nil {
		s.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		s.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next = nil, nil
	s.waiting--
}

// TryAcquire takes n tokens if it can without waiting, and reports whether
// it did. It fails while anyone is queued, even if n tokens are free: the
// queue goes first. It panics if n is negative.
func (s *Semaphore) TryAcquire(n int64) bool {
	checkWeight("TryAcquire", n)
	return s.tryTake(n)
}

// Release gives back n tokens and wakes the waiters that now fit, in
// order. It panics if that would release more tokens than are held: a
// Release without its Acquire is a bug that would silently raise the
// capacity.
func (s *Semaphore) Release(n int64) {
	checkWeight("Release", n)
	for {
		st := s.state.Load()
		if st&queuedBit != 0 {
			s.releaseSlow(n)
			return
		}
		if held(st) < n {
			panic(overRelease(n, held(st)))
		}
		if s.state.CompareAndSwap(st, st-uint64(n)<<1) {
			return
		}
	}
}

func (s *Semaphore) releaseSlow(n int64) {
	s.mu.Lock()
	if h := held(s.state.Load()); h < n {
		s.mu.Unlock()
		panic(overRelease(n, h))
	}
	s.add(-n)
	s.notify()
	s.mu.Unlock()
}

func overRelease(n, h int64) string {
	return fmt.Sprintf("ratelimit: Semaphore.Release(%d) with %d held: released more than held", n, h)
}

// Do runs fn holding n tokens, as Python's `async with sem:` runs its block:
// it acquires them (see Acquire, whose error it returns without calling fn),
// calls fn(ctx), and releases them when fn returns or panics. A panic in fn
// goes on up the caller's stack, unchanged, once the tokens are back.
// Do panics if ctx or fn is nil or n is negative.
func (s *Semaphore) Do(ctx context.Context, n int64, fn func(ctx context.Context) error) error {
	if fn == nil {
		panic("ratelimit: Semaphore.Do called with a nil function")
	}
	if ctx == nil {
		panic("ratelimit: Semaphore.Do called with a nil context")
	}
	if err := s.Acquire(ctx, n); err != nil {
		return err
	}
	defer s.Release(n)
	return fn(ctx)
}

// Resize changes the capacity to n tokens, at once. If it grows, waiters
// that now fit are woken, in order. If it shrinks, holders keep what they
// hold and nobody new is admitted until the tokens in use fall below the
// new capacity; waiters whose request is now larger than the whole capacity
// fail with ErrExceedsCapacity. Resize panics if n is negative.
func (s *Semaphore) Resize(n int64) {
	checkCapacity("Semaphore.Resize", n)
	s.mu.Lock()
	s.size.Store(n)
	for w := s.head; w != nil; {
		next := w.next
		if w.n > n {
			s.remove(w)
			w.status = failed
			w.ready <- struct{}{}
			s.putWaiter(w)
		}
		w = next
	}
	s.notify()
	s.mu.Unlock()
}

// Capacity returns the capacity: the most tokens that can be held at once.
func (s *Semaphore) Capacity() int64 { return s.size.Load() }

// Held returns the number of tokens held now. After a Resize that shrank
// the capacity it can be larger than Capacity, until holders release.
func (s *Semaphore) Held() int64 { return held(s.state.Load()) }

// Available returns the number of tokens neither held nor beyond the
// capacity: what a request could take now if nobody were queued. It is 0,
// never negative, while a shrunk capacity is still oversubscribed.
func (s *Semaphore) Available() int64 {
	return max(0, s.size.Load()-held(s.state.Load()))
}

// Waiting returns the number of Acquire calls queued now.
func (s *Semaphore) Waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting
}
