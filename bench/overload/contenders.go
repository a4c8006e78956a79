package overload

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/failsafe-go/failsafe-go/adaptivelimiter"

	"github.com/structured-go/structured/ratelimit"
)

// A contender stands between the clients and the server: it admits a call
// or refuses it.
type contender interface {
	// start is called inside the bubble, before the first request.
	start(t0 time.Time, sc *scenario)
	// do runs call if the contender admits it, and returns its error; or
	// returns an error of its own (errRejected, or one wrapping a
	// sentinel of the library) without calling it.
	do(ctx context.Context, call func(context.Context) error) error
	// limit returns the current concurrency limit, NaN if there is none.
	limit() float64
	// finish is called after the run, to add what the contender knows.
	finish(r *run)
}

var errRejected = errors.New("rejected by the limiter")

// A contenderSpec names a contender and makes a fresh one per run.
type contenderSpec struct {
	name string
	make func() contender
	// anchor marks the contenders that ours is compared with.
	anchor bool
}

// none admits everything.
type none struct{}

func (none) start(time.Time, *scenario) {}
func (none) do(ctx context.Context, call func(context.Context) error) error {
	return call(ctx)
}
func (none) limit() float64 { return nan }
func (none) finish(*run)    {}

// gate is a limit that never waits: a request over the limit is refused.
type gate struct {
	mu       sync.Mutex
	inflight int
	lim      func() int
}

func (g *gate) tryAcquire() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inflight >= g.lim() {
		return false
	}
	g.inflight++
	return true
}

func (g *gate) release() {
	g.mu.Lock()
	g.inflight--
	g.mu.Unlock()
}

// fixed is a static limit.
type fixed struct {
	n int
	g gate
}

func (f *fixed) start(time.Time, *scenario) { f.g.lim = func() int { return f.n } }
func (f *fixed) do(ctx context.Context, call func(context.Context) error) error {
	if !f.g.tryAcquire() {
		return errRejected
	}
	defer f.g.release()
	return call(ctx)
}
func (f *fixed) limit() float64 { return float64(f.n) }
func (f *fixed) finish(*run)    {}

// oracle is W(t) + k, switched at the instant W changes: the best a limit
// can know. In variant B the workers do not change, so it is 16 + k.
type oracle struct {
	k  int
	t0 time.Time
	sc *scenario
	g  gate
}

func (o *oracle) start(t0 time.Time, sc *scenario) {
	o.t0, o.sc = t0, sc
	o.g.lim = func() int { return o.sc.workers(time.Since(o.t0)) + o.k }
}
func (o *oracle) do(ctx context.Context, call func(context.Context) error) error {
	if !o.g.tryAcquire() {
		return errRejected
	}
	defer o.g.release()
	return call(ctx)
}
func (o *oracle) limit() float64 { return float64(o.g.lim()) }
func (o *oracle) finish(*run)    {}

// failsafe is failsafe-go's adaptive limiter, as its users call it: a
// permit, then Record on success and Drop on a timeout.
type failsafe struct {
	build func() adaptivelimiter.AdaptiveLimiter[any]
	queue bool // wait for a permit, up to the client's timeout
	l     adaptivelimiter.AdaptiveLimiter[any]
	to    time.Duration
}

func (f *failsafe) start(_ time.Time, sc *scenario) { f.l, f.to = f.build(), sc.timeout }
func (f *failsafe) do(ctx context.Context, call func(context.Context) error) error {
	var p adaptivelimiter.Permit
	if f.queue {
		var err error
		if p, err = f.l.AcquirePermitWithMaxWait(ctx, f.to); err != nil {
			return errRejected
		}
	} else {
		var ok bool
		if p, ok = f.l.TryAcquirePermit(); !ok {
			return errRejected
		}
	}
	err := call(ctx)
	if err == nil {
		p.Record()
	} else {
		p.Drop()
	}
	return err
}
func (f *failsafe) limit() float64 { return float64(f.l.Limit()) }
func (f *failsafe) finish(*run)    {}

func failsafeDefault() adaptivelimiter.AdaptiveLimiter[any] {
	return adaptivelimiter.NewBuilder[any]().Build()
}

// failsafeTripwire is the tuning of Tripwire's comparison, by failsafe-go's
// author.
func failsafeTripwire() adaptivelimiter.AdaptiveLimiter[any] {
	return adaptivelimiter.NewBuilder[any]().
		WithLimits(2, 150, 20).
		WithRecentWindow(time.Second, time.Second, 10).
		WithBaselineWindow(60).
		WithCorrelationWindow(10).
		Build()
}

func failsafeQueueing() adaptivelimiter.AdaptiveLimiter[any] {
	return adaptivelimiter.NewBuilder[any]().WithQueueing(2, 3).Build()
}

// ours is ratelimit.Adaptive with its defaults, called through Do.
type ours struct {
	opts []ratelimit.AdaptiveOption
	a    *ratelimit.Adaptive
}

func (o *ours) start(time.Time, *scenario) { o.a = ratelimit.NewAdaptive(o.opts...) }
func (o *ours) do(ctx context.Context, call func(context.Context) error) error {
	return o.a.Do(ctx, call)
}
func (o *ours) limit() float64 { return float64(o.a.Limit()) }
func (o *ours) finish(r *run) {
	s := o.a.Stats()
	r.extra["rejected"] = float64(s.Refused)
}

// A port is one of the reference algorithms of Netflix's concurrency-limits
// (written here from their published formulas), behind a limit that
// refuses at once, as Netflix's SimpleLimiter does.
type port struct {
	alg      algorithm
	mu       sync.Mutex
	inflight int
}

// An algorithm sees each request's round trip, the requests in flight when
// it was admitted, and whether it was dropped (timed out).
type algorithm interface {
	sample(now time.Time, rtt time.Duration, inflight int, dropped bool)
	limit() float64
}

func (p *port) start(time.Time, *scenario) {}
func (p *port) do(ctx context.Context, call func(context.Context) error) error {
	p.mu.Lock()
	if p.inflight >= int(p.alg.limit()) {
		p.mu.Unlock()
		return errRejected
	}
	p.inflight++
	inflight := p.inflight
	p.mu.Unlock()
	t0 := time.Now()
	err := call(ctx)
	now := time.Now()
	p.mu.Lock()
	p.inflight--
	p.alg.sample(now, now.Sub(t0), inflight, err != nil)
	p.mu.Unlock()
	return err
}
func (p *port) limit() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return math.Floor(p.alg.limit())
}
func (p *port) finish(*run) {}

// contenders returns the contenders of variants A and B, anchors first.
func contenders() []contenderSpec {
	return []contenderSpec{
		{"none", func() contender { return none{} }, false},
		{"fixed16", func() contender { return &fixed{n: 16} }, true},
		{"fixed32", func() contender { return &fixed{n: 32} }, true},
		{"oracle+0", func() contender { return &oracle{k: 0} }, false},
		{"oracle+2", func() contender { return &oracle{k: 2} }, false},
		{"oracle+4", func() contender { return &oracle{k: 4} }, false},
		{"oracle+8", func() contender { return &oracle{k: 8} }, false},
		{"failsafe-default", func() contender { return &failsafe{build: failsafeDefault} }, true},
		{"failsafe-tripwire", func() contender { return &failsafe{build: failsafeTripwire} }, true},
		{"vegas", func() contender { return &port{alg: newVegas()} }, true},
		{"gradient2", func() contender { return &port{alg: newWindowed(newGradient2())} }, true},
		{"aimd", func() contender { return &port{alg: newAIMD()} }, true},
		{"ours", func() contender { return &ours{} }, false},
	}
}

// queueing is failsafe-go with its queue: reported apart, as it collapses
// under sustained overload (its queue is sized in multiples of the limit).
func queueing() contenderSpec {
	return contenderSpec{"failsafe-queue", func() contender { return &failsafe{build: failsafeQueueing, queue: true} }, false}
}
