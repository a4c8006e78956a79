//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/retry"
)

// client is the recipe: one adaptive limit, one breaker and one retry
// budget for one downstream, shared by every call to it.
type client struct {
	limit   *ratelimit.Adaptive
	breaker *retry.Breaker
	budget  *retry.Budget
	backend func(ctx context.Context, key string) (string, error)
}

func newClient(backend func(ctx context.Context, key string) (string, error)) *client {
	return &client{
		limit:   ratelimit.NewAdaptive(),
		breaker: retry.NewBreaker(),
		budget:  retry.NewBudget(10, 0.1),
		backend: backend,
	}
}

func (c *client) get(ctx context.Context, key string) (string, error) {
	return retry.DoValue(ctx, func(ctx context.Context) (string, error) {
		var v string
		err := c.limit.Do(ctx, func(ctx context.Context) error {
			return c.breaker.Do(ctx, func(ctx context.Context) error {
				var err error
				v, err = c.backend(ctx, key)
				return err
			})
		})
		if errors.Is(err, ratelimit.ErrExceedsLimit) {
			return "", retry.Permanent(err) // shed at once: a retry would only add load
		}
		return v, err
	}, retry.WithBudget(c.budget))
}

// queued is the trap: a fixed limit whose callers wait in line for a slot.
func queued(ctx context.Context, sem *ratelimit.Semaphore, call func(context.Context) error) error {
	if err := sem.Acquire(ctx, 1); err != nil { // under sustained overload: waits until its deadline
		return err
	}
	defer sem.Release(1)
	return call(ctx)
}

// A backend is a downstream of 8 workers, first come first served, whose
// calls take 10ms + Exp(10ms); while down, it answers 503 at once.
type backend struct {
	workers *ratelimit.Semaphore
	mu      sync.Mutex
	rng     *rand.Rand
	down    bool
}

var errUnavailable = errors.New("503 Service Unavailable")

func newBackend() *backend {
	return &backend{workers: ratelimit.NewSemaphore(8), rng: rand.New(rand.NewPCG(1, 2))}
}

func (b *backend) get(ctx context.Context, key string) (string, error) {
	b.mu.Lock()
	down := b.down
	s := 10*time.Millisecond + time.Duration(b.rng.ExpFloat64()*float64(10*time.Millisecond))
	b.mu.Unlock()
	if down {
		return "", errUnavailable
	}
	if err := b.workers.Acquire(ctx, 1); err != nil {
		return "", err
	}
	defer b.workers.Release(1)
	select {
	case <-time.After(s):
		return "value of " + key, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// offer makes 1200 calls a second for d (three times what the backend
// serves), each with a deadline of a second, and returns the latencies of
// those that succeeded and the errors of the others.
func offer(d time.Duration, call func(ctx context.Context) error) (latencies []time.Duration, errs []error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	rng := rand.New(rand.NewPCG(3, 4))
	for end := time.Now().Add(d); time.Now().Before(end); {
		time.Sleep(time.Duration(rng.ExpFloat64() / 1200 * float64(time.Second)))
		wg.Go(func() {
			ctx, stop := context.WithTimeout(context.Background(), time.Second)
			defer stop()
			start := time.Now()
			err := call(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			latencies = append(latencies, time.Since(start))
		})
	}
	wg.Wait()
	return latencies, errs
}

func p99(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)*99/100]
}

// The recipe under three times the load its downstream serves: it serves
// nearly all the downstream can, with a p99 a few calls long, and sheds
// the rest at once. The trap, a queue in front of a fixed limit, turns the
// same overload into latency: its calls wait in line until nearly their
// deadline.
func TestProtectShedsOverloadWhereAQueueTurnsItIntoLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBackend()
		c := newClient(b.get)
		lat, errs := offer(10*time.Second, func(ctx context.Context) error {
			_, err := c.get(ctx, "k")
			return err
		})
		shed := 0
		for _, err := range errs {
			if errors.Is(err, ratelimit.ErrExceedsLimit) {
				shed++
			}
		}
		if len(lat) < 3600 || shed != len(errs) || p99(lat) > 100*time.Millisecond {
			t.Errorf("the recipe: %d served in 10s (the backend can 4000), %d shed of %d errors, p99 %v; want 3600 or more, only shed, p99 under 100ms",
				len(lat), shed, len(errs), p99(lat))
		}

		b = newBackend()
		sem := ratelimit.NewSemaphore(16)
		lat, _ = offer(10*time.Second, func(ctx context.Context) error {
			return queued(ctx, sem, func(ctx context.Context) error { _, err := b.get(ctx, "k"); return err })
		})
		if p99(lat) < 900*time.Millisecond {
			t.Errorf("the trap: p99 %v, want near the deadline of 1s", p99(lat))
		}
	})
}

// The downstream goes down: the breaker opens after its first failures,
// and the calls after fail at once, naming why, until it is back.
func TestProtectFailsFastWhileTheDownstreamIsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBackend()
		c := newClient(b.get)
		b.down = true
		reached := 0
		c.backend = func(ctx context.Context, key string) (string, error) {
			reached++
			return b.get(ctx, key)
		}
		var last error
		for range 100 {
			_, last = c.get(context.Background(), "k")
		}
		if !errors.Is(last, retry.ErrOpen) || !strings.Contains(last.Error(), "opened by: 503 Service Unavailable") {
			t.Errorf("the 100th call while down = %v, want ErrOpen naming the failure", last)
		}
		if reached > 10 {
			t.Errorf("%d calls reached a downstream that was down, want a few (before the breaker opened)", reached)
		}
		b.down = false
		time.Sleep(5 * time.Second) // the breaker's open time
		if v, err := c.get(context.Background(), "k"); err != nil || v != "value of k" {
			t.Errorf("once the downstream is back: %q, %v", v, err)
		}
	})
}

// A nursery's tasks fan out to one downstream through the recipe: when the
// downstream is down, Run returns one error, which names the failure.
func Example_protectNursery() {
	b := newBackend()
	b.down = true
	c := newClient(b.get)
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for _, key := range []string{"a", "b", "c", "d"} {
			n.Go(func(ctx context.Context) error {
				_, err := c.get(ctx, key)
				return err
			})
		}
		return nil
	})
	fmt.Println(errors.Is(err, errUnavailable) || errors.Is(err, retry.ErrOpen), strings.Contains(err.Error(), "503 Service Unavailable"))
	// Output: true true
}
