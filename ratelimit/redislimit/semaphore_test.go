package redislimit_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/structured-go/structured/ratelimit/redislimit"
)

// untilQueued waits until key's queue holds want waiters, for 10s at most.
func untilQueued(t *testing.T, ref *redis.Client, key string, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := ref.ZCard(t.Context(), key+":queue").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d in the queue of %s, want %d", n, key, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// replicasOf returns one Semaphore per replica on one fresh key, each with
// its own client.
func replicasOf(t *testing.T, replicas int, n int64, opts ...redislimit.Option) ([]*redislimit.Semaphore, string) {
	key := newKey(t)
	sems := make([]*redislimit.Semaphore, replicas)
	for i := range sems {
		sems[i] = redislimit.NewSemaphore(newClient(t, redisAddr), key, n, opts...)
	}
	return sems, key
}

// 4 replicas with 3 workers each, looping Do on a Semaphore of 2: never
// more than 2 in their functions at once, and everyone gets through.
func TestSemaphoreNeverAdmitsMoreThanItsSlots(t *testing.T) {
	sems, _ := replicasOf(t, 4, 2)
	var now, peak, done atomic.Int64
	perWorker := make([]int64, 4*3)
	stopAt := time.Now().Add(time.Second)
	var wg sync.WaitGroup
	for i, s := range sems {
		for w := range 3 {
			wg.Go(func() {
				for time.Now().Before(stopAt) {
					err := s.Do(t.Context(), func(ctx context.Context) error {
						n := now.Add(1)
						for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
						}
						time.Sleep(2 * time.Millisecond)
						now.Add(-1)
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
					done.Add(1)
					perWorker[i*3+w]++
				}
			})
		}
	}
	wg.Wait()
	t.Logf("%d Do calls in 1s, per worker %v, at most %d at once", done.Load(), perWorker, peak.Load())
	if p := peak.Load(); p > 2 {
		t.Fatalf("%d functions ran at once under a Semaphore of 2", p)
	}
	if peak.Load() < 2 {
		t.Fatalf("never 2 at once in %d Do calls: the second slot went unused", done.Load())
	}
	for i, n := range perWorker {
		if n == 0 {
			t.Fatalf("worker %d never got a slot in 1s: %v", i, perWorker)
		}
	}
}

// Waiters from different replicas are served in the order they arrived,
// whichever polls first when the slot frees.
func TestSemaphoreServesWaitersInOrderOfArrival(t *testing.T) {
	sems, key := replicasOf(t, 5, 1)
	ref := newClient(t, redisAddr)
	holder, err := sems[0].Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := 1; i < len(sems); i++ {
		wg.Go(func() {
			err := sems[i].Do(t.Context(), func(ctx context.Context) error {
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
		untilQueued(t, ref, key, int64(i)) // the next one starts once this one is queued
	}
	// A newcomer cannot take a slot ahead of them, even once it is free.
	if l, err := sems[0].TryAcquire(t.Context()); l != nil || err != nil {
		t.Fatalf("TryAcquire with the slot held and 4 waiting = %v, %v; want nil, nil", l, err)
	}
	if err := holder.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if l, err := sems[0].TryAcquire(t.Context()); l != nil || err != nil {
		t.Fatalf("TryAcquire with the slot free and 4 waiting = %v, %v; want nil, nil", l, err)
	}
	wg.Wait()
	if want := []int{1, 2, 3, 4}; !slices.Equal(order, want) {
		t.Fatalf("waiters were served in the order %v, want %v", order, want)
	}
	if l, err := sems[0].TryAcquire(t.Context()); l == nil || err != nil {
		t.Fatalf("TryAcquire with the slot free and nobody waiting = %v, %v; want a lease", l, err)
	} else if err := l.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// A holder that stops renewing loses its slot when its lease expires, and
// another replica gets it then, not before; the old holder learns it.
func TestHolderThatStopsRenewingLosesItsSlot(t *testing.T) {
	const ttl = 300 * time.Millisecond
	sems, _ := replicasOf(t, 2, 1, redislimit.WithTTL(ttl))
	start := time.Now()
	stale, err := sems[0].Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !stale.Expires().After(start) || stale.Expires().After(time.Now().Add(ttl)) {
		t.Fatalf("Expires() = %v after the start, want within the TTL from now", stale.Expires().Sub(start))
	}
	// Replica 1 waits; replica 0 never renews.
	next, err := sems[1].Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer next.Release(t.Context())
	if got := time.Since(start); got < ttl {
		t.Fatalf("replica 1 got the slot %v after replica 0 took it, before its %v lease expired", got, ttl)
	}
	if got := time.Since(start); got > ttl+300*time.Millisecond {
		t.Fatalf("replica 1 got the slot only %v after replica 0 took it, long after its %v lease expired", got, ttl)
	}
	if err := stale.Renew(t.Context()); !errors.Is(err, redislimit.ErrLeaseLost) {
		t.Fatalf("Renew of the expired lease = %v, want ErrLeaseLost", err)
	}
	if err := stale.Release(t.Context()); !errors.Is(err, redislimit.ErrLeaseLost) {
		t.Fatalf("Release of the expired lease = %v, want ErrLeaseLost", err)
	}
}

// Do renews its lease while its function runs, for longer than the TTL;
// nobody else gets the slot meanwhile, and it is free as soon as Do returns.
// (The TTL leaves a loaded host 300ms of lateness for each renewal.)
func TestDoRenewsItsLeaseWhileTheFunctionRuns(t *testing.T) {
	const ttl = 450 * time.Millisecond
	sems, _ := replicasOf(t, 2, 1, redislimit.WithTTL(ttl))
	var stolen atomic.Int64
	err := sems[0].Do(t.Context(), func(ctx context.Context) error {
		end := time.Now().Add(4 * ttl)
		for time.Now().Before(end) {
			l, err := sems[1].TryAcquire(ctx)
			if err != nil {
				return err
			}
			if l != nil {
				stolen.Add(1)
				l.Release(ctx)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return ctx.Err()
	})
	if err != nil {
		t.Fatalf("Do running 4 TTLs = %v, want nil", err)
	}
	if n := stolen.Load(); n > 0 {
		t.Fatalf("another replica got the slot %d times while Do held it", n)
	}
	l, err := sems[1].TryAcquire(t.Context())
	if l == nil || err != nil {
		t.Fatalf("TryAcquire right after Do = %v, %v; want the slot", l, err)
	}
	l.Release(t.Context())
}

// Do returns fn's error unchanged, and releases the slot even when fn
// panics; the panic goes on unchanged.
func TestDoReleasesOnErrorAndPanic(t *testing.T) {
	sems, _ := replicasOf(t, 1, 1)
	s := sems[0]
	errMine := errors.New("mine")
	if err := s.Do(t.Context(), func(context.Context) error { return errMine }); err != errMine {
		t.Fatalf("Do = %v, want fn's error itself", err)
	}
	r := recoverPanic(func() {
		s.Do(t.Context(), func(context.Context) error { panic("boom") })
	})
	if r != "boom" {
		t.Fatalf("Do's panic = %v, want fn's panic value unchanged", r)
	}
	l, err := s.TryAcquire(t.Context())
	if l == nil || err != nil {
		t.Fatalf("TryAcquire after the panic = %v, %v; want the slot back", l, err)
	}
	if err := l.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(t.Context()); err != nil {
		t.Fatalf("second Release = %v, want nil (nothing)", err)
	}
	if err := l.Renew(t.Context()); !errors.Is(err, redislimit.ErrLeaseLost) {
		t.Fatalf("Renew after Release = %v, want ErrLeaseLost", err)
	}
}

// A fn that calls runtime.Goexit ends Do's goroutine, and Do still stops
// and waits for its renewals and releases the slot on the way out.
func TestDoCleansUpWhenFnCallsGoexit(t *testing.T) {
	sems, _ := replicasOf(t, 2, 1)
	// Warm both clients up, so that their pools' goroutines are there before
	// the snapshot goleak compares with.
	for _, s := range sems {
		l, err := s.TryAcquire(t.Context())
		if l == nil || err != nil {
			t.Fatalf("TryAcquire = %v, %v; want the slot", l, err)
		}
		if err := l.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	before := goleak.IgnoreCurrent()
	done := make(chan struct{})
	ran := false
	go func() {
		defer close(done)
		sems[0].Do(t.Context(), func(context.Context) error {
			ran = true
			runtime.Goexit()
			return nil
		})
		t.Error("Do returned after its fn called runtime.Goexit")
	}()
	<-done
	if !ran {
		t.Fatal("Do did not call fn")
	}
	goleak.VerifyNone(t, before)
	l, err := sems[1].TryAcquire(t.Context())
	if l == nil || err != nil {
		t.Fatalf("TryAcquire after the Goexit = %v, %v; want the slot back", l, err)
	}
	if err := l.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// An Acquire whose context ends takes its place out of the queue at once,
// so the waiter behind it is not held up, and returns ctx.Err().
func TestCancelledAcquireLeavesTheQueue(t *testing.T) {
	sems, key := replicasOf(t, 3, 1)
	ref := newClient(t, redisAddr)
	holder, err := sems[0].Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, stop)
	if _, err := sems[1].Acquire(ctx); err != context.Canceled {
		t.Fatalf("cancelled Acquire = %v, want context.Canceled", err)
	}
	if n, _ := ref.ZCard(t.Context(), key+":queue").Result(); n != 0 {
		t.Fatalf("%d left in the queue after the cancelled Acquire returned, want 0", n)
	}
	if err := sems[0].Do(ctx, func(context.Context) error { return nil }); err != context.Canceled {
		t.Fatalf("Do with a done context = %v, want context.Canceled", err)
	}
	if err := holder.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	l, err := sems[2].Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	l.Release(t.Context())
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("Acquire of a free slot took %v: a departed waiter held it up", d)
	}
}

// commandCounter is a go-redis hook counting the commands a client sends.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}
func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// countingClient returns a client of addr and the count of its commands.
func countingClient(t *testing.T, addr string) (*redis.Client, *atomic.Int64) {
	c := newClient(t, addr)
	counter := &commandCounter{}
	c.AddHook(counter)
	return c, &counter.n
}

// The waiters of a Semaphore wait on one poller: its calls to Redis while
// they wait do not grow with their number. Each waiter costs one round
// trip to join the queue and one to leave it; in between, at most one
// poll every MinPoll for all of them. (Before, each waiter polled: 500
// waiters made 6,700 calls a second.)
func TestSemaphoreWaitersShareOnePoller(t *testing.T) {
	for _, tc := range []struct{ replicas, waiters int }{{1, 1}, {1, 100}, {1, 500}, {2, 250}} {
		t.Run(fmt.Sprintf("%d replicas, %d waiters each", tc.replicas, tc.waiters), func(t *testing.T) {
			key := newKey(t)
			ref := newClient(t, redisAddr)
			holder, err := redislimit.NewSemaphore(ref, key, 1).Acquire(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(t.Context())
			var wg sync.WaitGroup
			counts := make([]*atomic.Int64, tc.replicas)
			for r := range tc.replicas {
				c, n := countingClient(t, redisAddr)
				counts[r] = n
				sem := redislimit.NewSemaphore(c, key, 1)
				for range tc.waiters {
					wg.Go(func() {
						if l, err := sem.Acquire(ctx); err != context.Canceled {
							t.Errorf("Acquire = %v, %v; want context.Canceled", l, err)
						}
					})
				}
			}
			untilQueued(t, ref, key, int64(tc.replicas*tc.waiters))
			before := make([]int64, tc.replicas)
			for r, n := range counts {
				before[r] = n.Load()
			}
			start := time.Now()
			time.Sleep(300 * time.Millisecond) // the window in which the calls are counted
			window := time.Since(start)
			for r, n := range counts {
				calls := n.Load() - before[r]
				most := int64(window/redislimit.MinPoll) + 2
				t.Logf("replica %d: %d calls in %v with %d waiters: %.0f a second", r, calls, window.Round(time.Millisecond), tc.waiters, float64(calls)/window.Seconds())
				if calls > most {
					t.Errorf("replica %d: %d calls in %v with %d waiters, more than one poll every %v (%d)", r, calls, window, tc.waiters, redislimit.MinPoll, most)
				}
			}
			stop()
			wg.Wait()
			if err := holder.Release(t.Context()); err != nil {
				t.Fatal(err)
			}
			if n, _ := ref.ZCard(t.Context(), key+":queue").Result(); n != 0 {
				t.Fatalf("%d left in the queue after every waiter left", n)
			}
			if n, _ := ref.ZCard(t.Context(), key+":holders").Result(); n != 0 {
				t.Fatalf("%d holders after every waiter left and the holder released", n)
			}
		})
	}
}

// A waiter that gives up while others of its Semaphore wait leaves the
// queue with the poller's next poll; the others go on waiting, in order.
func TestACancelledWaiterLeavesWithTheNextPoll(t *testing.T) {
	key := newKey(t)
	ref := newClient(t, redisAddr)
	holder, err := redislimit.NewSemaphore(ref, key, 1).Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sem := redislimit.NewSemaphore(newClient(t, redisAddr), key, 1)
	ctx, stop := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() { _, err := sem.Acquire(ctx); first <- err }()
	untilQueued(t, ref, key, 1)
	second := make(chan *redislimit.Lease, 1)
	go func() {
		l, err := sem.Acquire(t.Context())
		if err != nil {
			t.Error(err)
		}
		second <- l
	}()
	untilQueued(t, ref, key, 2)
	stop()
	if err := <-first; err != context.Canceled {
		t.Fatalf("cancelled Acquire = %v, want context.Canceled", err)
	}
	untilQueued(t, ref, key, 1)
	if err := holder.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if l := <-second; l == nil {
		t.Fatal("the waiter left behind got no slot")
	} else if err := l.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
}
