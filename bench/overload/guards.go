package overload

import (
	"context"
	"time"

	"github.com/failsafe-go/failsafe-go/adaptivethrottler"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"

	"github.com/structured-go/structured/retry"
)

// The contenders of variant C: circuit breakers and client-side throttles,
// each with its library's defaults, standing between the clients and a
// downstream that goes down for 30 s. None has a concurrency limit.

// ourBreaker is retry.Breaker with its defaults.
type ourBreaker struct {
	b      *retry.Breaker
	states *[]stateChange
	t0     time.Time
}

func (o *ourBreaker) start(t0 time.Time, _ *scenario) {
	o.t0 = t0
	var changes []stateChange
	o.states = &changes
	o.b = retry.NewBreaker(retry.OnStateChange(func(_, to retry.BreakerState) {
		changes = append(changes, stateChange{time.Since(t0), to.String()})
	}))
}
func (o *ourBreaker) do(ctx context.Context, call func(context.Context) error) error {
	return o.b.Do(ctx, call)
}
func (o *ourBreaker) limit() float64 { return nan }
func (o *ourBreaker) finish(r *run)  { r.states = *o.states }

// ourThrottle is retry.Throttle with the book's k of 2 and the window given.
type ourThrottle struct {
	window time.Duration
	t      *retry.Throttle
}

func (o *ourThrottle) start(time.Time, *scenario) { o.t = retry.NewThrottle(2, o.window) }
func (o *ourThrottle) do(ctx context.Context, call func(context.Context) error) error {
	return o.t.Do(ctx, call)
}
func (o *ourThrottle) limit() float64 { return nan }
func (o *ourThrottle) finish(*run)    {}

// goBreaker is sony/gobreaker v2 with its defaults: it trips after more
// than 5 failures in a row, stays open 60 s, and lets 1 probe through.
type goBreaker struct {
	b      *gobreaker.CircuitBreaker[struct{}]
	states []stateChange
}

func (g *goBreaker) start(t0 time.Time, _ *scenario) {
	g.b = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name: "downstream",
		OnStateChange: func(_ string, _, to gobreaker.State) {
			g.states = append(g.states, stateChange{time.Since(t0), to.String()})
		},
	})
}
func (g *goBreaker) do(ctx context.Context, call func(context.Context) error) error {
	_, err := g.b.Execute(func() (struct{}, error) { return struct{}{}, call(ctx) })
	if err == gobreaker.ErrOpenState || err == gobreaker.ErrTooManyRequests {
		return errRejected
	}
	return err
}
func (g *goBreaker) limit() float64 { return nan }
func (g *goBreaker) finish(r *run)  { r.states = g.states }

// failsafeBreaker is failsafe-go's circuit breaker with its defaults:
// open on 1 failure, for 1 minute, closed again by 1 success.
type failsafeBreaker struct {
	b      circuitbreaker.CircuitBreaker[any]
	states []stateChange
}

func (f *failsafeBreaker) start(t0 time.Time, _ *scenario) {
	f.b = circuitbreaker.NewBuilder[any]().OnStateChanged(func(e circuitbreaker.StateChangedEvent) {
		f.states = append(f.states, stateChange{time.Since(t0), e.NewState.String()})
	}).Build()
}
func (f *failsafeBreaker) do(ctx context.Context, call func(context.Context) error) error {
	if !f.b.TryAcquirePermit() {
		return errRejected
	}
	err := call(ctx)
	f.b.RecordError(err)
	return err
}
func (f *failsafeBreaker) limit() float64 { return nan }
func (f *failsafeBreaker) finish(r *run)  { r.states = f.states }

// failsafeThrottler is failsafe-go's adaptive throttler with its defaults:
// a failure rate threshold of 0.1 (k of 1/0.9) over 1 minute.
type failsafeThrottler struct {
	t adaptivethrottler.AdaptiveThrottler[any]
}

func (f *failsafeThrottler) start(time.Time, *scenario) {
	f.t = adaptivethrottler.NewWithDefaults[any]()
}
func (f *failsafeThrottler) do(ctx context.Context, call func(context.Context) error) error {
	if !f.t.TryAcquirePermit() {
		return errRejected
	}
	err := call(ctx)
	f.t.RecordError(err)
	return err
}
func (f *failsafeThrottler) limit() float64 { return nan }
func (f *failsafeThrottler) finish(*run)    {}

// guardContenders are the contenders of variant C.
func guardContenders() []contenderSpec {
	return []contenderSpec{
		{"none", func() contender { return none{} }, false},
		{"gobreaker", func() contender { return &goBreaker{} }, true},
		{"failsafe-breaker", func() contender { return &failsafeBreaker{} }, true},
		{"failsafe-throttler", func() contender { return &failsafeThrottler{} }, true},
		{"ours-breaker", func() contender { return &ourBreaker{} }, false},
		{"ours-throttle-2s", func() contender { return &ourThrottle{window: 2 * time.Second} }, false},
		{"ours-throttle-10s", func() contender { return &ourThrottle{window: 10 * time.Second} }, false},
	}
}
