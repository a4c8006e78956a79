package retry

import (
	"errors"
	"time"
)

// A BreakerOption configures a Breaker (see NewBreaker).
type BreakerOption interface {
	applyBreaker(*breakerConfig)
}

type breakerConfig struct {
	consecutive  int
	ratio        float64
	minCalls     int
	window       time.Duration
	windowCalls  int
	slow         time.Duration
	openFor      time.Duration
	probes       int
	successes    int
	failureIf    func(error) bool
	onChange     func(from, to BreakerState)
	cancelOnOpen bool
}

type breakerOptionFunc func(*breakerConfig)

func (f breakerOptionFunc) applyBreaker(c *breakerConfig) { f(c) }

// ConsecutiveFailures opens the breaker when n calls in a row fail. The
// default is 5; 0 opens it on the failure ratio alone. It panics if n < 0.
func ConsecutiveFailures(n int) BreakerOption {
	if n < 0 {
		badArg("ConsecutiveFailures(%d): the count must not be negative", n)
	}
	return breakerOptionFunc(func(c *breakerConfig) { c.consecutive = n })
}

// FailureRatio opens the breaker when, among the calls of its window, at
// least minCalls were made and the failures are ratio of them or more.
// The default is FailureRatio(0.5, 20); a ratio of 0 opens it on
// consecutive failures alone. It panics if ratio is not in [0, 1] or
// minCalls < 1.
func FailureRatio(ratio float64, minCalls int) BreakerOption {
	if !(ratio >= 0 && ratio <= 1) || minCalls < 1 {
		badArg("FailureRatio(%v, %d): the ratio must be in [0, 1] and the minimum of calls at least 1", ratio, minCalls)
	}
	return breakerOptionFunc(func(c *breakerConfig) { c.ratio, c.minCalls = ratio, minCalls })
}

// Window makes the failure ratio count the calls of the last d, in ten
// steps. The default is 10 seconds. It panics if d <= 0.
func Window(d time.Duration) BreakerOption {
	if d <= 0 {
		badArg("Window(%v): the window must be positive", d)
	}
	return breakerOptionFunc(func(c *breakerConfig) { c.window, c.windowCalls = d, 0 })
}

// WindowCalls makes the failure ratio count the last n calls, however old,
// instead of the calls of a window of time. It panics if n < 1.
func WindowCalls(n int) BreakerOption {
	if n < 1 {
		badArg("WindowCalls(%d): the window must hold at least 1 call", n)
	}
	return breakerOptionFunc(func(c *breakerConfig) { c.windowCalls = n })
}

// SlowCall counts a call that takes longer than d as a failure, even if it
// succeeds: a downstream that answers too slowly is as good as down. The
// default is no such limit. It panics if d <= 0.
func SlowCall(d time.Duration) BreakerOption {
	if d <= 0 {
		badArg("SlowCall(%v): the duration must be positive", d)
	}
	return breakerOptionFunc(func(c *breakerConfig) { c.slow = d })
}

// OpenFor keeps the breaker open for d before it lets probes through. The
// default is 5 seconds. It panics if d <= 0.
func OpenFor(d time.Duration) BreakerOption {
	if d <= 0 {
		badArg("OpenFor(%v): the duration must be positive", d)
	}
	return breakerOptionFunc(func(c *breakerConfig) { c.openFor = d })
}

// HalfOpen lets probes calls through a half-open breaker, and closes it
// once successes of them have succeeded; it opens again as soon as more
// than probes-successes have failed. The default is HalfOpen(3, 3): three
// probes, and any failure among them opens the breaker again. It panics
// unless 1 <= successes <= probes.
func HalfOpen(probes, successes int) BreakerOption {
	if successes < 1 || successes > probes {
		badArg("HalfOpen(%d, %d): the successes needed must be between 1 and the probes", probes, successes)
	}
	return breakerOptionFunc(func(c *breakerConfig) { c.probes, c.successes = probes, successes })
}

// A GuardOption configures a Breaker or a Throttle alike.
type GuardOption interface {
	BreakerOption
	ThrottleOption
}

// FailureIf counts as failures only the errors for which pred returns true
// (the downstream's own errors, say, and not a 404), instead of every
// error but the caller's cancellation: a Breaker counts them toward
// opening, a Throttle as requests the downstream did not accept. It panics
// if pred is nil.
func FailureIf(pred func(error) bool) GuardOption {
	if pred == nil {
		panic("retry: FailureIf called with a nil function")
	}
	return failureIfOption(pred)
}

type failureIfOption func(error) bool

func (o failureIfOption) applyBreaker(c *breakerConfig)   { c.failureIf = o }
func (o failureIfOption) applyThrottle(c *throttleConfig) { c.failureIf = o }

// OnStateChange makes the breaker call fn after each change of its state,
// in the order of the changes, one call at a time, in the goroutine of a
// call or State that saw the change. fn must not block. It panics if fn
// is nil.
func OnStateChange(fn func(from, to BreakerState)) BreakerOption {
	if fn == nil {
		panic("retry: OnStateChange called with a nil function")
	}
	return breakerOptionFunc(func(c *breakerConfig) { c.onChange = fn })
}

// CancelOnOpen makes the breaker cancel the calls in flight through it when
// it opens: calls to a downstream found down need not wait for their own
// failure. Such a call's ctx is cancelled with the breaker's error as its
// cause, and its Do returns that error, which wraps ErrOpen and names the
// failure that opened the breaker.
func CancelOnOpen() BreakerOption {
	return breakerOptionFunc(func(c *breakerConfig) { c.cancelOnOpen = true })
}

// WithBreaker makes Do call fn through b: an attempt that b turns away
// fails with b's error (wrapping ErrOpen) without calling fn, and Do waits
// the time b stays open, as a server's hint (see After; MaxHint caps it),
// before its next attempt; attempts exhausted or MaxElapsed reached while b
// stays open, Do gives up with an *Error that says so and matches ErrOpen.
// Each attempt that b lets through counts toward b's failures. WithBreaker
// panics if b is nil.
func WithBreaker(b *Breaker) Option {
	if b == nil {
		panic("retry: WithBreaker called with a nil *Breaker")
	}
	return breakerOption{b}
}

type breakerOption struct{ b *Breaker }

func (o breakerOption) apply(c *config) { c.set(o, "") }

// refused reports whether err is a Breaker's or a Throttle's refusal: the
// call was not made.
func refused(err error) bool {
	return errors.Is(err, ErrOpen) || errors.Is(err, ErrThrottled)
}
