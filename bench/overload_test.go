package bench

// The cost of overload protection in front of every call, when it lets the
// call through: ratelimit.Adaptive (Acquire+Release, and Do) beside
// failsafe-go's adaptive limiter (a permit, then Record), a Semaphore and
// a channel; retry.Breaker's Do beside sony/gobreaker's Execute and
// failsafe-go's breaker (a permit, then RecordSuccess). Interleaved as the
// others are (see nursery_test.go), uncontended in one goroutine and
// contended by GOMAXPROCS goroutines (at least 2) on one limit or breaker.
// The limits are never reached here: the cost measured is the bookkeeping.
// How they behave under overload is overloadbench's part (./overload).

import (
	"context"
	"testing"

	"github.com/failsafe-go/failsafe-go/adaptivelimiter"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"

	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/retry"
)

func adaptiveOps() []rlOp {
	ctx := context.Background()
	nop := func(context.Context) error { return nil }
	return []rlOp{
		{"adaptive", func() func() {
			a := ratelimit.NewAdaptive()
			return func() {
				if err := a.Acquire(ctx, 1); err != nil {
					panic(err)
				}
				a.Release(1)
			}
		}},
		{"adaptive-do", func() func() {
			a := ratelimit.NewAdaptive()
			return func() {
				if err := a.Do(ctx, nop); err != nil {
					panic(err)
				}
			}
		}},
		{"failsafe", func() func() {
			l := adaptivelimiter.NewBuilder[any]().Build()
			return func() {
				p, ok := l.TryAcquirePermit()
				if !ok {
					panic("failsafe-go refused a permit")
				}
				p.Record()
			}
		}},
		{"semaphore", func() func() {
			s := ratelimit.NewSemaphore(20)
			return func() {
				if err := s.Acquire(ctx, 1); err != nil {
					panic(err)
				}
				s.Release(1)
			}
		}},
		{"chan", func() func() {
			s := make(chan struct{}, 20)
			return func() {
				s <- struct{}{}
				<-s
			}
		}},
	}
}

var adaptiveRatios = [][2]string{{"adaptive", "failsafe"}, {"adaptive-do", "failsafe"}, {"adaptive", "semaphore"}, {"adaptive", "chan"}}

// BenchmarkAdaptive: one call admitted and given back.
func BenchmarkAdaptive(b *testing.B) {
	b.Run("uncontended", func(b *testing.B) { interleave(b, 256, serial(adaptiveOps()), adaptiveRatios) })
	b.Run("contended", func(b *testing.B) { interleave(b, 4096, parallel(adaptiveOps()), adaptiveRatios) })
}

func breakerOps() []rlOp {
	ctx := context.Background()
	nop := func(context.Context) error { return nil }
	return []rlOp{
		{"ours", func() func() {
			br := retry.NewBreaker()
			return func() {
				if err := br.Do(ctx, nop); err != nil {
					panic(err)
				}
			}
		}},
		{"gobreaker", func() func() {
			br := gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{})
			call := func() (struct{}, error) { return struct{}{}, nil }
			return func() {
				if _, err := br.Execute(call); err != nil {
					panic(err)
				}
			}
		}},
		{"failsafe", func() func() {
			br := circuitbreaker.NewBuilder[any]().Build()
			return func() {
				if !br.TryAcquirePermit() {
					panic("failsafe-go's breaker refused")
				}
				br.RecordSuccess()
			}
		}},
	}
}

var breakerRatios = [][2]string{{"ours", "gobreaker"}, {"ours", "failsafe"}}

// BenchmarkBreaker: one call let through a closed breaker.
func BenchmarkBreaker(b *testing.B) {
	b.Run("uncontended", func(b *testing.B) { interleave(b, 256, serial(breakerOps()), breakerRatios) })
	b.Run("contended", func(b *testing.B) { interleave(b, 4096, parallel(breakerOps()), breakerRatios) })
}
