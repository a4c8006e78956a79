//go:build go1.25

package retry

// throttleDraw is ThrottleDraw's option.
type throttleDraw func() float64

func (f throttleDraw) applyThrottle(c *throttleConfig) { c.draw = f }

// ThrottleDraw makes a Throttle draw the numbers its refusals are decided
// by from f (in [0, 1)) instead of math/rand: tests with a seeded source, or
// a constant, decide the same way in every run.
func ThrottleDraw(f func() float64) ThrottleOption { return throttleDraw(f) }
