//go:build go1.25

package ratelimit

import (
	"math"
	"testing"
	"time"
)

// The controller alone, fed the windows of a downstream without noise: W
// workers whose calls take r0 each when none queues. With L calls in
// flight, it completes min(L, W)/r0 a second, and their mean latency is
// r0, or L/W times r0 once calls queue (Little's law).
type model struct {
	w   float64
	r0  float64 // seconds
	rho float64 // completions per arrival
}

func (m model) window(l float64) adaptiveSample {
	x := min(l, m.w) / m.r0
	return adaptiveSample{l: l, x: x, r: l / x, full: 1, rho: m.rho, done: windowSamples, rejects: 1}
}

// run feeds the controller n windows of m, each at the limit in force and
// 0.5 s long, and returns the limits it set.
func run(c *adaptiveControl, now *time.Duration, m model, n int) []float64 {
	var out []float64
	for range n {
		*now += 500 * time.Millisecond
		c.update(*now, m.window(float64(c.enforced())))
		out = append(out, float64(c.enforced()))
	}
	return out
}

func newControl(initial int64) (*adaptiveControl, *time.Duration) {
	c := &adaptiveControl{}
	c.init(adaptiveConfig{min: 1, max: 1000, initial: initial})
	var now time.Duration
	return c, &now
}

// settled returns the last value of limits, and whether the last k are
// all equal to it.
func settled(limits []float64, k int) (float64, bool) {
	last := limits[len(limits)-1]
	for _, l := range limits[len(limits)-k:] {
		if l != last {
			return last, false
		}
	}
	return last, true
}

func TestControlSettlesOnTheCapacityPlusItsHeadroom(t *testing.T) {
	tests := []struct {
		m      model
		lo, hi float64
	}{
		{model{w: 16, r0: 0.020, rho: 2.0 / 3}, 17, 22}, // calls arrive 1.5x as fast as they complete
		{model{w: 8, r0: 0.020, rho: 1.0 / 3}, 9, 11},   // 3x as fast
		{model{w: 16, r0: 0.040, rho: 1.0 / 3}, 17, 19},
		{model{w: 16, r0: 0.020, rho: 0}, 17, 17}, // callers in line: one call of headroom
	}
	for _, tt := range tests {
		c, now := newControl(20)
		limits := run(c, now, tt.m, 40)
		l, ok := settled(limits, 10)
		if !ok || l < tt.lo || l > tt.hi {
			t.Errorf("%+v: limits %v, want them settled inside [%g, %g]", tt.m, limits, tt.lo, tt.hi)
		}
		if math.Abs(c.x*c.r0-tt.m.w) > 0.5 {
			t.Errorf("%+v: capacity estimated at %.2f, want %g", tt.m, c.x*c.r0, tt.m.w)
		}
	}
}

// Half the workers: the limit follows within three windows. The same
// workers with calls twice as slow: the limit stays at the workers and
// more, where a limit keyed to latency would halve it. And back.
func TestControlTellsASlowerDownstreamFromASmallerOne(t *testing.T) {
	c, now := newControl(20)
	base := model{w: 16, r0: 0.020, rho: 2.0 / 3}
	run(c, now, base, 40)
	smaller := run(c, now, model{w: 8, r0: 0.020, rho: 1.0 / 3}, 20)
	for i, l := range smaller[3:] {
		if l < 8 || l > 12 {
			t.Errorf("8 workers, window %d: limit %g, want inside [8, 12] from the third window on: %v", i+3, l, smaller)
			break
		}
	}
	run(c, now, base, 20)
	slower := run(c, now, model{w: 16, r0: 0.040, rho: 1.0 / 3}, 20)
	for i, l := range slower[6:] {
		if l < 16 || l > 20 {
			t.Errorf("calls twice as slow, window %d: limit %g, want inside [16, 20] from the sixth window on: %v", i+6, l, slower)
			break
		}
	}
	if math.Abs(c.r0-0.040) > 0.002 {
		t.Errorf("calls twice as slow: base latency %.1fms, want 40ms", c.r0*1000)
	}
	back := run(c, now, base, 20)
	for i, l := range back[6:] {
		if l < 17 || l > 24 {
			t.Errorf("back to normal, window %d: limit %g, want inside [17, 24] from the sixth window on: %v", i+6, l, back)
			break
		}
	}
}

// A limit far below the knee (a downstream that grew) climbs by a quarter
// a window, and stops at the knee.
func TestControlGrowsToTheKneeWhenTheDownstreamGrows(t *testing.T) {
	c, now := newControl(20)
	run(c, now, model{w: 8, r0: 0.020, rho: 1.0 / 3}, 40)
	grown := run(c, now, model{w: 64, r0: 0.020, rho: 0.9}, 30)
	if l, ok := settled(grown, 5); !ok || l < 64 || l > 64+2+64/4 {
		t.Errorf("from 8 workers to 64: limits %v, want them settled inside [64, 82]", grown)
	}
	if n := len(grown) - len(grown[windowsTo(grown, 64):]); n > 12 {
		t.Errorf("from 8 workers to 64: %d windows to reach 64, want at most 12: %v", n, grown)
	}
}

// windowsTo returns the index of the first limit at least l.
func windowsTo(limits []float64, l float64) int {
	for i, x := range limits {
		if x >= l {
			return i
		}
	}
	return len(limits)
}

// When nothing has confirmed the base latency for 30 s, and the estimates
// have settled, the limit dips to 0.7 of the capacity for one window.
func TestControlDipsToMeasureTheBaseLatencyEvery30Seconds(t *testing.T) {
	c, now := newControl(20)
	m := model{w: 16, r0: 0.020, rho: 0}
	run(c, now, m, 20) // settled, and confirmed by the first probe
	var dips []time.Duration
	for i, l := range run(c, now, m, 160) { // 80 s
		if l < 16 {
			dips = append(dips, time.Duration(i+1)*500*time.Millisecond)
			if want := math.Round(16 * probeDepth); l != want {
				t.Errorf("the dip at %v went to %g, want %g (0.7 of the capacity)", dips[len(dips)-1], l, want)
			}
		}
	}
	if len(dips) != 2 || dips[1]-dips[0] < probeEvery || dips[1]-dips[0] > probeEvery+5*time.Second {
		t.Errorf("dips at %v in 80 s of a steady downstream, want two, 30 s apart (a few windows more)", dips)
	}
}

// A window with drops cuts the limit by a tenth at least.
func TestControlCutsTheLimitByATenthOnDrops(t *testing.T) {
	c, now := newControl(20)
	m := model{w: 16, r0: 0.020, rho: 2.0 / 3}
	run(c, now, m, 40)
	before := c.limit
	*now += 500 * time.Millisecond
	s := m.window(float64(c.enforced()))
	s.drops = 1
	c.update(*now, s)
	if c.limit > before*0.9 {
		t.Errorf("limit %.2f after a window with a drop, from %.2f: want at most %.2f", c.limit, before, before*0.9)
	}
}

// A window that straddles a change of the downstream (its throughput fell
// with the calls in flight unchanged) holds the limit.
func TestControlHoldsTheLimitThroughAWindowThatStraddlesAChange(t *testing.T) {
	c, now := newControl(20)
	m := model{w: 16, r0: 0.020, rho: 2.0 / 3}
	run(c, now, m, 40)
	before := c.enforced()
	*now += 500 * time.Millisecond
	s := m.window(float64(before))
	s.x *= 0.7 // the downstream lost capacity half way through
	s.r = s.l / s.x
	c.update(*now, s)
	if c.enforced() != before {
		t.Errorf("limit %d after a window that straddles a change, want %d held", c.enforced(), before)
	}
}

func TestHeadroomKeepsTheIdleWorkersUnderOnePercent(t *testing.T) {
	for _, c := range []float64{4, 16, 64} {
		for _, rho := range []float64{0.2, 0.5, 2.0 / 3, 0.8} {
			h := headroom(c, rho)
			idle := math.Pow(rho, math.Floor(h)+1) / (1 - rho) // with the headroom rounded down
			if h < 2+c/4 && idle > 2*idleShare*c {
				t.Errorf("headroom(%g, %.2f) = %.2f: %.3f workers idle, want about %g at most", c, rho, h, idle, idleShare*c)
			}
			if h < minHeadroom || h > 2+c/4 {
				t.Errorf("headroom(%g, %.2f) = %.2f, want inside [%d, %g]", c, rho, h, minHeadroom, 2+c/4)
			}
		}
		if h := headroom(c, 0); h != minHeadroom {
			t.Errorf("headroom(%g, 0) = %g, want %d: callers in line take a freed unit at once", c, h, minHeadroom)
		}
	}
}
