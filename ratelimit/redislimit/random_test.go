package redislimit_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/ratelimit/redislimit"
)

// The randomized test: 3 replicas, each a nursery of workers sharing a
// Limiter and a Semaphore with the other replicas, do random mixes of what
// users do — Wait with deadlines that are often too short, Wait with no
// deadline that is cancelled while it waits (in line beyond ReserveWithin,
// or sleeping on its grant), Allow, Reserve then act or Cancel, Do that
// succeeds, fails, panics or outlasts its context, a Wait nested inside a
// Do, an Acquire given up while the poller asks for it — and one replica is
// cancelled midway. Invariants: never more than the Semaphore's slots in
// use, never more than burst + rate × elapsed granted, every error a worker
// made comes out of its nursery exactly once and nothing else does, every
// panic comes out of its Do unchanged, nothing is left running (a live
// counter, and goleak in TestMain), and nothing is left in Redis: no
// holder, nobody in the queue.
func TestRandomReplicas(t *testing.T) {
	const (
		replicas = 3
		workers  = 4
		ops      = 60
		rate     = 300
		burst    = 5
		slots    = 2
	)
	limKey, semKey := newKey(t), newKey(t)
	type replica struct {
		lim *redislimit.Limiter
		sem *redislimit.Semaphore
	}
	reps := make([]replica, replicas)
	for i := range reps {
		c := newClient(t, redisAddr)
		reps[i] = replica{
			lim: redislimit.NewLimiter(c, limKey, rate, burst, redislimit.FailLocal(replicas),
				redislimit.ReserveWithin(time.Duration(5+10*i)*time.Millisecond)),
			sem: redislimit.NewSemaphore(c, semKey, slots, redislimit.WithTTL(300*time.Millisecond)),
		}
	}
	var (
		granted, live, inSlot, peak atomic.Int64
		errSeq                      atomic.Int64
		mu                          sync.Mutex
		made                        = map[string]int{} // errors the workers returned, by text
	)
	work := func(ctx context.Context) error {
		n := inSlot.Add(1)
		defer inSlot.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(3 * time.Millisecond)
		return nil
	}
	ref := newClient(t, redisAddr)
	t0 := redisNow(t, ref)
	var wg sync.WaitGroup
	for r := range replicas {
		rep := reps[r]
		wg.Go(func() {
			err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				if r == 0 {
					n.Go(func(ctx context.Context) error {
						time.Sleep(300 * time.Millisecond)
						n.Cancel(nil) // early stop: its workers' echoes are not errors
						return nil
					})
				}
				for w := range workers {
					rng := rand.New(rand.NewPCG(uint64(r), uint64(w)))
					n.Go(func(ctx context.Context) error {
						live.Add(1)
						defer live.Add(-1)
						for range ops {
							if ctx.Err() != nil {
								return ctx.Err()
							}
							if err := randomOp(ctx, t, rng, rep.lim, rep.sem, &granted, work); err != nil {
								if errors.Is(err, errWorker) {
									mu.Lock()
									made[err.Error()]++
									mu.Unlock()
									return err
								}
								if ctx.Err() == nil {
									t.Errorf("replica %d worker %d: %v", r, w, err)
								}
								return err
							}
						}
						// One worker in two ends with an error of its own.
						if rng.IntN(2) == 0 {
							err := fmt.Errorf("replica %d worker %d, error %d: %w", r, w, errSeq.Add(1), errWorker)
							mu.Lock()
							made[err.Error()]++
							mu.Unlock()
							return err
						}
						return nil
					})
				}
				return nil
			}, nursery.WithCollectAll())
			// Every error a worker made, once; nothing else.
			got := map[string]int{}
			for _, e := range multierr.Errors(err) {
				if !errors.Is(e, errWorker) {
					t.Errorf("replica %d: its nursery returned %v, which no worker made", r, e)
				}
				got[e.Error()]++
			}
			mu.Lock()
			defer mu.Unlock()
			for text, n := range got {
				if made[text] != 1 || n != 1 {
					t.Errorf("replica %d: error %q came out %d times, was made %d times", r, text, n, made[text])
				}
			}
		})
	}
	wg.Wait()
	elapsed := redisNow(t, ref).Sub(t0)
	for text, n := range made {
		if n != 1 {
			t.Errorf("error %q made %d times", text, n)
		}
	}
	if l := live.Load(); l != 0 {
		t.Fatalf("%d workers still running after every nursery returned", l)
	}
	if p := peak.Load(); p > slots {
		t.Fatalf("%d functions in the Semaphore of %d at once", p, slots)
	}
	if most := burst + rate*elapsed.Seconds(); float64(granted.Load()) > most {
		t.Fatalf("granted %d in %v, more than burst + rate × elapsed = %.1f", granted.Load(), elapsed, most)
	}
	for _, k := range []string{":holders", ":queue"} {
		if n, err := ref.ZCard(t.Context(), semKey+k).Result(); err != nil || n != 0 {
			t.Errorf("%s%s holds %d (%v) after every replica is done, want 0", semKey, k, n, err)
		}
	}
	var queued, spares int64
	for _, r := range reps {
		s := r.lim.Stats()
		queued += s.Queued
		spares += s.Spares
	}
	t.Logf("%d errors made and returned, %d tokens granted in %v, at most %d in a slot at once; %d Waits in line, %d spares taken",
		len(made), granted.Load(), elapsed.Round(time.Millisecond), peak.Load(), queued, spares)
}

var errWorker = errors.New("a worker's own error")

// randomOp does one thing a user would. It counts the tokens it takes in
// granted, and returns an error only for what the test must see: a
// worker's own error (wrapping errWorker), the context's end, or something
// that should not have happened.
func randomOp(ctx context.Context, t *testing.T, rng *rand.Rand, lim *redislimit.Limiter, sem *redislimit.Semaphore,
	granted *atomic.Int64, work func(context.Context) error) error {
	waitFor := func(ctx context.Context, d time.Duration) error {
		wctx, stop := context.WithTimeout(ctx, d)
		defer stop()
		err := lim.Wait(wctx)
		switch {
		case err == nil:
			granted.Add(1)
			return nil
		case errors.Is(err, ratelimit.ErrExceedsDeadline), err == context.DeadlineExceeded && ctx.Err() == nil:
			return nil // too short a deadline: the caller's choice
		case ctx.Err() != nil:
			return ctx.Err() // the nursery's own end, whatever ended first
		}
		return err
	}
	switch rng.IntN(8) {
	case 0: // Wait with a deadline that is often too short
		return waitFor(ctx, time.Duration(rng.IntN(20))*time.Millisecond)
	case 6: // Wait with no deadline, given up after a while
		wctx, stop := context.WithCancel(ctx)
		timer := time.AfterFunc(time.Duration(rng.IntN(30))*time.Millisecond, stop)
		defer timer.Stop()
		defer stop()
		switch err := lim.Wait(wctx); {
		case err == nil:
			granted.Add(1)
		case err == context.Canceled && ctx.Err() == nil:
		default:
			return err
		}
		return nil
	case 7: // Acquire, given up while waiting, or held a moment
		actx, stop := context.WithTimeout(ctx, time.Duration(rng.IntN(10))*time.Millisecond)
		defer stop()
		lease, err := sem.Acquire(actx)
		switch {
		case err == nil:
			werr := work(ctx)
			if rerr := lease.Release(context.WithoutCancel(ctx)); rerr != nil {
				return fmt.Errorf("Release = %w", rerr)
			}
			return werr
		case err == context.DeadlineExceeded && ctx.Err() == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		}
		return err
	case 1: // Allow, dropping what it refuses
		ok, err := lim.Allow(ctx)
		if ok {
			granted.Add(1)
		}
		return err
	case 2: // Reserve, then act or change one's mind
		res, err := lim.Reserve(ctx)
		if err != nil {
			return err
		}
		if rng.IntN(2) == 0 {
			back, err := res.Cancel(ctx)
			if err != nil {
				return err
			}
			if back {
				return nil
			}
		}
		granted.Add(1) // used, acted on or not
		select {
		case <-time.After(res.Delay()):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	case 3: // Do with a Wait inside: rate-limited work holding a slot
		return sem.Do(ctx, func(ctx context.Context) error {
			if err := waitFor(ctx, 50*time.Millisecond); err != nil {
				return err
			}
			return work(ctx)
		})
	case 4: // Do whose function fails, or panics
		if rng.IntN(2) == 0 {
			mine := fmt.Errorf("failed inside Do, %d: %w", rng.Int64(), errWorker)
			if err := sem.Do(ctx, func(context.Context) error { return mine }); err != mine && ctx.Err() == nil {
				t.Errorf("Do = %v, want its function's error %v unchanged", err, mine)
			}
			return nil // handled here; not returned
		}
		value := rng.Int64()
		r := recoverPanic(func() {
			sem.Do(ctx, func(context.Context) error { panic(value) })
		})
		if r != nil && r != value {
			t.Errorf("Do panicked with %v, want its function's %v", r, value)
		}
		return nil
	default: // Do whose context ends while its function runs
		dctx, stop := context.WithTimeout(ctx, time.Duration(1+rng.IntN(5))*time.Millisecond)
		defer stop()
		err := sem.Do(dctx, func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})
		if err != nil && err != context.DeadlineExceeded && ctx.Err() == nil {
			return fmt.Errorf("Do outlasting its context = %v, want context.DeadlineExceeded", err)
		}
		return nil
	}
}
