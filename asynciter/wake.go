package asynciter

import "sync/atomic"

// A waker lets one goroutine sleep until another has changed something it
// waits for, without a lock on either side's fast path.
//
// The sleeper announces itself (sleeping = 1), checks its condition once
// more, and only then blocks on ch. The other side first makes the
// condition true, then looks at sleeping. Both are sequentially consistent
// atomic operations, so at least one of them sees the other's write: the
// sleeper sees the condition, or the waker sees the sleeper and sends it a
// token. A token that arrives after the sleeper found its condition true by
// itself is stale; it costs the next sleep one spurious wake-up, which is why
// every sleep re-checks its condition in a loop.
//
// Sleeping is on a channel, never on a mutex, so a goroutine asleep in a
// waker is durably blocked for testing/synctest.
type waker struct {
	sleeping atomic.Int32
	ch       chan struct{} // capacity 1
}

func newWaker() *waker { return &waker{ch: make(chan struct{}, 1)} }

// init readies a waker embedded in a larger struct.
func (w *waker) init() { w.ch = make(chan struct{}, 1) }

// prepare announces that the caller is about to sleep. The caller must check
// its condition after prepare and before sleeping on ch.
func (w *waker) prepare() { w.sleeping.Store(1) }

// cancelSleep withdraws prepare when the condition turned out to be true.
func (w *waker) cancelSleep() { w.sleeping.Store(0) }

// wake wakes the sleeper, if there is one.
func (w *waker) wake() {
	if w.sleeping.Load() != 0 && w.sleeping.CompareAndSwap(1, 0) {
		select {
		case w.ch <- struct{}{}:
		default:
		}
	}
}

// pad keeps fields written by different goroutines on different cache lines.
type pad [64]byte
