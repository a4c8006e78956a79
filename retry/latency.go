package retry

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A Latency keeps the latencies of recent successful calls and gives a
// percentile of them, the delay after which HedgeAdaptive sends a hedge:
// The Tail at Scale suggests hedging "after the request has been
// outstanding for more than the 95th-percentile expected latency", which
// sends about 5% more requests and cuts the tail.
//
// The latency of a call runs from its first attempt's start to the success,
// so a hedged call reports the time its caller waited. Until enough calls
// were seen for the percentile to mean something (1/(1-p) of them: 20 for
// the 95th percentile), Percentile returns the initial delay.
//
// A Latency is safe for concurrent use; share one between the calls to the
// same service. Percentile never blocks; Observe sorts the window once in
// every window/16 observations.
//
// Make a Latency with NewLatency: it must know its first delay, which no
// default can guess, so the zero Latency is not valid, and its methods and
// HedgeAdaptive panic if given one.
type Latency struct {
	p          float64
	initial    time.Duration
	minSamples int
	every      int

	current atomic.Int64 // the percentile, as a time.Duration

	mu     sync.Mutex
	ring   []time.Duration
	n      int // observations so far
	fresh  int // observations since the percentile was computed
	sorted []time.Duration
}

// NewLatency returns a Latency that reports the p-th quantile (0.95 for the
// 95th percentile) of the latest window latencies, and initial until it has
// seen enough of them. It panics if p is not strictly between 0 and 1, if
// window < 1, or if initial < 0.
func NewLatency(p float64, window int, initial time.Duration) *Latency {
	if !(p > 0 && p < 1) {
		panic(fmt.Sprintf("retry: NewLatency(%v, %d, %v): p must be between 0 and 1, such as 0.95", p, window, initial))
	}
	if window < 1 {
		panic(fmt.Sprintf("retry: NewLatency(%v, %d, %v): the window must hold at least 1 latency", p, window, initial))
	}
	if initial < 0 {
		panic(fmt.Sprintf("retry: NewLatency(%v, %d, %v): the initial delay must not be negative", p, window, initial))
	}
	l := &Latency{
		p:          p,
		initial:    initial,
		minSamples: min(window, int(math.Ceil(1/(1-p)-1e-9))),
		every:      max(1, window/16),
		ring:       make([]time.Duration, 0, window),
	}
	l.current.Store(int64(initial))
	return l
}

// Percentile returns the p-th quantile of the recent latencies (nearest
// rank), or the initial delay while too few were observed.
func (l *Latency) Percentile() time.Duration {
	l.check()
	return time.Duration(l.current.Load())
}

// check panics if l is the zero Latency.
func (l *Latency) check() {
	if l.every == 0 {
		panic("retry: a Latency must be made by NewLatency")
	}
}

// Observe records the latency of a successful call. Do calls it for the
// calls made with HedgeAdaptive; call it yourself to feed the Latency from
// elsewhere too.
func (l *Latency) Observe(d time.Duration) {
	l.check()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) < cap(l.ring) {
		l.ring = append(l.ring, d)
	} else {
		l.ring[l.n%len(l.ring)] = d
	}
	l.n++
	l.fresh++
	if l.n < l.minSamples || l.fresh < l.every && l.n != l.minSamples {
		return
	}
	l.fresh = 0
	l.sorted = append(l.sorted[:0], l.ring...)
	slices.Sort(l.sorted)
	i := int(math.Ceil(l.p*float64(len(l.sorted)))) - 1
	l.current.Store(int64(l.sorted[max(i, 0)]))
}
