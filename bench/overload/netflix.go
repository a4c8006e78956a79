package overload

import (
	"math"
	"math/rand/v2"
	"time"
)

// Reference ports of Netflix concurrency-limits' Vegas, Gradient2 and AIMD
// limits and of its WindowedLimit, written from the formulas their source
// and README publish (Apache-2.0; no code copied), with Netflix's defaults
// except a minimum limit of 1 where Netflix's is 20, which could not
// protect a server of 8 or 16 workers.

// lg is Netflix's log10 step: max(1, floor(log10(x))).
func lg(x float64) float64 { return max(1, math.Floor(math.Log10(x))) }

// vegas is VegasLimit, updated on every sample.
type vegas struct {
	l, max        float64
	noLoad        time.Duration // rtt_noload; 0 until the first sample
	probeCount    int
	probeJitter   float64
	rng           *rand.Rand
	probeMultiple float64
}

func newVegas() *vegas {
	v := &vegas{l: 20, max: 1000, probeMultiple: 30, rng: rand.New(rand.NewPCG(1, 2))}
	v.resetProbe()
	return v
}

func (v *vegas) resetProbe() {
	v.probeCount = 0
	v.probeJitter = 0.5 + v.rng.Float64()/2
}

func (v *vegas) limit() float64 { return v.l }

func (v *vegas) sample(_ time.Time, rtt time.Duration, inflight int, dropped bool) {
	v.probeCount++
	if v.probeJitter*v.probeMultiple*v.l <= float64(v.probeCount) {
		v.resetProbe()
		v.noLoad = rtt
		return
	}
	if v.noLoad == 0 || rtt < v.noLoad {
		v.noLoad = rtt
		return
	}
	l := v.l
	queue := math.Ceil(l * (1 - float64(v.noLoad)/float64(rtt)))
	var next float64
	switch {
	case dropped:
		next = l - lg(l)
	case float64(inflight)*2 < l:
		return // limited by demand, not by the server
	default:
		alpha, beta, thr := 3*lg(l), 6*lg(l), lg(l)
		switch {
		case queue <= thr:
			next = l + beta
		case queue < alpha:
			next = l + lg(l)
		case queue > beta:
			next = l - lg(l)
		default:
			return
		}
	}
	v.l = min(max(next, 1), v.max) // smoothing 1.0: none
}

// expAvg is Netflix's ExpAvgMeasurement: a plain mean over the first
// warmup samples, then an exponential average of factor 2/(window+1).
type expAvg struct {
	value  float64
	count  int
	window int
	warmup int
}

func (e *expAvg) add(x float64) float64 {
	if e.count < e.warmup {
		e.count++
		e.value += (x - e.value) / float64(e.count)
	} else {
		f := 2 / float64(e.window+1)
		e.value = e.value*(1-f) + x*f
	}
	return e.value
}

// gradient2 is Gradient2Limit, fed once per window by windowed.
type gradient2 struct {
	l, min, max float64
	long        expAvg
	smoothing   float64
	tolerance   float64
	queueSize   float64
}

func newGradient2() *gradient2 {
	return &gradient2{l: 20, min: 1, max: 200, long: expAvg{window: 600, warmup: 10},
		smoothing: 0.2, tolerance: 1.5, queueSize: 4}
}

func (g *gradient2) limit() float64 { return g.l }

// sample ignores dropped, as Gradient2Limit does.
func (g *gradient2) sample(_ time.Time, rtt time.Duration, inflight int, _ bool) {
	short := float64(rtt)
	long := g.long.add(short)
	if long/short > 2 {
		g.long.value = long * 0.95 // recover from a long overload
		long = g.long.value
	}
	if float64(inflight) < g.l/2 {
		return
	}
	gradient := max(0.5, min(1.0, g.tolerance*long/short))
	next := g.l*gradient + g.queueSize
	next = g.l*(1-g.smoothing) + next*g.smoothing
	g.l = min(max(next, g.min), g.max)
}

// windowed is WindowedLimit: it passes its delegate the mean round trip,
// the most requests in flight and whether any was dropped, once per window
// of 1 s holding at least 10 samples.
type windowed struct {
	d           algorithm
	start       time.Time
	sum         time.Duration
	n           int
	maxInflight int
	dropped     bool
}

func newWindowed(d algorithm) *windowed { return &windowed{d: d} }

func (w *windowed) limit() float64 { return w.d.limit() }

func (w *windowed) sample(now time.Time, rtt time.Duration, inflight int, dropped bool) {
	if rtt < 100*time.Microsecond {
		return
	}
	if w.start.IsZero() {
		w.start = now
	}
	if dropped {
		w.dropped = true
	} else {
		w.sum += rtt
		w.n++
	}
	w.maxInflight = max(w.maxInflight, inflight)
	if now.Sub(w.start) >= time.Second {
		if w.n >= 10 {
			w.d.sample(now, w.sum/time.Duration(w.n), w.maxInflight, w.dropped)
		}
		*w = windowed{d: w.d}
	}
}

// aimd is AIMDLimit: back off by 0.9 on a drop (or a round trip past 5 s),
// add 1 otherwise while at least half the limit is in use.
type aimd struct{ l float64 }

func newAIMD() *aimd { return &aimd{l: 20} }

func (a *aimd) limit() float64 { return a.l }

func (a *aimd) sample(_ time.Time, rtt time.Duration, inflight int, dropped bool) {
	switch {
	case dropped || rtt > 5*time.Second:
		a.l = max(1, math.Floor(a.l*0.9))
	case float64(inflight)*2 >= a.l:
		a.l = min(a.l+1, 200)
	}
}
