package bench

// The ratelimit benchmarks: ratelimit.Limiter beside golang.org/x/time/rate
// and go.uber.org/ratelimit, ratelimit.Semaphore beside
// golang.org/x/sync/semaphore and a buffered channel, ratelimit.Keyed
// beside the plain map[string]*rate.Limiter under a mutex. Interleaved as
// the nursery ones are (see the top of nursery_test.go): each b.N iteration
// times every contender once, in rotating order, and the ratios are medians
// of same-iteration ratios. The ...parallel cases time GOMAXPROCS
// goroutines sharing one limiter or semaphore, from their start until the
// last is done. Allocations are counted per contender alone, in
// BenchmarkAllocsRatelimit.

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
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

// waitOps are a Wait that does not wait (uber: Take, which does not sleep
// at 10^9/s).
func waitOps() []rlOp {
	ctx := context.Background()
	return []rlOp{
		{"ours", func() func() {
			l := ratelimit.NewLimiter(openRate, openBurst)
			return func() {
				if err := l.Wait(ctx); err != nil {
					panic(err)
				}
			}
		}},
		{"xrate", func() func() {
			l := xrate.NewLimiter(openRate, openBurst)
			return func() {
				if err := l.Wait(ctx); err != nil {
					panic(err)
				}
			}
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

// BenchmarkLimiterWait: Wait on a limiter that never limits (uber: Take).
func BenchmarkLimiterWait(b *testing.B) {
	b.Run("serial", func(b *testing.B) { interleave(b, 256, serial(waitOps()), limiterRatios) })
	b.Run("parallel", func(b *testing.B) { interleave(b, 4096, parallel(waitOps()), limiterRatios) })
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
	}{{"allow", allowOps()}, {"wait", waitOps()}, {"semaphore", semOps()}} {
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

// A keyedLimiter is a limit per key: ratelimit.Keyed, or the plain map.
type keyedLimiter interface{ Allow(key string) bool }

// plainKeyed is what one writes without Keyed: a map of x/time/rate
// limiters under a mutex, a limiter made for each new key, none ever
// forgotten.
type plainKeyed struct {
	mu    sync.Mutex
	keys  map[string]*xrate.Limiter
	limit xrate.Limit
	burst int
}

func newPlainKeyed(r xrate.Limit, b int) *plainKeyed {
	return &plainKeyed{keys: map[string]*xrate.Limiter{}, limit: r, burst: b}
}

func (p *plainKeyed) Allow(key string) bool {
	p.mu.Lock()
	l, ok := p.keys[key]
	if !ok {
		l = xrate.NewLimiter(p.limit, p.burst)
		p.keys[key] = l
	}
	p.mu.Unlock()
	return l.Allow()
}

// floodKeys are the keys of a flood, made once.
var floodKeys = sync.OnceValue(func() []string {
	keys := make([]string, 1_000_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("invented-%07d", i)
	}
	return keys
})

// floodRound floods lim with the million keys of floodKeys, from
// GOMAXPROCS-1 goroutines (at least 1), while one more calls Allow for a
// known key in a loop, and returns the times that key's calls took.
func floodRound(lim keyedLimiter) []time.Duration {
	keys := floodKeys()
	lim.Allow("known")
	floods := max(1, runtimeProcs()-1)
	var next atomic.Int64
	var done atomic.Bool
	var wg sync.WaitGroup
	for range floods {
		wg.Go(func() {
			for {
				i := next.Add(64) - 64
				if i >= int64(len(keys)) {
					return
				}
				for _, k := range keys[i:min(i+64, int64(len(keys)))] {
					lim.Allow(k)
				}
			}
		})
	}
	lat := make([]time.Duration, 0, 1<<20)
	go func() { wg.Wait(); done.Store(true) }()
	for !done.Load() {
		t0 := time.Now()
		lim.Allow("known")
		lat = append(lat, time.Since(t0))
	}
	return lat
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// BenchmarkKeyedFlood: a flood of a million new keys (1/s, burst 10 each)
// from GOMAXPROCS-1 goroutines, while one more calls Allow for a known
// client; the known client's p50, p99 and worst call, for Keyed with its
// default maximum of 65,536 keys (and with 2^20), beside the plain map,
// which keeps every key. Each iteration runs each contender once, in
// rotating order; the ratios are medians of same-iteration ratios.
func BenchmarkKeyedFlood(b *testing.B) {
	for _, maxKeys := range []int{ratelimit.DefaultMaxKeys, 1 << 20} {
		b.Run(fmt.Sprintf("max=%d", maxKeys), func(b *testing.B) {
			contenders := []struct {
				name string
				make func() keyedLimiter
			}{
				{"ours", func() keyedLimiter { return ratelimit.NewKeyed[string](1, 10, ratelimit.WithMaxKeys(maxKeys)) }},
				{"plain", func() keyedLimiter { return newPlainKeyed(1, 10) }},
			}
			p50 := make([][]time.Duration, len(contenders))
			p99 := make([][]time.Duration, len(contenders))
			worst := make([]time.Duration, len(contenders))
			for i := 0; i < b.N; i++ {
				for j := range contenders {
					k := (i + j) % len(contenders)
					lat := floodRound(contenders[k].make())
					runtime.GC()
					slices.Sort(lat)
					p50[k] = append(p50[k], percentile(lat, 0.50))
					p99[k] = append(p99[k], percentile(lat, 0.99))
					worst[k] = max(worst[k], lat[len(lat)-1])
				}
			}
			for k, c := range contenders {
				b.ReportMetric(float64(medianDuration(p50[k]).Nanoseconds()), c.name+"-p50-ns")
				b.ReportMetric(float64(medianDuration(p99[k]).Nanoseconds()), c.name+"-p99-ns")
				b.ReportMetric(float64(worst[k].Nanoseconds()), c.name+"-worst-ns")
			}
			b.ReportMetric(medianRatio(p50[0], p50[1]), "ours/plain-p50")
			b.ReportMetric(medianRatio(p99[0], p99[1]), "ours/plain-p99")
		})
	}
}

func medianDuration(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkKeyedRefusal: Allow for a new key when Keyed holds its maximum
// of keys, all in use (a token an hour: they stay in use for the whole
// run): the refusal. Its allocs/op is the figure to watch.
func BenchmarkKeyedRefusal(b *testing.B) {
	k := ratelimit.NewKeyed[string](ratelimit.Every(time.Hour), 10, ratelimit.WithMaxKeys(1024))
	for i := range 1024 {
		k.Allow(fmt.Sprint("held-", i))
	}
	keys := floodKeys()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if k.Allow(keys[i%len(keys)]) {
			b.Fatal("a new key beyond the maximum was allowed")
		}
		i++
	}
}

// BenchmarkKeyedBytesPerKey: the heap a key retains, in Keyed and in the
// plain map, with 65,536 keys each (the keys' own bytes, shared by both,
// not counted). Interleaved, one contender at a time on a collected heap.
func BenchmarkKeyedBytesPerKey(b *testing.B) {
	const n = ratelimit.DefaultMaxKeys
	keys := floodKeys()[:n]
	contenders := []struct {
		name string
		make func() keyedLimiter
	}{
		{"ours", func() keyedLimiter { return ratelimit.NewKeyed[string](1, 10) }},
		{"plain", func() keyedLimiter { return newPlainKeyed(1, 10) }},
	}
	bytes := make([][]float64, len(contenders))
	for i := 0; i < b.N; i++ {
		for j := range contenders {
			k := (i + j) % len(contenders)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			lim := contenders[k].make()
			for _, key := range keys {
				lim.Allow(key)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			bytes[k] = append(bytes[k], float64(after.HeapAlloc-before.HeapAlloc)/n)
			runtime.KeepAlive(lim)
		}
	}
	for k, c := range contenders {
		slices.Sort(bytes[k])
		b.ReportMetric(bytes[k][len(bytes[k])/2], c.name+"-B/key")
	}
}
