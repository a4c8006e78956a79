package retry

import (
	"fmt"
	"math"
	"time"
)

// An Option configures Do and DoValue. Later options override earlier ones.
type Option interface {
	apply(*config) // the options are read by config.set
}

// config is what the options of one call say, starting from the defaults.
type config struct {
	attempts       int
	maxElapsed     time.Duration
	attemptTimeout time.Duration
	maxHint        time.Duration
	backoff        Backoff
	retryIf        func(error) bool
	onRetry        func(attempt int, err error, delay time.Duration)
	onGiveUp       func(attempts int, err error)
	lastError      bool
	budget         *Budget
	hedge          bool
	hedgeDelay     time.Duration
	latency        *Latency
	breaker        *Breaker
	throttle       *Throttle
}

// The defaults, documented in the package doc.
const (
	defaultAttempts = 4
	defaultMaxHint  = time.Minute
)

var defaultBackoff Backoff = Exponential{
	Initial:    100 * time.Millisecond,
	Multiplier: 2,
	Max:        10 * time.Second,
	Jitter:     FullJitter,
}

var defaults = config{attempts: defaultAttempts, maxHint: defaultMaxHint, backoff: defaultBackoff}

// parseOptions sets c from the defaults and opts. It is kept out of line
// and off the path of a call without options. It reads each option with a
// type switch rather than through its apply method, so that neither opts
// nor c escape: the options a call builds stay on its stack, and the call
// allocates nothing for them.
func parseOptions(opts []Option, fn string, c *config) {
	*c = defaults
	for _, o := range opts {
		c.set(o, fn)
	}
}

// set applies one option to c.
func (c *config) set(o Option, fn string) {
	switch o := o.(type) {
	case nil:
		panic("retry: " + fn + " called with a nil Option")
	case attemptsOption:
		c.attempts = int(o)
	case maxElapsedOption:
		c.maxElapsed = time.Duration(o)
	case attemptTimeoutOption:
		c.attemptTimeout = time.Duration(o)
	case maxHintOption:
		c.maxHint = time.Duration(o)
	case retryIfOption:
		c.retryIf = o
	case onRetryOption:
		c.onRetry = o
	case onGiveUpOption:
		c.onGiveUp = o
	case lastErrorOption:
		c.lastError = true
	case backoffOption:
		c.backoff = o.b
	case budgetOption:
		c.budget = o.b
	case hedgeOption:
		c.hedge, c.hedgeDelay, c.latency = true, o.d, o.l
	case breakerOption:
		c.breaker = o.b
	case throttleOption:
		c.throttle = o.t
	case *policy:
		for _, o := range o.opts {
			c.set(o, fn)
		}
	default:
		panic(fmt.Sprintf("retry: %s called with an unknown Option %T", fn, o))
	}
}

// Policy bundles opts into one Option, checked and parsed once, for a policy
// that many calls share: var fetchPolicy = retry.Policy(retry.Attempts(5),
// ...). A Policy is immutable and safe to use from any number of goroutines
// at once. Passed alone to Do, it costs nothing to apply; with other options
// it applies as if its options stood in its place.
func Policy(opts ...Option) Option {
	p := &policy{opts: append([]Option(nil), opts...)}
	parseOptions(p.opts, "Policy", &p.c)
	return p
}

// A policy keeps its options, to apply them among others, and their result
// from the defaults, for a call given the policy alone.
type policy struct {
	opts []Option
	c    config
}

func (p *policy) apply(c *config) { c.set(p, "") }

type attemptsOption int

func (o attemptsOption) apply(c *config) { c.set(o, "") }

// Attempts makes Do call fn at most n times in all: n counts calls, not
// retries, so Attempts(1) never retries, and Attempts(Unlimited) retries
// until something else stops it. The default is 4. Under Hedge it counts
// the overlapping attempts too. Attempts panics if n < 1.
func Attempts(n int) Option {
	if n < 1 {
		badArg("Attempts(%d): the number of attempts must be at least 1", n)
	}
	return attemptsOption(n)
}

// Unlimited, given to Attempts, lets Do make as many attempts as it takes:
// it then stops only at a success, a permanent error, MaxElapsed, the
// budget, or the end of ctx. It is cenkalti/backoff's default; it is not
// Do's, as a call whose ctx never ends would then retry a lasting failure
// for ever.
const Unlimited = math.MaxInt

type maxElapsedOption time.Duration

func (o maxElapsedOption) apply(c *config) { c.set(o, "") }

// MaxElapsed makes Do stop retrying when the next attempt would start more
// than d after the first one did: it returns an error matching
// ErrMaxElapsed instead of sleeping. A server's hint (After) that reaches
// past d is the exception: Do sleeps until d and tries once more; unless
// the backoff's own delay reaches past d too, and then Do gives up as
// without the hint. 0, the
// default, means no limit: Attempts and ctx bound the call. MaxElapsed never
// interrupts an attempt; use AttemptTimeout or ctx for that. MaxElapsed
// panics if d < 0.
func MaxElapsed(d time.Duration) Option {
	if d < 0 {
		badArg("MaxElapsed(%v): the duration must not be negative", d)
	}
	return maxElapsedOption(d)
}

type attemptTimeoutOption time.Duration

func (o attemptTimeoutOption) apply(c *config) { c.set(o, "") }

// AttemptTimeout gives each attempt a context that ends d after the attempt
// starts (see timeout.FailAfter). An attempt that its own timeout ended
// failed with an error matching timeout.ErrTimeout and
// context.DeadlineExceeded, and is retried like any other failure. The end
// of the ctx passed to Do is never retried. 0, the default, means no timeout
// but ctx's. AttemptTimeout panics if d < 0.
func AttemptTimeout(d time.Duration) Option {
	if d < 0 {
		badArg("AttemptTimeout(%v): the timeout must not be negative", d)
	}
	return attemptTimeoutOption(d)
}

type maxHintOption time.Duration

func (o maxHintOption) apply(c *config) { c.set(o, "") }

// MaxHint caps the server hints that After carries: a longer hint waits d,
// then tries again. The default is 1 minute. MaxHint(0) ignores hints.
// MaxHint panics if d < 0.
func MaxHint(d time.Duration) Option {
	if d < 0 {
		badArg("MaxHint(%v): the duration must not be negative", d)
	}
	return maxHintOption(d)
}

type retryIfOption func(error) bool

func (o retryIfOption) apply(c *config) { c.set(o, "") }

// RetryIf makes Do retry only the errors for which pred returns true; any
// other error is permanent, and Do returns it as it is. pred is not asked
// about errors marked Permanent, nor about the end of ctx, which are never
// retried. By default every other error is retried. RetryIf panics if pred
// is nil.
func RetryIf(pred func(error) bool) Option {
	if pred == nil {
		panic("retry: RetryIf called with a nil function")
	}
	return retryIfOption(pred)
}

type onRetryOption func(attempt int, err error, delay time.Duration)

func (o onRetryOption) apply(c *config) { c.set(o, "") }

// OnRetry makes Do call fn each time it is about to retry: after attempt
// number attempt (1 for the first) failed with err, and before it sleeps for
// delay, the delay it will really sleep. It is not called when Do gives up
// (see OnGiveUp). Under Hedge, it is called for a retry after a failure, not
// for a hedge started because an attempt is slow. Do calls its hooks in its
// own goroutine, one at a time. OnRetry panics if fn is nil.
func OnRetry(fn func(attempt int, err error, delay time.Duration)) Option {
	if fn == nil {
		panic("retry: OnRetry called with a nil function")
	}
	return onRetryOption(fn)
}

type onGiveUpOption func(attempts int, err error)

func (o onGiveUpOption) apply(c *config) { c.set(o, "") }

// OnGiveUp makes Do call fn when it stops without success after at least one
// attempt, with the number of attempts made and the error Do is about to
// return: attempts exhausted, MaxElapsed, budget, a permanent error, or the
// end of ctx. OnGiveUp panics if fn is nil.
func OnGiveUp(fn func(attempts int, err error)) Option {
	if fn == nil {
		panic("retry: OnGiveUp called with a nil function")
	}
	return onGiveUpOption(fn)
}

type lastErrorOption struct{}

func (o lastErrorOption) apply(c *config) { c.set(o, "") }

// WithLastError makes Do, when it gives up (attempts exhausted, MaxElapsed,
// budget), return the last attempt's error itself, as cenkalti/backoff
// does, instead of an *Error that wraps it: err == ErrX works on what Do
// returns, but errors.Is(err, ErrAttempts) no longer tells why it stopped.
// OnGiveUp is given the same error. A permanent error is returned as it is
// either way, and the end of ctx still comes as ctx's error, so that it
// stays the echo of a cancellation.
func WithLastError() Option { return lastErrorOption{} }

type backoffOption struct{ b Backoff }

func (o backoffOption) apply(c *config) { c.set(o, "") }

// WithBackoff makes Do wait as b says between attempts. The default is
// Exponential{Initial: 100 * time.Millisecond, Multiplier: 2, Max: 10 *
// time.Second, Jitter: FullJitter}. WithBackoff panics if b is nil, or if b
// is an Exponential or a Linear with fields out of range, saying which.
func WithBackoff(b Backoff) Option {
	checkBackoff(b)
	return backoffOption{b}
}

// checkBackoff is out of line so that WithBackoff is inlined, and the
// Option it makes can stay on the caller's stack.
//
//go:noinline
func checkBackoff(b Backoff) {
	if b == nil {
		panic("retry: WithBackoff called with a nil Backoff")
	}
	if v, ok := b.(interface{ validate() error }); ok {
		if err := v.validate(); err != nil {
			panic(fmt.Sprintf("retry: WithBackoff(%+v): %v", b, err))
		}
	}
}

type budgetOption struct{ b *Budget }

func (o budgetOption) apply(c *config) { c.set(o, "") }

// WithBudget makes Do draw its retries and hedges from b, a budget shared
// with other calls, and report to it how each attempt ended. When b allows
// no more retries, Do stops with an error matching ErrBudget; a first
// attempt is always made. WithBudget panics if b is nil.
func WithBudget(b *Budget) Option {
	if b == nil {
		panic("retry: WithBudget called with a nil *Budget")
	}
	return budgetOption{b}
}

type hedgeOption struct {
	d time.Duration
	l *Latency
}

func (o hedgeOption) apply(c *config) { c.set(o, "") }

// Hedge makes Do start another attempt, while the earlier ones go on, each
// time d passes without any attempt succeeding ("hedged requests", from The
// Tail at Scale). The first success wins: the other attempts are cancelled
// and waited for before Do returns, and their results are dropped. Attempts
// counts every attempt started, so Attempts(2) with Hedge sends at most one
// hedge. A hedge is counted against WithBudget's budget like a retry.
//
// A failed attempt, while others are still running, starts the next one at
// once (as gRPC does); when none is running, Do sleeps its backoff first, as
// without Hedge. A Permanent error stops every attempt.
//
// Under Hedge the attempts run in goroutines of a nursery: a panic in one
// cancels the others, waits for them, and reaches Do's caller as a
// *nursery.PanicError. Because losers are dropped, fn should return values
// that need no cleanup (read and close a response body inside fn). Hedge
// panics if d < 0; Hedge(0) starts every attempt at once.
func Hedge(d time.Duration) Option {
	if d < 0 {
		badArg("Hedge(%v): the delay must not be negative", d)
	}
	return hedgeOption{d: d}
}

// HedgeAdaptive is Hedge with a delay that follows the recent latencies of
// successful calls: l's percentile (see NewLatency). Do reports each
// successful call's latency to l. Share one Latency between the calls to the
// same service. HedgeAdaptive panics if l is nil.
func HedgeAdaptive(l *Latency) Option {
	if l == nil {
		panic("retry: HedgeAdaptive called with a nil *Latency")
	}
	l.check()
	return hedgeOption{l: l}
}

// badArg panics with "retry: " and the formatted message. It is out of line
// so that the option constructors are inlined: the Option each one makes
// can then stay on the caller's stack, and cost no allocation.
//
//go:noinline
func badArg(format string, args ...any) {
	panic(fmt.Sprintf("retry: "+format, args...))
}
