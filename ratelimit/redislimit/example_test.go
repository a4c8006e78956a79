package redislimit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/ratelimit/redislimit"
)

// Two replicas, each with its own client, share 10 events a second with
// bursts of 2: together they wait as one limiter would. (redisAddr is the
// address of a Redis, "localhost:6379" say.)
func ExampleLimiter_Wait() {
	ctx := context.Background()
	var replicas []*redislimit.Limiter
	for range 2 {
		rdb := redis.NewClient(&redis.Options{Addr: redisAddr, ContextTimeoutEnabled: true})
		defer rdb.Close()
		replicas = append(replicas, redislimit.NewLimiter(rdb, "quota:example-wait", 10, 2))
		rdb.Del(ctx, "quota:example-wait") // a fresh bucket
	}
	start := time.Now()
	for range 3 {
		for _, lim := range replicas {
			if err := lim.Wait(ctx); err != nil {
				fmt.Println(err)
				return
			}
		}
	}
	// 6 events: 2 from the burst, then 4 at 10 a second.
	fmt.Println("6 events took at least 400ms:", time.Since(start) >= 400*time.Millisecond)
	// Output:
	// 6 events took at least 400ms: true
}

// Dropping what exceeds the rate: once Redis has said the bucket is empty,
// the calls it rules out are answered without a round trip.
func ExampleLimiter_Allow() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	rdb.Del(ctx, "quota:example-allow") // a fresh bucket
	lim := redislimit.NewLimiter(rdb, "quota:example-allow", 1, 3)
	for i := range 5 {
		ok, err := lim.Allow(ctx)
		fmt.Println(i, ok, err)
	}
	s := lim.Stats()
	fmt.Printf("%d calls: %d asked Redis, %d answered without it\n", s.Calls, s.Calls-s.Saved, s.Saved)
	// Output:
	// 0 true <nil>
	// 1 true <nil>
	// 2 true <nil>
	// 3 false <nil>
	// 4 false <nil>
	// 5 calls: 3 asked Redis, 2 answered without it
}

// When Redis is down: FailOpen allows and reports it, FailClosed (the
// default) refuses with an error that says why.
func ExampleFailOpen() {
	ctx := context.Background()
	// Nothing listens on port 1: every call fails at once.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, DialerRetries: 1, MaxRetries: -1})
	defer rdb.Close()
	open := redislimit.NewLimiter(rdb, "quota:example-down", 10, 1, redislimit.FailOpen(),
		redislimit.OnFailure(func(err error) {
			fmt.Println("reported:", errors.Is(err, redislimit.ErrUnavailable))
		}))
	fmt.Println(open.Allow(ctx))

	closed := redislimit.NewLimiter(rdb, "quota:example-down", 10, 1)
	ok, err := closed.Allow(ctx)
	fmt.Println(ok, errors.Is(err, redislimit.ErrUnavailable))
	// Output:
	// reported: true
	// true <nil>
	// false true
}

// At most 2 renders at once across two replicas with 3 workers each: Do
// holds a lease, renewed while the function runs.
func ExampleSemaphore_Do() {
	var now, peak atomic.Int64
	render := func(ctx context.Context) error {
		n := now.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		now.Add(-1)
		return nil
	}
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 2 { // replicas
			rdb := redis.NewClient(&redis.Options{Addr: redisAddr, ContextTimeoutEnabled: true})
			sem := redislimit.NewSemaphore(rdb, "licences:example-render", 2)
			var wg sync.WaitGroup
			for range 3 { // workers
				wg.Add(1)
				n.Go(func(ctx context.Context) error {
					defer wg.Done()
					return sem.Do(ctx, render)
				})
			}
			n.Go(func(context.Context) error { wg.Wait(); return rdb.Close() })
		}
		return nil
	})
	fmt.Println("error:", err)
	fmt.Println("at most 2 at once:", peak.Load() <= 2)
	// Output:
	// error: <nil>
	// at most 2 at once: true
}

// Acquire and Release by hand: the holder renews the lease itself, before
// it expires.
func ExampleSemaphore_Acquire() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	sem := redislimit.NewSemaphore(rdb, "licences:example-acquire", 1, redislimit.WithTTL(time.Second))
	lease, err := sem.Acquire(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	other, _ := sem.TryAcquire(ctx)
	fmt.Println("another holder while held:", other != nil)
	fmt.Println("renewed:", lease.Renew(ctx) == nil)
	fmt.Println("released:", lease.Release(ctx) == nil)
	other, _ = sem.TryAcquire(ctx)
	fmt.Println("another holder once released:", other != nil)
	other.Release(ctx)
	// Output:
	// another holder while held: false
	// renewed: true
	// released: true
	// another holder once released: true
}

// Keys built from what clients send: hashed, so that their length is fixed
// and braces in the input cannot choose a Cluster shard; braces only around
// text of our own, for the Semaphore's four keys.
func ExampleNewLimiter_userKeys() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	keyOf := func(user string) string {
		sum := sha256.Sum256([]byte(user))
		return hex.EncodeToString(sum[:16])
	}
	for _, user := range []string{"alice", "{mallory}\nFAKE LOG LINE", strings.Repeat("x", 1<<20)} {
		id := keyOf(user)
		rdb.Del(ctx, "example-login:"+id) // a fresh bucket
		lim := redislimit.NewLimiter(rdb, "example-login:"+id, ratelimit.Every(time.Minute), 1)
		sem := redislimit.NewSemaphore(rdb, "{example-exports:"+id+"}", 1)
		ok, _ := lim.Allow(ctx)
		lease, _ := sem.TryAcquire(ctx)
		fmt.Println(len(lim.Key()), ok, lease != nil)
		if lease != nil {
			lease.Release(ctx)
		}
	}
	// Output:
	// 46 true true
	// 46 true true
	// 46 true true
}
