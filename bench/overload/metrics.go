package overload

import (
	"math"
	"slices"
	"time"
)

// The scored part of each phase: 5 s after each change are left out of
// the per-phase figures (the convergence figures cover them).
var phases = [3][2]time.Duration{
	{5 * time.Second, 30 * time.Second},
	{35 * time.Second, 60 * time.Second},
	{65 * time.Second, 90 * time.Second},
}

// metrics are the figures of one run.
type metrics struct {
	good      [3]int     // completions within the SLO, per phase
	goodput   [3]float64 // the same per second
	p50, p99  float64    // ms, over the completions in the phases
	rejected  float64    // share of the offered requests
	timedOut  float64
	shed      float64 // share refused by the server (variant C)
	wasted    int     // server work on requests whose client gave up
	convDown  float64 // s after the drop until the limit stays in band; -1 never; NaN if no limit
	convUp    float64
	band      float64    // variant B: seconds outside the band in [30, 90)
	cv        [3]float64 // of the limit over the last 15 s of each phase
	overshoot float64    // max limit / (W+4) over [60, 90)
	goodConv  [2]float64 // s after each change until 1 s goodput is back (see goodputConvergence)
	perSecond []float64  // good completions in each second, by completion
	p99Second []float64  // p99 of the completions in each second, ms
}

func measure(r *run, sc *scenario, slo time.Duration) metrics {
	var m metrics
	secs := int(sc.duration / time.Second)
	m.perSecond = make([]float64, secs)
	bySecond := make([][]float64, secs)
	var lat []float64
	offered := float64(len(r.records))
	var rej, to, sh int
	for _, rec := range r.records {
		switch rec.outcome {
		case rejected:
			rej++
		case timedOut:
			to++
		case shed:
			sh++
		case completed:
			l := rec.end - rec.arrival
			ms := float64(l) / float64(time.Millisecond)
			if s := int(rec.end / time.Second); s < secs {
				bySecond[s] = append(bySecond[s], ms)
				if l <= slo {
					m.perSecond[s]++
				}
			}
			for p, ph := range phases {
				if rec.end >= ph[0] && rec.end < ph[1] {
					lat = append(lat, ms)
					if l <= slo {
						m.good[p]++
					}
				}
			}
		}
	}
	for p, ph := range phases {
		m.goodput[p] = float64(m.good[p]) / (ph[1] - ph[0]).Seconds()
	}
	m.p50, m.p99 = percentile(lat, 0.50), percentile(lat, 0.99)
	m.rejected, m.timedOut, m.shed = float64(rej)/offered, float64(to)/offered, float64(sh)/offered
	m.wasted = r.wastedSkip + r.wastedWork
	m.p99Second = make([]float64, secs)
	for s := range bySecond {
		m.p99Second[s] = percentile(bySecond[s], 0.99)
	}

	lim := r.limits
	m.convDown, m.convUp = nan, nan
	if len(lim) > 0 && !math.IsNaN(lim[0]) {
		band := func(t int) (lo, hi float64) {
			w := float64(sc.workers(time.Duration(t)*time.Second) + 4)
			return 0.75 * w, 1.5 * w
		}
		conv := func(change int) float64 {
			for t := change; t+2 < len(lim); t++ {
				ok := true
				for k := t; k < t+3; k++ {
					lo, hi := band(k)
					ok = ok && lim[k] >= lo && lim[k] <= hi
				}
				if ok {
					return float64(t - change)
				}
			}
			return -1
		}
		m.convDown, m.convUp = conv(30), conv(60)
		for t := 30; t < 90 && t < len(lim); t++ {
			if lo, hi := band(t); lim[t] < lo || lim[t] > hi {
				m.band++
			}
		}
		for p := range 3 {
			end := int(phases[p][1] / time.Second)
			m.cv[p] = cv(lim[end-15 : end])
		}
		for t := 60; t < 90 && t < len(lim); t++ {
			m.overshoot = max(m.overshoot, lim[t]/float64(sc.workers(time.Duration(t)*time.Second)+4))
		}
	}
	return m
}

// goodputConvergence returns the seconds after change until, for 3 seconds
// in a row, the goodput of a second is at least 90 % of the oracle's for
// the phase and its p99 at most 1.25 times the oracle's; -1 if never.
func goodputConvergence(m *metrics, change, phase int, envelope float64, oracleP99 float64) float64 {
	for t := change; t+2 < len(m.perSecond) && t < change+30; t++ {
		ok := true
		for k := t; k < t+3; k++ {
			ok = ok && m.perSecond[k] >= 0.9*envelope && m.p99Second[k] <= 1.25*oracleP99
		}
		if ok {
			return float64(t - change)
		}
	}
	return -1
}

func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return nan
	}
	slices.Sort(xs)
	return xs[min(len(xs)-1, int(q*float64(len(xs))))]
}

func cv(xs []float64) float64 {
	var s, ss float64
	for _, x := range xs {
		s += x
	}
	mean := s / float64(len(xs))
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	if mean == 0 {
		return 0
	}
	return math.Sqrt(ss/float64(len(xs))) / mean
}

func median(xs []float64) float64 {
	ys := slices.Clone(xs)
	ys = slices.DeleteFunc(ys, math.IsNaN)
	if len(ys) == 0 {
		return nan
	}
	slices.Sort(ys)
	n := len(ys)
	if n%2 == 1 {
		return ys[n/2]
	}
	return (ys[n/2-1] + ys[n/2]) / 2
}
