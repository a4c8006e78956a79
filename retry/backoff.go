package retry

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// A Backoff says how long to wait before each retry. It is a policy, not a
// running state: the same Backoff may be used by any number of calls at once,
// from any goroutine, and the calls do not affect one another. What a call
// needs to remember between retries (the delay it slept last) is passed in.
//
// Constant, Linear, Exponential and BackoffFunc are Backoffs.
type Backoff interface {
	// Delay returns how long to wait before retry n: n is 1 before the
	// second attempt, 2 before the third, and so on. prev is what Delay
	// returned for retry n-1 (0 when n is 1). A negative result counts
	// as 0.
	Delay(n int, prev time.Duration) time.Duration
}

// BackoffFunc is a Backoff written as a function: BackoffFunc(f).Delay(n,
// prev) is f(n, prev). It must be safe to call from several goroutines at
// once if the Backoff is shared.
type BackoffFunc func(n int, prev time.Duration) time.Duration

// Delay returns f(n, prev).
func (f BackoffFunc) Delay(n int, prev time.Duration) time.Duration { return f(n, prev) }

// Constant returns a Backoff that waits d before every retry, without
// jitter. Constant(0) retries at once. Constant panics if d < 0.
func Constant(d time.Duration) Backoff {
	if d < 0 {
		badArg("Constant(%v): the delay must not be negative", d)
	}
	return constant(d)
}

type constant time.Duration

func (c constant) Delay(int, time.Duration) time.Duration { return time.Duration(c) }

// A Jitter says how a Backoff randomizes its delays, so that clients that
// failed together do not retry together. The names are those of the AWS
// Architecture Blog's "Exponential Backoff and Jitter", where d is the delay
// without jitter for this retry:
//
//	NoJitter            d
//	FullJitter          a random duration in [0, d]
//	EqualJitter         d/2 plus a random duration in [0, d/2]
//	DecorrelatedJitter  a random duration in [Initial, 3 × the previous delay]
//
// Whatever the jitter, the result is then capped at Max: no delay ever
// exceeds it. FullJitter spreads retries the most, and in that study it
// needed the fewest calls to get contending clients through; it is the
// jitter of the default backoff.
//
// DecorrelatedJitter grows by its factor of 3 rather than by the Backoff's
// own growth (Multiplier or Step), and its first delay is in [Initial,
// 3 × Initial].
//
// The Spread field of Exponential and Linear is the other way to randomize,
// cenkalti/backoff's RandomizationFactor: a random duration in
// [d × (1 − Spread), d × (1 + Spread)], capped at Max as well. A Backoff
// takes a Jitter or a Spread, not both.
type Jitter int

const (
	// NoJitter uses the delays as computed. It is the zero value.
	NoJitter Jitter = iota
	// FullJitter waits a random duration between 0 and the delay.
	FullJitter
	// EqualJitter waits half the delay plus a random part of the other half.
	EqualJitter
	// DecorrelatedJitter waits a random duration between Initial and three
	// times the previous delay.
	DecorrelatedJitter
)

// String returns the constant's name.
func (j Jitter) String() string {
	switch j {
	case NoJitter:
		return "NoJitter"
	case FullJitter:
		return "FullJitter"
	case EqualJitter:
		return "EqualJitter"
	case DecorrelatedJitter:
		return "DecorrelatedJitter"
	}
	return fmt.Sprintf("Jitter(%d)", int(j))
}

// defaultInitial is what a zero Initial of Exponential or Linear stands for.
const defaultInitial = 100 * time.Millisecond

// Exponential is a Backoff whose delays grow geometrically: before retry n
// it waits Initial × Multiplier^(n-1), randomized by Jitter or Spread, and
// capped at Max. For example Exponential{Initial: time.Second, Multiplier:
// 2, Max: 5 * time.Second} waits 1s, 2s, 4s, 5s, 5s, ...
//
// A zero field takes the default written beside it, so the zero value is
// a working policy: Exponential{} waits 100ms, 200ms, 400ms, ... The
// delays never overflow, however many retries there are. Exponential is a
// plain value: copy it, share it between goroutines, keep it in a
// package-level variable. WithBackoff panics if a field is out of range,
// saying which.
type Exponential struct {
	Initial    time.Duration // the delay before the first retry, before randomizing; 0 means 100ms
	Multiplier float64       // the growth from one retry to the next, at least 1; 0 means 2
	Max        time.Duration // the cap on every delay, after randomizing; 0 means none
	Jitter     Jitter        // how the delays are randomized; the zero value is NoJitter
	Spread     float64       // ±Spread of each delay, at random, in [0, 1]; 0 means none
}

// Delay returns the delay before retry n.
func (e Exponential) Delay(n int, prev time.Duration) time.Duration {
	initial := orDefault(e.Initial, defaultInitial)
	limit := capOf(e.Max)
	if e.Jitter == DecorrelatedJitter {
		return decorrelated(initial, prev, limit)
	}
	m := e.Multiplier
	if m == 0 {
		m = 2
	}
	d := limit
	// Initial × m^(n-1) in floating point: it saturates at +Inf instead of
	// wrapping, and the comparison below keeps the conversion back in range.
	if f := float64(initial) * math.Pow(m, float64(n-1)); f < float64(limit) {
		d = time.Duration(f)
	}
	return randomize(e.Jitter, e.Spread, d, limit)
}

func (e Exponential) validate() error {
	initial := orDefault(e.Initial, defaultInitial)
	switch {
	case e.Initial < 0:
		return fmt.Errorf("Initial %v must not be negative (0 means %v)", e.Initial, defaultInitial)
	case e.Multiplier != 0 && !(e.Multiplier >= 1) || math.IsInf(e.Multiplier, 0):
		return fmt.Errorf("Multiplier %v must be 0 (for 2) or a finite number of at least 1", e.Multiplier)
	case e.Max < 0:
		return fmt.Errorf("Max %v must not be negative", e.Max)
	case e.Max > 0 && e.Max < initial:
		return fmt.Errorf("Max %v must be 0 (no cap) or at least Initial %v", e.Max, initial)
	}
	return validRandom(e.Jitter, e.Spread)
}

// Linear is a Backoff whose delays grow by a fixed step: before retry n it
// waits Initial + (n-1) × Step, randomized by Jitter or Spread, and capped
// at Max.
//
// A zero field takes the default written beside it, so the zero value is
// a working policy: Linear{} waits 100ms, 200ms, 300ms, ...; Linear{Step:
// time.Second} and Linear{Initial: time.Second} both wait 1s, 2s, 3s, ...
// Like Exponential, it is a plain value that may be shared. WithBackoff
// panics if a field is out of range, saying which.
type Linear struct {
	Initial time.Duration // the delay before the first retry, before randomizing; 0 means Step
	Step    time.Duration // what each further retry adds; 0 means Initial; both 0 mean 100ms
	Max     time.Duration // the cap on every delay, after randomizing; 0 means none
	Jitter  Jitter        // how the delays are randomized; the zero value is NoJitter
	Spread  float64       // ±Spread of each delay, at random, in [0, 1]; 0 means none
}

// steps returns Initial and Step with their defaults.
func (l Linear) steps() (initial, step time.Duration) {
	initial, step = l.Initial, l.Step
	switch {
	case initial == 0 && step == 0:
		return defaultInitial, defaultInitial
	case initial == 0:
		return step, step
	case step == 0:
		return initial, initial
	}
	return initial, step
}

// Delay returns the delay before retry n.
func (l Linear) Delay(n int, prev time.Duration) time.Duration {
	initial, step := l.steps()
	limit := capOf(l.Max)
	if l.Jitter == DecorrelatedJitter {
		return decorrelated(initial, prev, limit)
	}
	d := limit
	if f := float64(initial) + float64(n-1)*float64(step); f < float64(limit) {
		d = time.Duration(f)
	}
	return randomize(l.Jitter, l.Spread, d, limit)
}

func (l Linear) validate() error {
	initial, _ := l.steps()
	switch {
	case l.Initial < 0 || l.Step < 0:
		return fmt.Errorf("Initial %v and Step %v must not be negative", l.Initial, l.Step)
	case l.Max < 0:
		return fmt.Errorf("Max %v must not be negative", l.Max)
	case l.Max > 0 && l.Max < initial:
		return fmt.Errorf("Max %v must be 0 (no cap) or at least Initial %v", l.Max, initial)
	}
	return validRandom(l.Jitter, l.Spread)
}

// orDefault returns d, or def if d is zero.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func validRandom(j Jitter, spread float64) error {
	if err := validJitter(j); err != nil {
		return err
	}
	switch {
	case !(spread >= 0 && spread <= 1):
		return fmt.Errorf("Spread %v must be between 0 and 1", spread)
	case spread != 0 && j != NoJitter:
		return fmt.Errorf("Spread and %v both randomize the delay: choose one", j)
	}
	return nil
}

func validJitter(j Jitter) error {
	if j < NoJitter || j > DecorrelatedJitter {
		return fmt.Errorf("unknown %v", j)
	}
	return nil
}

// capOf is the cap on delays that Max stands for.
func capOf(max time.Duration) time.Duration {
	if max <= 0 {
		return math.MaxInt64
	}
	return max
}

// randomize randomizes d (already at most limit) as j or spread says; the
// result is in [0, limit].
func randomize(j Jitter, spread float64, d, limit time.Duration) time.Duration {
	if spread != 0 {
		// d × (1 ± spread), drawn uniformly, as cenkalti/backoff's
		// RandomizationFactor; d × (1 + spread) may pass the largest
		// Duration, so the draw is made in floating point and capped.
		delta := spread * float64(d)
		f := float64(d) - delta + rand.Float64()*2*delta
		if f >= float64(limit) {
			return limit
		}
		return time.Duration(f)
	}
	switch j {
	case FullJitter:
		return randIn(0, d)
	case EqualJitter:
		half := d / 2
		return half + randIn(0, d-half)
	}
	return min(d, limit)
}

// decorrelated is AWS's sleep = min(cap, random_between(base, sleep*3)),
// with sleep starting at base.
func decorrelated(initial, prev, limit time.Duration) time.Duration {
	if prev < initial {
		prev = initial
	}
	hi := limit
	if prev < limit/3 {
		hi = 3 * prev
	}
	lo := min(initial, limit)
	return randIn(lo, max(hi, lo))
}

// randIn returns a uniformly random duration in [lo, hi], for 0 <= lo <= hi.
func randIn(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	// hi-lo+1 is at most 2^63, which fits in a uint64.
	return lo + time.Duration(rand.Uint64N(uint64(hi-lo)+1))
}
