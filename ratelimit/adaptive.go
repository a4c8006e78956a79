package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// An Adaptive is a concurrency limit that finds its own value: the number
// of calls a downstream serves at once, plus a little headroom. It watches
// the calls it admits (how many are in flight, how many finish a second)
// and moves the limit down when the downstream loses capacity, up when it
// regains it; a downstream whose calls all take longer, with the same
// capacity, keeps its limit.
//
// Wrap each call to the downstream in Do, which refuses a call at once, with
// an error wrapping ErrExceedsLimit, when the limit is reached (WithMaxWait
// makes it wait a little instead):
//
//	lim := ratelimit.NewAdaptive()
//	err := lim.Do(ctx, func(ctx context.Context) error {
//		return call(ctx, req)
//	})
//	if errors.Is(err, ratelimit.ErrExceedsLimit) {
//		// shed the request: answer 503, or serve a fallback
//	}
//
// An Adaptive has the Semaphore's method set (Acquire, TryAcquire, Release),
// so nursery.WithSemaphore takes it and nested nurseries share one adaptive
// limit. Acquire waits, first come first served, until the limit admits the
// caller or ctx ends; nobody barges past a waiter.
//
// # What it measures
//
// Time is cut into windows of 200 completions, or of a second if fewer
// come (and at least 8), and at least four mean latencies long. A window
// gives the mean number of calls in flight L, the completions a second X,
// and by Little's law their mean latency L/X. From the windows come two
// estimates: the downstream's throughput when it is saturated, and the
// mean latency of a call that does not queue in it (its base latency).
// Their product is its capacity, the calls it serves at once; L minus X
// times the base latency is the number of calls queued in it.
//
// The limit is the capacity plus a headroom sized so that the downstream
// seldom waits for its next call: larger when calls arrive barely faster
// than they complete, one call when callers queue for the limit (Acquire,
// or Do under WithMaxWait) and take a freed unit at once. Under sustained
// overload the downstream then stays busy while its own queue stays short,
// and the rest is refused at once rather than turned into latency.
//
// The base latency is never the fastest call seen (one lucky call would
// pin it low); it is the mean latency of a window below the knee, where
// the throughput follows the calls in flight. Every large change of the
// limit is an experiment that says which side of the knee a window was on,
// and that tells a downstream that slowed from one that lost capacity; a
// window that straddles a change of the downstream is left out of them.
// When nothing has confirmed the base latency for 30 seconds, and the
// estimates have settled, the limit dips to 0.7 of the capacity for one
// window to measure it again.
//
// Do sees more than Acquire and Release: a call that returns nil is a
// completion; one that its deadline ended (an error matching
// context.DeadlineExceeded) is a drop, a sign of overload, and a window
// with drops cuts the limit by a tenth at least; other errors, the
// caller's cancellation and panics are not counted at all, as they say
// nothing of the downstream's capacity. A unit given back with Release
// counts as a completion.
//
// A limit decided by measurements follows the downstream only as fast as
// they come: it starts at its initial limit (20 unless WithInitialLimit),
// keeps it for the first window, and a downstream that completes fewer
// than 8 calls a second sees it move once per 8 calls.
//
// An Adaptive must be made with NewAdaptive. All its methods are safe for
// concurrent use. It starts no goroutine: it decides as calls complete.
type Adaptive struct {
	mu       sync.Mutex
	limit    int64 // the limit in force
	inflight int64
	head     *adaptiveWaiter // the queue, oldest first
	tail     *adaptiveWaiter
	waiting  int
	maxWait  time.Duration

	epoch time.Time // the times below are since epoch: time.Since is cheaper than time.Now
	win   adaptiveWindow
	ctl   adaptiveControl

	admitted, rejected, dropped uint64
	refusal                     *adaptiveError // Do's, for the limit in force: shared, so that refusing allocates nothing
}

// An adaptiveWaiter is one Acquire (or Do) in the queue.
type adaptiveWaiter struct {
	n          int64
	ready      chan struct{} // capacity 1: one send when dequeued
	status     waitStatus    // written under mu before the send on ready
	next, prev *adaptiveWaiter
}

// NewAdaptive returns an adaptive limit, at its initial limit (20 unless
// WithInitialLimit) with nothing in flight. It panics if an option is nil
// or the options contradict each other (a minimum above the maximum).
func NewAdaptive(opts ...AdaptiveOption) *Adaptive {
	c := adaptiveConfig{min: 1, max: 1000, initial: 20}
	for _, o := range opts {
		if o == nil {
			panic("ratelimit: NewAdaptive called with a nil AdaptiveOption")
		}
		o.applyAdaptive(&c)
	}
	if c.min > c.max {
		panic(fmt.Sprintf("ratelimit: NewAdaptive: the minimum limit %d is above the maximum %d", c.min, c.max))
	}
	c.initial = min(max(c.initial, c.min), c.max)
	a := &Adaptive{maxWait: c.maxWait, epoch: time.Now()}
	a.ctl.init(c)
	a.limit = a.ctl.enforced()
	a.win.reset(0)
	return a
}

// now returns the time since a was made.
func (a *Adaptive) now() time.Duration { return time.Since(a.epoch) }

func checkAdaptiveWeight(fn string, n int64) {
	if n < 0 {
		panic(fmt.Sprintf("ratelimit: Adaptive.%s(n=%d): n must not be negative", fn, n))
	}
}

// An adaptiveError is a refusal of an Adaptive: it says what the limit
// was, and wraps ErrExceedsLimit. n is 0 for Do's refusals.
type adaptiveError struct {
	fn       string
	n, limit int64
}

func (e *adaptiveError) Error() string {
	if e.n == 0 {
		return fmt.Sprintf("ratelimit: Adaptive.%s: limit of %d reached", e.fn, e.limit)
	}
	return fmt.Sprintf("ratelimit: Adaptive.%s(n=%d): more than the limit of %d", e.fn, e.n, e.limit)
}

func (e *adaptiveError) Unwrap() error { return ErrExceedsLimit }

// Acquire takes n units of the limit, waiting until the limit admits them
// or ctx is done; the caller must Release them. Waiters are served in
// order, and a caller does not pass a waiter even if it would fit.
//
// If ctx is done, Acquire returns ctx.Err() unchanged and holds nothing, as
// Semaphore.Acquire does. A request larger than the limit fails at once
// with an error wrapping ErrExceedsLimit, and so does a waiting one when
// the limit falls below it: weights up to the minimum limit (WithMinLimit)
// never fail so. Acquire panics if ctx is nil or n is negative.
func (a *Adaptive) Acquire(ctx context.Context, n int64) error {
	if ctx == nil {
		panic("ratelimit: Adaptive.Acquire called with a nil context")
	}
	checkAdaptiveWeight("Acquire", n)
	if done := ctx.Done(); done != nil {
		select {
		case <-done:
			return ctx.Err()
		default:
		}
	}
	a.mu.Lock()
	ok, err := a.tryTake(a.now(), n, "Acquire")
	if ok || err != nil {
		a.mu.Unlock()
		return err
	}
	w := a.push(n)
	a.mu.Unlock()
	return a.wait(ctx, w, nil)
}

// TryAcquire takes n units if the limit admits them now and nobody is
// queued, and reports whether it did. It panics if n is negative.
func (a *Adaptive) TryAcquire(n int64) bool {
	checkAdaptiveWeight("TryAcquire", n)
	a.mu.Lock()
	ok, _ := a.tryTake(a.now(), n, "TryAcquire")
	if !ok {
		a.rejected++
		a.win.rejects++
	}
	a.mu.Unlock()
	return ok
}

// Release gives back n units, and counts them as completed calls. It
// panics if that would release more than is held.
func (a *Adaptive) Release(n int64) {
	checkAdaptiveWeight("Release", n)
	a.mu.Lock()
	if a.inflight < n {
		h := a.inflight
		a.mu.Unlock()
		panic(fmt.Sprintf("ratelimit: Adaptive.Release(%d) with %d held: released more than held", n, h))
	}
	a.finish(a.now(), n, completion, 0)
	a.mu.Unlock()
}

// Do runs fn holding one unit of the limit, and returns fn's error. If the
// limit is reached it does not call fn: it returns an error wrapping
// ErrExceedsLimit, at once or, under WithMaxWait(d), after waiting its turn
// for up to d. If ctx is done first, Do returns ctx.Err() unchanged without
// calling fn.
//
// Do measures the call: its latency if fn returns nil, a drop if fn's error
// matches context.DeadlineExceeded; any other error, the caller's
// cancellation and a panic leave no trace in the measurements. The unit is
// given back however fn ends; a panic goes on up the caller's stack,
// unchanged. Do panics if ctx or fn is nil.
func (a *Adaptive) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	if fn == nil {
		panic("ratelimit: Adaptive.Do called with a nil function")
	}
	if ctx == nil {
		panic("ratelimit: Adaptive.Do called with a nil context")
	}
	if done := ctx.Done(); done != nil {
		select {
		case <-done:
			return ctx.Err()
		default:
		}
	}
	a.mu.Lock()
	now := a.now()
	if ok, _ := a.tryTake(now, 1, "Do"); !ok {
		if a.maxWait <= 0 {
			err := a.refuse()
			a.mu.Unlock()
			return err
		}
		w := a.push(1)
		a.mu.Unlock()
		timer := time.NewTimer(a.maxWait)
		err := a.wait(ctx, w, timer.C)
		timer.Stop()
		if err != nil {
			return err
		}
		now = a.now()
	} else {
		a.mu.Unlock()
	}
	ended := false
	defer func() {
		if !ended { // fn panicked
			a.mu.Lock()
			a.finish(a.now(), 1, ignored, now)
			a.mu.Unlock()
		}
	}()
	err := fn(ctx)
	ended = true
	kind := completion
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded):
		kind = drop
	default:
		kind = ignored
	}
	a.mu.Lock()
	a.finish(a.now(), 1, kind, now)
	a.mu.Unlock()
	return err
}

// refuse counts a call that Do turned away, and returns its error. It must
// be called with mu held.
func (a *Adaptive) refuse() error {
	a.rejected++
	a.win.rejects++
	if a.refusal == nil || a.refusal.limit != a.limit {
		a.refusal = &adaptiveError{fn: "Do", limit: a.limit}
	}
	return a.refusal
}

// tryTake takes n units if nobody is queued and they fit. It fails with an
// error if n is more than the limit. It must be called with mu held.
func (a *Adaptive) tryTake(now time.Duration, n int64, fn string) (bool, error) {
	a.win.arrivals++
	if n > a.limit {
		return false, a.tooLarge(fn, n)
	}
	if a.head != nil || a.inflight+n > a.limit {
		return false, nil
	}
	a.take(now, n)
	return true, nil
}

func (a *Adaptive) tooLarge(fn string, n int64) error {
	return &adaptiveError{fn: fn, n: n, limit: a.limit}
}

// take counts n more units in flight. It must be called with mu held.
func (a *Adaptive) take(now time.Duration, n int64) {
	a.win.advance(now, a.inflight, a.full(), a.head != nil)
	a.inflight += n
	a.admitted++
}

// full reports whether a call arriving now would be turned away or queued.
func (a *Adaptive) full() bool { return a.head != nil || a.inflight >= a.limit }

// The ways a unit comes back.
type finishKind uint8

const (
	completion finishKind = iota // a call the downstream served
	drop                         // a call cut short by its deadline
	ignored                      // a call that says nothing of the downstream
)

// finish gives back n units held since start (0 if unknown), counts
// them as kind says, closes the window if it is complete, and wakes the
// waiters that now fit. It must be called with mu held.
func (a *Adaptive) finish(now time.Duration, n int64, kind finishKind, start time.Duration) {
	a.win.advance(now, a.inflight, a.full(), a.head != nil)
	a.inflight -= n
	counted := now >= a.win.start
	switch kind {
	case completion:
		if counted {
			a.win.done += n
		}
	case drop:
		a.dropped++
		if counted {
			a.win.drops += n
		}
	case ignored:
		// Take back the call's share of the window's integral, so that
		// it neither counts as served nor lengthens the others.
		if counted {
			a.win.area -= float64(n) * (now - max(start, a.win.start)).Seconds()
			a.win.area = max(a.win.area, 0)
		}
	}
	if a.win.complete(now, a.ctl.latency()) {
		a.decide(now)
	}
	a.notify()
}

// decide closes the window, moves the limit as the controller says, and
// starts the next window after a settling time. It must be called with mu
// held.
func (a *Adaptive) decide(now time.Duration) {
	s := a.win.summary(now)
	a.ctl.update(now, s)
	if l := a.ctl.enforced(); l != a.limit {
		a.limit = l
		a.failTooLarge()
	}
	// Calls in flight across a change of the limit saw the old limit's
	// queue: the next window starts once they have had a round trip to
	// finish.
	a.win.reset(now + min(time.Duration(a.ctl.latency()*float64(time.Second)), time.Second))
}

// failTooLarge fails the waiters whose weight the limit no longer admits.
func (a *Adaptive) failTooLarge() {
	for w := a.head; w != nil; {
		next := w.next
		if w.n > a.limit {
			a.remove(w)
			w.status = failed
			w.ready <- struct{}{}
		}
		w = next
	}
}

// notify admits waiters from the head of the queue while they fit. It must
// be called with mu held.
func (a *Adaptive) notify() {
	for w := a.head; w != nil && a.inflight+w.n <= a.limit; w = a.head {
		a.remove(w)
		a.take(a.now(), w.n)
		w.status = granted
		w.ready <- struct{}{}
	}
}

func (a *Adaptive) push(n int64) *adaptiveWaiter {
	w := &adaptiveWaiter{n: n, ready: make(chan struct{}, 1)}
	a.win.advance(a.now(), a.inflight, a.full(), a.head != nil)
	w.prev = a.tail
	if a.tail == nil {
		a.head = w
	} else {
		a.tail.next = w
	}
	a.tail = w
	a.waiting++
	return w
}

func (a *Adaptive) remove(w *adaptiveWaiter) {
	if w.prev == nil {
		a.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		a.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next = nil, nil
	a.waiting--
}

// wait waits for w to be admitted, for ctx to end, or for expired to fire
// (Do's MaxWait); it returns nil once w holds its units.
func (a *Adaptive) wait(ctx context.Context, w *adaptiveWaiter, expired <-chan time.Time) error {
	select {
	case <-w.ready:
		if w.status == failed {
			a.mu.Lock()
			err := a.tooLarge("Acquire", w.n)
			a.mu.Unlock()
			return err
		}
		return nil
	case <-ctx.Done():
		a.mu.Lock()
		defer a.mu.Unlock()
		if !a.leave(w) {
			// Admitted as ctx ended: give the units back.
			now := a.now()
			a.finish(now, w.n, ignored, now)
		}
		return ctx.Err()
	case <-expired:
		a.mu.Lock()
		defer a.mu.Unlock()
		if !a.leave(w) {
			return nil // admitted as the wait expired: keep the unit
		}
		return a.refuse()
	}
}

// leave takes w out of the queue when its caller stops waiting, and
// reports whether w was still queued (or failed): false means it was
// admitted meanwhile and holds its units. It must be called with mu held.
func (a *Adaptive) leave(w *adaptiveWaiter) bool {
	switch w.status {
	case queued:
		wasHead := a.head == w
		a.remove(w)
		if wasHead {
			a.notify()
		}
		return true
	case granted:
		<-w.ready
		return false
	default: // failed
		<-w.ready
		return true
	}
}

// Limit returns the limit in force: the most units that can be held at
// once. It never falls below the minimum limit nor rises above the maximum.
func (a *Adaptive) Limit() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int(a.limit)
}

// Inflight returns the units held now. After the limit falls it can be
// above Limit until the holders release.
func (a *Adaptive) Inflight() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int(a.inflight)
}

// Waiting returns the number of Acquire and Do calls queued now.
func (a *Adaptive) Waiting() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.waiting
}

// AdaptiveStats is a snapshot of an Adaptive limit and of what it believes
// about the downstream, for metrics and dashboards. The estimates are zero
// until the first window has closed.
type AdaptiveStats struct {
	Limit    int // the limit in force
	Inflight int // units held
	Waiting  int // Acquire and Do calls queued

	// Capacity is the estimated number of calls the downstream serves at
	// once: Throughput times BaseLatency. The limit is Capacity plus a
	// headroom.
	Capacity float64
	// Throughput is the estimated completions per second of the
	// downstream when it is saturated.
	Throughput float64
	// BaseLatency is the estimated mean latency of a call that does not
	// queue in the downstream.
	BaseLatency time.Duration
	// Latency is the mean latency of the calls of the last window (in
	// flight per completion, by Little's law).
	Latency time.Duration
	// Queued is the estimated number of calls that queued in the
	// downstream during the last window.
	Queued float64

	// Admitted, Refused and Dropped count calls since NewAdaptive,
	// whatever units each takes: the calls admitted (Acquire, TryAcquire
	// or Do), the calls turned away (by Do and TryAcquire), and the calls
	// Do saw end by their deadline.
	Admitted, Refused, Dropped uint64
	// Windows counts the windows measured so far; the limit can change at
	// the end of each.
	Windows uint64
}

// Stats returns a snapshot of the limit, its load and its estimates.
func (a *Adaptive) Stats() AdaptiveStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := &a.ctl
	return AdaptiveStats{
		Limit:       int(a.limit),
		Inflight:    int(a.inflight),
		Waiting:     a.waiting,
		Capacity:    c.x * c.r0,
		Throughput:  c.x,
		BaseLatency: time.Duration(c.r0 * float64(time.Second)),
		Latency:     time.Duration(c.lastR * float64(time.Second)),
		Queued:      c.lastQ,
		Admitted:    a.admitted,
		Refused:     a.rejected,
		Dropped:     a.dropped,
		Windows:     c.windows,
	}
}
