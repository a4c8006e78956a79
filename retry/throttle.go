package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// ErrThrottled is wrapped by the error of a call that a Throttle refused
// without making it.
var ErrThrottled = errors.New("retry: throttled by the client")

// A Throttle refuses calls on the client's side when the downstream has
// been refusing most of them: it is the adaptive throttling of Google's
// Site Reliability Engineering book ("Handling Overload"). Over the last
// window of time it counts the requests (every call, those it refused
// itself included) and the accepts (calls the downstream accepted), and
// refuses each new call with probability
//
//	max(0, (requests - k·accepts) / (requests + 1))
//
// so that the downstream sees about k requests for each one it accepts:
// while it accepts at least 1/k of the requests of the window, nothing is
// refused; when it is down, nearly everything is, and the calls it is
// spared are the work it would have spent refusing them. The book's k is 2; a k closer to 1
// spares the downstream more, and notices its recovery more slowly.
//
// When the downstream comes back, the few calls still let through succeed
// and the accepts grow by a factor of e every window/k or so: the throttle
// is open again after about (window/k)·ln(requests in a window): a
// longer window, as a smaller k, notices a recovery later.
//
// A call is accepted if it returns nil, or an error that FailureIf does
// not count; by default every error is a refusal (a timeout is one) but
// the caller's own cancellation and the refusal of a Breaker (or another
// Throttle) further in, which are not counted at all; nor is a panic.
//
// Share one Throttle between all the calls to one downstream; it is safe
// for concurrent use, and it never blocks.
type Throttle struct {
	k         float64
	failureIf func(error) bool
	refusal   error

	epoch time.Time // the tally's times are since epoch
	mu    sync.Mutex
	tally tally // requests, accepts
	// draw returns a number in [0, 1) for the refusals: a test's source,
	// called with mu held so that it need not be safe for concurrent use;
	// nil means math/rand's Float64.
	draw func() float64
}

// A ThrottleOption configures a Throttle (see NewThrottle).
type ThrottleOption interface {
	applyThrottle(*throttleConfig)
}

type throttleConfig struct {
	failureIf func(error) bool
	draw      func() float64 // set by the package's tests only
}

// NewThrottle returns a Throttle that keeps k requests for each accept,
// over the last window (in ten steps). It panics if k is less than 1, NaN
// or infinite, if window <= 0, or if an option is nil.
func NewThrottle(k float64, window time.Duration, opts ...ThrottleOption) *Throttle {
	if !(k >= 1) || math.IsInf(k, 1) {
		badArg("NewThrottle(%v, %v): k must be at least 1, and finite (the book's is 2)", k, window)
	}
	if window <= 0 {
		badArg("NewThrottle(%v, %v): the window must be positive", k, window)
	}
	var c throttleConfig
	for _, o := range opts {
		if o == nil {
			panic("retry: NewThrottle called with a nil ThrottleOption")
		}
		o.applyThrottle(&c)
	}
	t := &Throttle{
		epoch:     time.Now(),
		k:         k,
		failureIf: c.failureIf,
		draw:      c.draw,
		refusal:   fmt.Errorf("%w (k=%v): the downstream accepted too few of the recent requests", ErrThrottled, k),
	}
	t.tally.init(window)
	return t
}

// Do calls fn unless the throttle refuses the call, counts the outcome,
// and returns fn's error; a refused call returns an error wrapping
// ErrThrottled at once. If ctx is already done, Do returns ctx.Err()
// without calling fn. A panic in fn goes up through Do unchanged. Do
// panics if ctx or fn is nil.
func (t *Throttle) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	return guardDo(ctx, "Throttle", nil, t, fn)
}

// RefuseProbability returns the probability that the throttle refuses the
// next call.
func (t *Throttle) RefuseProbability() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	requests, accepts := t.tally.sums(time.Since(t.epoch))
	return t.probability(requests, accepts)
}

func (t *Throttle) probability(requests, accepts int) float64 {
	return max(0, (float64(requests)-t.k*float64(accepts))/float64(requests+1))
}

// enter counts a request, and refuses it with the throttle's probability.
func (t *Throttle) enter() error {
	now := time.Since(t.epoch)
	t.mu.Lock()
	requests, accepts := t.tally.sums(now)
	p := t.probability(requests, accepts)
	t.tally.add(now, 0, 1)
	refuse := p > 0 && t.uniform() < p
	t.mu.Unlock()
	if refuse {
		return t.refusal
	}
	return nil
}

// uniform draws a number in [0, 1) for the throttle's refusals. It must be
// called with mu held: a test's draw need not be safe for concurrent use.
func (t *Throttle) uniform() float64 {
	if t.draw != nil {
		return t.draw()
	}
	return rand.Float64()
}

// forget takes back the request of a call that was not made after all, or
// says nothing of the downstream.
func (t *Throttle) forget() {
	t.mu.Lock()
	t.tally.add(time.Since(t.epoch), 0, -1)
	t.mu.Unlock()
}

// exit counts the outcome of a call that went through: an accept, unless
// err is a failure; the caller's own cancellation and a refusal further in
// say nothing.
func (t *Throttle) exit(ctx context.Context, err error) {
	if err != nil && (ctx.Err() != nil && errors.Is(err, context.Canceled) || refused(err)) {
		t.forget()
		return
	}
	if err != nil && (t.failureIf == nil || t.failureIf(err)) {
		return
	}
	t.mu.Lock()
	t.tally.add(time.Since(t.epoch), 1, 1)
	t.mu.Unlock()
}

// WithThrottle makes Do call fn through t: an attempt that t refuses fails
// with t's error (wrapping ErrThrottled) without calling fn, and is
// retried as any failure is, after the backoff's delay. WithThrottle
// panics if t is nil.
func WithThrottle(t *Throttle) Option {
	if t == nil {
		panic("retry: WithThrottle called with a nil *Throttle")
	}
	return throttleOption{t}
}

type throttleOption struct{ t *Throttle }

func (o throttleOption) apply(c *config) { c.set(o, "") }
