package bench

// The ratelimit benchmarks: ratelimit.Limiter beside golang.org/x/time/rate
// and go.uber.org/ratelimit, ratelimit.Semaphore beside
// golang.org/x/sync/semaphore and a buffered channel. Interleaved as the
// nursery ones are (see the top of nursery_test.go): each b.N iteration
// times every contender once, in rotating order, and the ratios are medians
// of same-iteration ratios. The ...Parallel cases time GOMAXPROCS
// goroutines sharing one limiter or semaphore, from their start until the
// last is done. Allocations are counted per contender alone, in
// BenchmarkAllocsRatelimit.

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	uber "go.uber.org/ratelimit"
	"golang.org/x/sync/semaphore"
	xrate "golang.org/x/time/rate"

	"github.com/structured-go/structured/ratelimit"
)

// A limiter that never limits: a billion tokens a second, a million of
// burst (uber has no burst; at 1ns a token it never sleeps either).
const (
	openRate  = 1e9
	openBurst = 1_000_000
)

// rlOp is one operation of a contender, on state made once per contender.
type rlOp struct {
	name string
	make func() func()
}

func allowOps() []rlOp {
	return []rlOp{
		{"ours", func() func() {
			l := ratelimit.NewLimiter(openRate, openBurst)
			return func() { l.Allow() }
		}},
		{"xrate", func() func() {
			l := xrate.NewLimiter(openRate, openBurst)
			return func() { l.Allow() }
		}},
		{"uber", func() func() {
			l := uber.New(openRate)
			return func() { l.Take() }
		}},
	}
}

// semOps are an Acquire(1) and Release(1) pair.
func semOps() []rlOp {
	ctx := context.Background()
	return []rlOp{
		{"ours", func() func() {
			s := ratelimit.NewSemaphore(1)
			return func() {
				if err := s.Acquire(ctx, 1); err != nil {
					panic(err)
				}
				s.Release(1)
			}
		}},
		{"xsync", func() func() {
			s := semaphore.NewWeighted(1)
			return func() {
				if err := s.Acquire(ctx, 1); err != nil {
					panic(err)
				}
				s.Release(1)
			}
		}},
		{"chan", func() func() {
			s := make(chan struct{}, 1)
			return func() {
				s <- struct{}{}
				<-s
			}
		}},
	}
}

// serial times batch calls in one goroutine.
func serial(ops []rlOp) []timed {
	cs := make([]timed, len(ops))
	for i, o := range ops {
		f := o.make()
		cs[i] = timed{o.name, func(batch int) time.Duration {
			t0 := time.Now()
			for range batch {
				f()
			}
			return time.Since(t0)
		}}
	}
	return cs
}

// parallel times batch calls shared out among goroutines (GOMAXPROCS of
// them, at least 2) on one shared state, from the start until the last is
// done.
func parallel(ops []rlOp) []timed {
	g := max(2, runtimeProcs())
	cs := make([]timed, len(ops))
	for i, o := range ops {
		f := o.make()
		cs[i] = timed{o.name, func(batch int) time.Duration {
			var wg sync.WaitGroup
			var start sync.WaitGroup
			start.Add(1)
			for range g {
				wg.Go(func() {
					start.Wait()
					for range batch / g {
						f()
					}
				})
			}
			t0 := time.Now()
			start.Done()
			wg.Wait()
			return time.Since(t0)
		}}
	}
	return cs
}

var limiterRatios = [][2]string{{"ours", "xrate"}, {"ours", "uber"}}
var semRatios = [][2]string{{"ours", "xsync"}, {"ours", "chan"}, {"xsync", "chan"}}

// BenchmarkLimiterAllow: Allow on a limiter that never limits (uber: Take).
func BenchmarkLimiterAllow(b *testing.B) {
	b.Run("serial", func(b *testing.B) { interleave(b, 256, serial(allowOps()), limiterRatios) })
	b.Run("parallel", func(b *testing.B) { interleave(b, 4096, parallel(allowOps()), limiterRatios) })
}

// BenchmarkSemaphore: Acquire(1)+Release(1), uncontended in one goroutine,
// and contended: capacity 1, GOMAXPROCS goroutines (2 here) in a loop.
func BenchmarkSemaphore(b *testing.B) {
	b.Run("uncontended", func(b *testing.B) { interleave(b, 256, serial(semOps()), semRatios) })
	b.Run("contended", func(b *testing.B) { interleave(b, 4096, parallel(semOps()), semRatios) })
}

// BenchmarkAllocsRatelimit: allocs/op of each contender alone, serial and
// with RunParallel; contended semaphores include the waiters' steady state.
func BenchmarkAllocsRatelimit(b *testing.B) {
	for _, k := range []struct {
		name string
		ops  []rlOp
	}{{"allow", allowOps()}, {"semaphore", semOps()}} {
		for _, o := range k.ops {
			b.Run(k.name+"/serial/"+o.name, func(b *testing.B) {
				f := o.make()
				b.ReportAllocs()
				for b.Loop() {
					f()
				}
			})
			b.Run(k.name+"/parallel/"+o.name, func(b *testing.B) {
				f := o.make()
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						f()
					}
				})
			})
		}
	}
}

// BenchmarkHoldRate: 2 goroutines Wait (uber: Take) for 1000 tokens in all
// from a fresh limiter of 100k/s with a burst of 1 (uber: its default slack
// of 10), on the real clock. It reports each contender's achieved rate as
// a fraction of 100k/s ("ours-of-rate", ...): timers on a host that rounds
// sleeps up to a millisecond make a limiter that sleeps per token fall far
// short.
func BenchmarkHoldRate(b *testing.B) {
	const rate, tokens = 100_000, 1000
	ctx := context.Background()
	contenders := []struct {
		name string
		make func() func()
	}{
		{"ours", func() func() {
			l := ratelimit.NewLimiter(rate, 1)
			return func() {
				if err := l.Wait(ctx); err != nil {
					panic(err)
				}
			}
		}},
		{"xrate", func() func() {
			l := xrate.NewLimiter(rate, 1)
			return func() {
				if err := l.Wait(ctx); err != nil {
					panic(err)
				}
			}
		}},
		{"uber", func() func() {
			l := uber.New(rate)
			return func() { l.Take() }
		}},
	}
	sums := make([]time.Duration, len(contenders))
	for i := 0; i < b.N; i++ {
		for j := range contenders {
			k := (i + j) % len(contenders)
			f := contenders[k].make()
			var wg sync.WaitGroup
			t0 := time.Now()
			for range 2 {
				wg.Go(func() {
					for range tokens / 2 {
						f()
					}
				})
			}
			wg.Wait()
			sums[k] += time.Since(t0)
		}
	}
	for k, c := range contenders {
		got := float64(tokens) * float64(b.N) / sums[k].Seconds()
		b.ReportMetric(got/rate, c.name+"-of-rate")
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
