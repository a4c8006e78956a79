package bench

// The redislimit benchmarks: redislimit.Limiter beside go-redis/redis_rate
// (v10), both through go-redis v9 to one real redis-server on loopback,
// which each benchmark starts for itself (redis-server must be installed).
// Interleaved as the others are (see the top of nursery_test.go). Beside
// ns/op and the ratios, each reports the round trips per call of each
// contender ("ours-roundtrips/op", ...), counted by a go-redis hook on its
// client, so the same counter counts both.
//
//	allow         Allow on a limit that never refuses: one round trip each
//	denied        Allow on an empty bucket of 10/s: ours answers from its
//	              pre-check, redis_rate asks Redis every time
//	parallel      4 clients, a limiter each on one key, Allow on a limit
//	              that never refuses, from 4 goroutines: calls/s through
//	              one Redis ("ours-calls/s", ...)
//	wait          4 clients waiting for 200 events at 2000/s, burst 1:
//	              ours with Wait (one round trip per event), redis_rate
//	              with Allow and a sleep of RetryAfter when refused (its
//	              README's way); round trips per event and the rate achieved

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/ratelimit/redislimit"
	"github.com/structured-go/structured/ratelimit/redislimit/redistest"
)

// quiet drops go-redis's log lines: a pool dialing in the background after
// a benchmark's server has stopped would print into the results.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// startRedis starts a redis-server for one benchmark.
func startRedis(b *testing.B) string {
	b.Helper()
	redis.SetLogger(quiet{})
	s, err := redistest.Start()
	if err != nil {
		b.Fatalf("the redislimit benchmarks need a real redis-server: %v", err)
	}
	b.Cleanup(s.Close)
	return s.Addr()
}

// counter is a go-redis hook counting the commands a client sends.
type counter struct{ n atomic.Int64 }

func (c *counter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}
func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func countedClient(b *testing.B, addr string, c *counter) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	rdb.AddHook(c)
	b.Cleanup(func() { rdb.Close() })
	return rdb
}

var benchKeys atomic.Int64

func benchKey(name string) string { return fmt.Sprintf("bench:%s:%d", name, benchKeys.Add(1)) }

// A redisContender makes, once, the call it times, given its clients.
type redisContender struct {
	name string
	make func(b *testing.B, clients []*redis.Client) func(ctx context.Context, client int) bool
}

const (
	redisOpenLimit = 1e9       // a billion a second: never refuses
	redisOpenBurst = 1_000_000 // nor runs dry
)

func redisContenders(r float64, burst int) []redisContender {
	return []redisContender{
		{"ours", func(b *testing.B, clients []*redis.Client) func(context.Context, int) bool {
			key := benchKey("ours")
			lims := make([]*redislimit.Limiter, len(clients))
			for i, c := range clients {
				lims[i] = redislimit.NewLimiter(c, key, ratelimit.Limit(r), burst)
			}
			return func(ctx context.Context, i int) bool {
				ok, err := lims[i].Allow(ctx)
				if err != nil {
					panic(err)
				}
				return ok
			}
		}},
		{"redis_rate", func(b *testing.B, clients []*redis.Client) func(context.Context, int) bool {
			key := benchKey("redis_rate")
			lim := redis_rate.Limit{Rate: int(r), Burst: burst, Period: time.Second}
			lims := make([]*redis_rate.Limiter, len(clients))
			for i, c := range clients {
				lims[i] = redis_rate.NewLimiter(c)
			}
			return func(ctx context.Context, i int) bool {
				res, err := lims[i].Allow(ctx, key, lim)
				if err != nil {
					panic(err)
				}
				return res.Allowed > 0
			}
		}},
	}
}

// runRedis times each contender making calls calls, shared out among
// len(clients) goroutines, one per client; interleaved, with the round
// trips per call and the calls a second of each.
func runRedis(b *testing.B, addr string, nclients, calls int, cs []redisContender, warm func(f func(context.Context, int) bool)) {
	ctx := context.Background()
	timeds := make([]timed, len(cs))
	counters := make([]*counter, len(cs))
	spent := make([]time.Duration, len(cs))
	for k, c := range cs {
		counters[k] = &counter{}
		clients := make([]*redis.Client, nclients)
		for i := range clients {
			clients[i] = countedClient(b, addr, counters[k])
		}
		f := c.make(b, clients)
		for i := range clients {
			f(ctx, i) // connections made, scripts loaded
		}
		if warm != nil {
			warm(f)
		}
		timeds[k] = timed{c.name, func(batch int) time.Duration {
			var wg sync.WaitGroup
			t0 := time.Now()
			for i := range nclients {
				wg.Go(func() {
					for range batch / nclients {
						f(ctx, i)
					}
				})
			}
			wg.Wait()
			d := time.Since(t0)
			spent[k] += d
			return d
		}}
	}
	before := make([]int64, len(cs))
	for k := range cs {
		before[k] = counters[k].n.Load()
	}
	interleave(b, calls, timeds, [][2]string{{"ours", "redis_rate"}})
	for k, c := range cs {
		rt := counters[k].n.Load() - before[k]
		b.ReportMetric(float64(rt)/float64(b.N*calls), c.name+"-roundtrips/op")
		if nclients > 1 {
			b.ReportMetric(float64(b.N*calls)/spent[k].Seconds(), c.name+"-calls/s")
		}
	}
}

// BenchmarkRedisLimiter: see the top of this file.
func BenchmarkRedisLimiter(b *testing.B) {
	addr := startRedis(b)
	b.Run("allow", func(b *testing.B) {
		runRedis(b, addr, 1, 100, redisContenders(redisOpenLimit, redisOpenBurst), nil)
	})
	b.Run("denied", func(b *testing.B) {
		empty := func(f func(context.Context, int) bool) {
			for f(context.Background(), 0) {
			}
		}
		runRedis(b, addr, 1, 100, redisContenders(10, 1), empty)
	})
	b.Run("parallel", func(b *testing.B) {
		runRedis(b, addr, 4, 400, redisContenders(redisOpenLimit, redisOpenBurst), nil)
	})
}

// BenchmarkRedisWait: 4 clients wait for 200 events at 2000/s, burst 1,
// from a fresh key each time; see the top of this file.
func BenchmarkRedisWait(b *testing.B) {
	addr := startRedis(b)
	const rate, events, nclients = 2000, 200, 4
	ctx := context.Background()
	contenders := []struct {
		name string
		make func(clients []*redis.Client) func(i int)
	}{
		{"ours", func(clients []*redis.Client) func(int) {
			key := benchKey("ours-wait")
			lims := make([]*redislimit.Limiter, len(clients))
			for i, c := range clients {
				lims[i] = redislimit.NewLimiter(c, key, rate, 1)
			}
			return func(i int) {
				if err := lims[i].Wait(ctx); err != nil {
					panic(err)
				}
			}
		}},
		{"redis_rate", func(clients []*redis.Client) func(int) {
			key := benchKey("redis_rate-wait")
			lim := redis_rate.Limit{Rate: rate, Burst: 1, Period: time.Second}
			lims := make([]*redis_rate.Limiter, len(clients))
			for i, c := range clients {
				lims[i] = redis_rate.NewLimiter(c)
			}
			return func(i int) {
				for {
					res, err := lims[i].Allow(ctx, key, lim)
					if err != nil {
						panic(err)
					}
					if res.Allowed > 0 {
						return
					}
					time.Sleep(res.RetryAfter)
				}
			}
		}},
	}
	counters := make([]*counter, len(contenders))
	clients := make([][]*redis.Client, len(contenders))
	for k := range contenders {
		counters[k] = &counter{}
		for range nclients {
			clients[k] = append(clients[k], countedClient(b, addr, counters[k]))
		}
		// Connections made, scripts loaded, on a key of their own.
		warm := contenders[k].make(clients[k])
		for c := range nclients {
			warm(c)
		}
	}
	sums := make([]time.Duration, len(contenders))
	rts := make([]int64, len(contenders))
	for i := 0; i < b.N; i++ {
		for j := range contenders {
			k := (i + j) % len(contenders)
			f := contenders[k].make(clients[k])
			rt0 := counters[k].n.Load()
			var wg sync.WaitGroup
			t0 := time.Now()
			for c := range nclients {
				wg.Go(func() {
					for range events / nclients {
						f(c)
					}
				})
			}
			wg.Wait()
			sums[k] += time.Since(t0)
			rts[k] += counters[k].n.Load() - rt0
		}
	}
	for k, c := range contenders {
		// The first event is the burst; the rest come at the rate.
		got := float64(events-1) * float64(b.N) / sums[k].Seconds()
		b.ReportMetric(got/rate, c.name+"-of-rate")
		b.ReportMetric(float64(rts[k])/float64(events*b.N), c.name+"-roundtrips/event")
	}
}

// BenchmarkAllocsRedis: allocs/op of each contender's Allow alone, on a
// limit that never refuses (one round trip each) and on an empty bucket
// (ours: the pre-check).
func BenchmarkAllocsRedis(b *testing.B) {
	addr := startRedis(b)
	ctx := context.Background()
	for _, k := range []struct {
		name  string
		r     float64
		burst int
	}{{"allow", redisOpenLimit, redisOpenBurst}, {"denied", 10, 1}} {
		for _, c := range redisContenders(k.r, k.burst) {
			b.Run(k.name+"/"+c.name, func(b *testing.B) {
				f := c.make(b, []*redis.Client{countedClient(b, addr, &counter{})})
				for f(ctx, 0) && k.name == "denied" {
				}
				b.ReportAllocs()
				for b.Loop() {
					f(ctx, 0)
				}
			})
		}
	}
}

// BenchmarkRedisContended: 200 callers on 2 clients (replicas), each
// looping on a wait for one event with a 50ms deadline, more than a limit
// of 1200/s, burst 12, can serve, for 500ms from a fresh key each time:
// ours with Wait, redis_rate with Allow and a sleep of RetryAfter when it
// fits the deadline (else the caller gives up, as Wait does). Reports the
// rate achieved as a fraction of 1200/s and the round trips per grant of
// each.
func BenchmarkRedisContended(b *testing.B) {
	addr := startRedis(b)
	const rate, burst, callers, replicas = 1200, 12, 200, 2
	const deadline, runFor = 50 * time.Millisecond, 500 * time.Millisecond
	contenders := []struct {
		name string
		make func(clients []*redis.Client) func(ctx context.Context, i int) bool
	}{
		{"ours", func(clients []*redis.Client) func(context.Context, int) bool {
			key := benchKey("ours-contended")
			lims := make([]*redislimit.Limiter, len(clients))
			for i, c := range clients {
				lims[i] = redislimit.NewLimiter(c, key, rate, burst)
			}
			return func(ctx context.Context, i int) bool { return lims[i].Wait(ctx) == nil }
		}},
		{"redis_rate", func(clients []*redis.Client) func(context.Context, int) bool {
			key := benchKey("redis_rate-contended")
			lim := redis_rate.Limit{Rate: rate, Burst: burst, Period: time.Second}
			lims := make([]*redis_rate.Limiter, len(clients))
			for i, c := range clients {
				lims[i] = redis_rate.NewLimiter(c)
			}
			return func(ctx context.Context, i int) bool {
				for {
					res, err := lims[i].Allow(ctx, key, lim)
					if err != nil {
						return false
					}
					if res.Allowed > 0 {
						return true
					}
					d, _ := ctx.Deadline()
					if res.RetryAfter > time.Until(d) {
						return false
					}
					time.Sleep(res.RetryAfter)
				}
			}
		}},
	}
	counters := make([]*counter, len(contenders))
	clients := make([][]*redis.Client, len(contenders))
	for k := range contenders {
		counters[k] = &counter{}
		for range replicas {
			c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, PoolSize: 100})
			c.AddHook(counters[k])
			b.Cleanup(func() { c.Close() })
			clients[k] = append(clients[k], c)
		}
		warm := contenders[k].make(clients[k])
		for c := range replicas {
			warm(context.Background(), c)
		}
	}
	granted := make([]int64, len(contenders))
	rts := make([]int64, len(contenders))
	spent := make([]time.Duration, len(contenders))
	for i := 0; i < b.N; i++ {
		for j := range contenders {
			k := (i + j) % len(contenders)
			f := contenders[k].make(clients[k])
			rt0 := counters[k].n.Load()
			var n atomic.Int64
			var wg sync.WaitGroup
			t0 := time.Now()
			stopAt := t0.Add(runFor)
			for c := range callers {
				wg.Go(func() {
					for time.Now().Before(stopAt) {
						ctx, stop := context.WithTimeout(context.Background(), deadline)
						if f(ctx, c%replicas) {
							n.Add(1)
						}
						stop()
					}
				})
			}
			wg.Wait()
			spent[k] += time.Since(t0)
			granted[k] += n.Load()
			rts[k] += counters[k].n.Load() - rt0
		}
	}
	for k, c := range contenders {
		b.ReportMetric(float64(granted[k])/spent[k].Seconds()/rate, c.name+"-of-rate")
		b.ReportMetric(float64(rts[k])/float64(max(granted[k], 1)), c.name+"-roundtrips/grant")
	}
}
