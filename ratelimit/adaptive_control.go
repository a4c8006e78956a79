package ratelimit

import (
	"math"
	"time"
)

// The measurements of an Adaptive and the controller that turns them into
// a limit. Times are in seconds, as float64, from here on.

// A window collects what happened between two decisions: the integral of
// the units in flight over time (its area), the time the limit was full,
// and the completions, drops and refusals. Events before start (the
// settling time after a decision) are not counted.
type adaptiveWindow struct {
	start, last time.Duration // since the Adaptive's epoch
	area        float64       // unit-seconds in flight
	fullTime    float64       // seconds at the limit or with a queue
	queueTime   float64       // seconds with a queue
	done, drops int64
	rejects     int64
	arrivals    int64 // calls that asked for units
}

func (w *adaptiveWindow) reset(start time.Duration) {
	*w = adaptiveWindow{start: start, last: start}
}

// advance accounts for the time since the last event, during which
// inflight units were held and the limit was full or not.
func (w *adaptiveWindow) advance(now time.Duration, inflight int64, full, queued bool) {
	if now < w.start {
		return
	}
	dt := (now - max(w.last, w.start)).Seconds()
	w.area += float64(inflight) * dt
	if full {
		w.fullTime += dt
	}
	if queued {
		w.queueTime += dt
	}
	w.last = now
}

// The size of a window: windowSamples completions (or drops), or a second
// if fewer come and at least fewSamples did; and windowRoundTrips mean
// latencies long.
const (
	windowSamples    = 200
	fewSamples       = 8
	windowRoundTrips = 4
)

// complete reports whether the window holds enough to decide on, given the
// latest mean latency r.
func (w *adaptiveWindow) complete(now time.Duration, r float64) bool {
	elapsed := (now - w.start).Seconds()
	if elapsed < windowRoundTrips*r || elapsed <= 0 {
		return false
	}
	n := w.done + w.drops
	return n >= windowSamples || n >= fewSamples && elapsed >= 1
}

// An adaptiveSample is a closed window, summed up.
type adaptiveSample struct {
	l    float64 // mean units in flight
	x    float64 // completions per second
	r    float64 // mean latency, l/x (Little's law)
	full float64 // share of the window at the limit
	// rho is the completions per arrival: how soon a freed unit is taken
	// again. 0 if calls were queued, ready to take it at once.
	rho   float64
	done  int64
	drops int64
	// rejects counts calls turned away.
	rejects int64
}

func (w *adaptiveWindow) summary(now time.Duration) adaptiveSample {
	w.advance(now, 0, false, false) // nothing: the caller has accounted for the present
	d := (now - w.start).Seconds()
	s := adaptiveSample{l: w.area / d, x: float64(w.done) / d, full: w.fullTime / d,
		done: w.done, drops: w.drops, rejects: w.rejects}
	if w.queueTime < d/2 && w.arrivals > 0 {
		s.rho = float64(w.done) / float64(w.arrivals)
	}
	if w.done > 0 {
		s.r = w.area / float64(w.done)
	}
	return s
}

// The controller's constants.
const (
	// A change of the calls in flight by a fifth or more between two
	// windows is an experiment (see update).
	minExperiment = 0.2
	// A probe takes the limit to probeDepth times the capacity for one
	// window, when the base latency has gone unconfirmed for probeEvery.
	probeDepth = 0.7
	probeEvery = 30 * time.Second
	// The headroom keeps the downstream's idle share under idleShare, with
	// at least minHeadroom.
	idleShare   = 0.01
	minHeadroom = 1
	// The latency of a window of n calls is known to within noise/sqrt(n)
	// or so (a call's latency varies about as much as its mean).
	noise = 1.5
	// A periodic probe waits for stableWindows windows in a row that left
	// the estimates in place.
	stableWindows = 3
	// Below the knee, with calls turned away, the limit grows by growth a
	// window, until it finds the knee; then not before holdGrowth.
	growth     = 1.25
	holdGrowth = 2 * time.Second
	// A drop cuts the limit by dropBackoff.
	dropBackoff = 0.9
	// The limit moves gain of the way to its target, or all the way down
	// when the target is more than jump below it.
	gain = 0.5
	jump = 0.2
	// A window's mean latency below the base latency by lowerMargin
	// lowers it.
	lowerMargin = 0.1
)

// unexplained reports whether a change of the throughput by dx (in
// logarithms) is more than a change of the calls in flight by dl explains:
// of one downstream, the throughput moves the same way as the calls in
// flight, and at most as far (not at all above the knee, as far below it).
func unexplained(dl, dx float64) bool {
	return dx < min(0, dl)-jump || dx > max(0, dl)+jump
}

// follow moves an estimate toward a new measurement: half way, or all the
// way if they differ by more than jump.
func follow(est, m float64) float64 {
	if est == 0 || math.Abs(m-est) > jump*est {
		return m
	}
	return est + gain*(m-est)
}

// adaptiveControl holds the estimates and decides the limit.
type adaptiveControl struct {
	limit, min, max float64

	x  float64 // completions per second when saturated
	r0 float64 // mean latency without queueing

	prev struct {
		l, r, x   float64
		done      int64
		disturbed bool
		below     bool
		ok        bool
	}
	stable    int           // windows in a row that left the estimates in place
	growing   bool          // the window now measured follows an increase below the knee
	holdUntil time.Duration // no increases below the knee before
	verify    bool          // a cut is to be checked by a step up
	confirmed time.Duration // when r0 was last measured below the knee
	measured  bool          // whether it ever was
	probing   bool          // the window now measured is a probe
	reprobe   bool          // probe again at the next window

	lastR, lastQ float64
	windows      uint64
}

func (c *adaptiveControl) init(cfg adaptiveConfig) {
	c.min, c.max, c.limit = float64(cfg.min), float64(cfg.max), float64(cfg.initial)
}

// enforced is the limit in force: the controller's rounded.
func (c *adaptiveControl) enforced() int64 {
	return int64(math.Round(min(max(c.limit, c.min), c.max)))
}

// latency returns the latest mean latency, in seconds.
func (c *adaptiveControl) latency() float64 { return c.lastR }

// headroom is what the limit allows above the capacity c, so that the
// downstream seldom idles between a completion and the next call, and
// calls hardly queue in it. Calls arrive (at random) rho times as often as
// the downstream completes one; at the limit, the units freed and not yet
// taken again then grow as a random walk, past k with probability
// rho^k. A headroom of q keeps the downstream's idle workers at
// rho^(q+1)/(1-rho) on average: q is the least that keeps them under
// idleShare of the capacity. A queue of waiting calls takes a freed unit at
// once (rho 0): one unit of headroom is then enough.
func headroom(c, rho float64) float64 {
	hi := 2 + c/4
	switch {
	case rho <= 0:
		return minHeadroom
	case rho >= 0.95:
		return hi
	}
	q := math.Log(idleShare*c*(1-rho))/math.Log(rho) - 1
	return min(max(q, minHeadroom), hi)
}

// update takes the summary of a window and moves the limit.
func (c *adaptiveControl) update(now time.Duration, s adaptiveSample) {
	c.windows++
	old := c.limit
	probed := c.probing
	c.probing = false
	if s.done == 0 {
		if s.drops > 0 {
			c.limit = max(c.min, c.limit*dropBackoff)
		}
		c.prev.ok = false
		c.stable = 0
		return
	}
	l, x, r := s.l, s.x, s.r
	c.lastR = r
	binding := s.full > 0.5 || s.rejects > 0

	// A window whose throughput moved more than the calls in flight
	// explain straddles a change of the downstream: it is a mixture of
	// two. The limit holds (unless calls were dropped) until a window of
	// the new downstream shows what changed, and no experiment compares
	// this one with another.
	if c.prev.ok && !c.prev.disturbed && unexplained(math.Log(l/c.prev.l), math.Log(x/c.prev.x)) {
		if s.drops > 0 {
			c.limit = max(c.min, c.limit*dropBackoff)
		}
		c.prev.disturbed, c.prev.ok = true, true
		c.stable = 0
		c.probing, c.growing = false, false
		return
	}

	// A window's mean latency bounds the base latency from above: one
	// clearly below it shows the base latency fell. It is measured again
	// soon, as this window may have queued too.
	lowered := false
	if c.r0 == 0 || r < c.r0*(1-lowerMargin) {
		c.r0 = r
		lowered = true
	}
	// An experiment: the calls in flight moved enough since the last
	// window to show which side of the knee the lower of the two was on.
	// Above the knee the throughput stays put as they move (the latency
	// follows them); below it, it follows them. So a throughput clearly
	// lower in the lower window puts that window below the knee, and its
	// latency is the base latency. A lower window with a clearly higher
	// latency says the downstream itself changed in between: no
	// conclusion.
	sawKnee := false
	if c.prev.ok && !c.prev.disturbed {
		if dl := math.Log(l / c.prev.l); math.Abs(dl) >= minExperiment {
			lowR, highR, lowX, highX := r, c.prev.r, x, c.prev.x
			if dl > 0 {
				lowR, highR, lowX, highX = highR, lowR, highX, lowX
			}
			margin := lowerMargin + noise/math.Sqrt(float64(min(s.done, c.prev.done)))
			if math.Log(highX/lowX) > margin && lowR <= highR*(1+margin) {
				c.r0 = lowR
				sawKnee = true
			}
		}
	}
	switch {
	case sawKnee, probed && !lowered:
		// The base latency was measured below the knee, or a probe
		// found nothing lower: it stands.
		c.confirmed, c.measured, c.reprobe = now, true, false
	case lowered:
		// Lowered by a window that may have queued itself: measure
		// again below the new capacity.
		c.reprobe = true
	}
	q := l - x*c.r0
	c.lastQ = q
	// Saturated: the latency is above the base latency by more than the
	// noise; x is then what the downstream can do.
	sat := r > c.r0*(1+lowerMargin+noise/math.Sqrt(float64(s.done)))
	before := c.x
	if sat || x > c.x {
		c.x = follow(c.x, x)
	}
	capacity := c.x * c.r0
	h := headroom(capacity, s.rho)
	target := capacity + h
	// Below the knee: fewer calls queue than half the headroom.
	below := binding && q < h/2
	grew := c.growing
	c.growing = false
	switch {
	case s.drops > 0:
	case !binding:
		// Limited by demand: the window says little of the limit.
		target = max(target, min(c.limit, l+headroom(l, s.rho)))
	case probed:
		// The probe's window was below the capacity on purpose.
	case grew && sat:
		// The last increase made calls queue: it found the knee. No
		// more for a while.
		c.holdUntil = now + holdGrowth
	case grew, // and calls did not queue: below the knee still
		below && c.prev.below && now >= c.holdUntil,
		c.verify && c.stable >= 2:
		// Below the knee, with calls turned away: the downstream can
		// take more. Grow until calls queue in it. After a cut, one
		// step up checks that the cut was not too deep.
		target = max(target, c.limit*growth)
		c.growing, c.verify = true, false
	}
	if lowered || math.Abs(c.x-before) > jump*before || math.Abs(target-c.limit) > jump*c.limit {
		c.stable = 0
	} else {
		c.stable++
	}
	if target < c.limit*(1-jump) || c.growing || probed {
		// Down at once, up by steps as the knee is sought, and back
		// at once from a probe.
		if target < c.limit*(1-jump) {
			c.verify = true
		}
		c.limit = target
	} else {
		c.limit += gain * (target - c.limit)
	}
	if s.drops > 0 {
		// Calls ended by their deadline: overload that the latency
		// may not show yet (a deadline shorter than the queue).
		c.limit = min(c.limit, old*dropBackoff)
	}
	c.limit = min(max(c.limit, c.min), c.max)

	// Probe when the base latency went unconfirmed too long (once the
	// estimates are steady), or was lowered by a window that queued.
	if c.reprobe || !c.measured || now-c.confirmed >= probeEvery && c.stable >= stableWindows {
		if binding && capacity*probeDepth >= c.min+1 {
			c.reprobe = false
			c.limit = max(c.min, capacity*probeDepth)
			c.probing = true
			if !c.measured {
				c.confirmed, c.measured = now, true
			}
		}
	}
	c.prev.l, c.prev.r, c.prev.x, c.prev.done, c.prev.disturbed, c.prev.below, c.prev.ok = l, r, x, s.done, false, below, true
}
