//go:build go1.25

package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
)

// The nursery's shared-limit interface: x/sync/semaphore's method set.
var _ interface {
	Acquire(ctx context.Context, n int64) error
	Release(n int64)
} = (*ratelimit.Semaphore)(nil)

// acquireAsync starts an Acquire in a goroutine of its own and returns the
// channel its result arrives on; it returns once the Acquire is blocked or
// done.
func acquireAsync(ctx context.Context, s *ratelimit.Semaphore, n int64) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- s.Acquire(ctx, n) }()
	synctest.Wait()
	return ch
}

// ready reports whether ch has a value, and the value.
func ready(ch <-chan error) (error, bool) {
	select {
	case err := <-ch:
		return err, true
	default:
		return nil, false
	}
}

// S91
func TestAcquireCancelledReturnsCtxErrAndLeavesSemaphoreUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ratelimit.NewSemaphore(2)
		if err := s.Acquire(t.Context(), 2); err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(t.Context())
		go func() {
			time.Sleep(10 * time.Millisecond)
			stop()
		}()
		start := time.Now()
		err := s.Acquire(ctx, 1)
		if err != context.Canceled {
			t.Fatalf("Acquire(cancelled after 10ms) = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d != 10*time.Millisecond {
			t.Errorf("Acquire returned after %v, want 10ms", d)
		}
		if got := s.Waiting(); got != 0 {
			t.Errorf("Waiting() = %d after the cancelled Acquire, want 0", got)
		}
		s.Release(2)
		if !s.TryAcquire(2) {
			t.Error("TryAcquire(2) = false after releasing everything, want true")
		}
	})
}

// S92, S122
func TestAcquireWithDoneContextFailsEvenWhenFree(t *testing.T) {
	s := ratelimit.NewSemaphore(1)
	ctx, stop := context.WithCancel(context.Background())
	stop()
	if err := s.Acquire(ctx, 1); err != context.Canceled {
		t.Fatalf("Acquire(done ctx) = %v, want context.Canceled", err)
	}
	if h := s.Held(); h != 0 {
		t.Fatalf("Held() = %d after the failed Acquire, want 0", h)
	}
	if err := s.Do(ctx, 1, func(context.Context) error {
		t.Error("Do ran its function with a done context")
		return nil
	}); err != context.Canceled {
		t.Fatalf("Do(done ctx) = %v, want context.Canceled", err)
	}
}

// S93: a cancellation racing a grant leaks nothing, whichever the waiter
// sees first. (semaphore_internal_test.go forces the branch where the
// tokens arrive after the context ended.)
func TestCancelRacingReleaseLeaksNoToken(t *testing.T) {
	for range 100 {
		synctest.Test(t, func(t *testing.T) {
			s := ratelimit.NewSemaphore(1)
			if !s.TryAcquire(1) {
				t.Fatal("TryAcquire(1) on a fresh semaphore = false")
			}
			ctx, stop := context.WithCancel(t.Context())
			first := acquireAsync(ctx, s, 1)
			second := acquireAsync(t.Context(), s, 1)
			go stop()
			s.Release(1)
			switch err := <-first; err {
			case context.Canceled:
			case nil:
				s.Release(1)
			default:
				t.Fatalf("first Acquire = %v, want nil or context.Canceled", err)
			}
			if err := <-second; err != nil {
				t.Fatalf("second Acquire = %v, want nil", err)
			}
			s.Release(1)
			if h, w := s.Held(), s.Waiting(); h != 0 || w != 0 {
				t.Fatalf("Held(), Waiting() = %d, %d at the end, want 0, 0", h, w)
			}
		})
	}
}

// S94
func TestTryAcquireFailsWhileAnyoneIsQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ratelimit.NewSemaphore(10)
		if err := s.Acquire(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		big := acquireAsync(t.Context(), s, 10)
		if s.TryAcquire(1) {
			t.Fatal("TryAcquire(1) = true with a waiter queued, want false (no barging)")
		}
		small := acquireAsync(t.Context(), s, 1) // queues behind big, although 9 are free
		if got, want := s.Available(), int64(9); got != want {
			t.Errorf("Available() = %d, want %d", got, want)
		}
		if got := s.Waiting(); got != 2 {
			t.Errorf("Waiting() = %d, want 2", got)
		}
		if _, done := ready(small); done {
			t.Fatal("the small Acquire overtook the big one")
		}
		s.Release(1)
		synctest.Wait()
		if err, done := ready(big); !done || err != nil {
			t.Fatalf("big Acquire: done %v, err %v; want done, nil", done, err)
		}
		if _, done := ready(small); done {
			t.Fatal("the small Acquire got in while the big one holds everything")
		}
		s.Release(10)
		if err := <-small; err != nil {
			t.Fatal(err)
		}
		s.Release(1)
	})
}

// Waiters of mixed weights are served in the order they queued: none
// gets in before one that queued earlier.
func TestWaitersAreServedFirstComeFirstServed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ratelimit.NewSemaphore(3)
		if err := s.Acquire(t.Context(), 3); err != nil {
			t.Fatal(err)
		}
		weights := []int64{2, 1, 3, 1, 1, 2, 3, 1}
		start := time.Now()
		in := make([]time.Duration, len(weights))
		var wg sync.WaitGroup
		for i, w := range weights {
			wg.Go(func() {
				if err := s.Acquire(t.Context(), w); err != nil {
					t.Error(err)
					return
				}
				in[i] = time.Since(start)
				time.Sleep(time.Millisecond)
				s.Release(w)
			})
			synctest.Wait() // queued before the next one starts
		}
		s.Release(3)
		wg.Wait()
		// 2+1 | 3 | 1+1 | 2 | 3 | 1
		want := []time.Duration{0, 0, 1, 2, 2, 3, 4, 5}
		for i := range want {
			if in[i] != want[i]*time.Millisecond {
				t.Fatalf("acquired at %v, want %v ms", in, want)
			}
		}
	})
}

// DESIGN: a request larger than the capacity fails at once (S95 has it wait
// for its context; failing is what keeps it from hanging), and does not
// hold back smaller ones.
func TestRequestLargerThanCapacityFailsAtOnce(t *testing.T) {
	s := ratelimit.NewSemaphore(2)
	err := s.Acquire(context.Background(), 3)
	if !errors.Is(err, ratelimit.ErrExceedsCapacity) {
		t.Fatalf("Acquire(3) on capacity 2 = %v, want ErrExceedsCapacity", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "n=3") || !strings.Contains(msg, "capacity of 2") {
		t.Errorf("error %q does not say n=3 and capacity of 2", msg)
	}
	for i := range 6 {
		if err := s.Acquire(context.Background(), 1); err != nil {
			t.Fatalf("cycle %d: Acquire(1) = %v", i, err)
		}
		s.Release(1)
	}
	if s.TryAcquire(3) {
		t.Error("TryAcquire(3) on capacity 2 = true")
	}
}

// A request too large to fit in an int64 beside what is held fails like
// any request beyond the capacity, on every path: the fast path, TryAcquire,
// the queue, and after a Resize. The count of held tokens is never touched.
func TestHugeRequestFailsOnEveryPathAndLeavesTheCountAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ratelimit.NewSemaphore(10)
		if !s.TryAcquire(1) {
			t.Fatal("TryAcquire(1) on a fresh semaphore = false")
		}
		checkHeld := func(when string, want int64) {
			t.Helper()
			if h := s.Held(); h != want {
				t.Fatalf("%s: Held() = %d, want %d", when, h, want)
			}
		}
		for _, n := range []int64{math.MaxInt64, math.MaxInt64 - 1, math.MaxInt64 / 2, 1 << 62, 11} {
			if err := s.Acquire(t.Context(), n); !errors.Is(err, ratelimit.ErrExceedsCapacity) {
				t.Fatalf("Acquire(%d) with capacity 10, 1 held = %v, want ErrExceedsCapacity", n, err)
			}
			checkHeld(fmt.Sprintf("after Acquire(%d)", n), 1)
			if s.TryAcquire(n) {
				t.Fatalf("TryAcquire(%d) with capacity 10, 1 held = true", n)
			}
			checkHeld(fmt.Sprintf("after TryAcquire(%d)", n), 1)
		}
		if s.TryAcquire(10) {
			t.Fatal("TryAcquire(10) with 1 held of 10 = true: 11 held")
		}
		if !s.TryAcquire(9) {
			t.Fatal("TryAcquire(9) with 1 held of 10 = false")
		}
		checkHeld("full", 10)

		// With someone queued: the request still fails at once.
		queued := make(chan error, 1)
		go func() { queued <- s.Acquire(t.Context(), 5) }()
		synctest.Wait()
		if err := s.Acquire(t.Context(), math.MaxInt64); !errors.Is(err, ratelimit.ErrExceedsCapacity) {
			t.Fatalf("Acquire(MaxInt64) behind a waiter = %v, want ErrExceedsCapacity", err)
		}
		checkHeld("after Acquire(MaxInt64) behind a waiter", 10)

		// After a Resize, both ways.
		for _, c := range []int64{6, 20} { // 6: the queued 5 still fits, and waits
			s.Resize(c)
			if err := s.Acquire(t.Context(), math.MaxInt64); !errors.Is(err, ratelimit.ErrExceedsCapacity) {
				t.Fatalf("Acquire(MaxInt64) after Resize(%d) = %v, want ErrExceedsCapacity", c, err)
			}
			if s.TryAcquire(math.MaxInt64) {
				t.Fatalf("TryAcquire(MaxInt64) after Resize(%d) = true", c)
			}
		}
		if err := <-queued; err != nil {
			t.Fatalf("the queued Acquire(5) = %v once the capacity grew to 20", err)
		}
		checkHeld("after the growth", 15)
		if r := recoverPanic(func() { s.Release(math.MaxInt64) }); r == nil {
			t.Fatal("Release(MaxInt64) with 15 held did not panic")
		}
		checkHeld("after the refused Release", 15)
		s.Release(15)
		if !s.TryAcquire(20) {
			t.Fatal("TryAcquire(Capacity()) failed at the end: the count is off")
		}
	})
}

// S96
func TestCancelledHeadWakesWhoeverCanProceed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ratelimit.NewSemaphore(10)
		if err := s.Acquire(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(t.Context())
		big := acquireAsync(ctx, s, 10)
		small := acquireAsync(t.Context(), s, 1)
		stop()
		if err := <-big; err != context.Canceled {
			t.Fatalf("big Acquire = %v, want context.Canceled", err)
		}
		if err := <-small; err != nil {
			t.Fatalf("small Acquire = %v, want nil", err)
		}
		if h := s.Held(); h != 2 {
			t.Fatalf("Held() = %d, want 2", h)
		}
	})
}

// S97
func TestReleasingMoreThanHeldPanics(t *testing.T) {
	s := ratelimit.NewSemaphore(1)
	r := recoverPanic(func() { s.Release(1) })
	if msg, _ := r.(string); !strings.Contains(msg, "Semaphore.Release(1)") || !strings.Contains(msg, "released more than held") {
		t.Fatalf("Release without Acquire panicked with %v", r)
	}
	// The same with someone queued (the locked path).
	synctest.Test(t, func(t *testing.T) {
		s := ratelimit.NewSemaphore(2)
		if err := s.Acquire(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		w := acquireAsync(t.Context(), s, 2)
		if r := recoverPanic(func() { s.Release(2) }); r == nil {
			t.Fatal("Release(2) with 1 held and a waiter queued did not panic")
		}
		s.Release(1)
		if err := <-w; err != nil {
			t.Fatal(err)
		}
		s.Release(2)
	})
}

// S98
func TestResizeWakesWaitersWhenGrowingAndLetsHoldersFinishWhenShrinking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ratelimit.NewSemaphore(2)
		var holding atomic.Int64
		release := make(chan struct{})
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				if err := s.Acquire(t.Context(), 1); err != nil {
					t.Error(err)
					return
				}
				holding.Add(1)
				<-release
				holding.Add(-1)
				s.Release(1)
			})
		}
		check := func(wantHolding int64, wantWaiting int) {
			t.Helper()
			synctest.Wait()
			if h, w := holding.Load(), s.Waiting(); h != wantHolding || w != wantWaiting {
				t.Fatalf("holders, waiters = %d, %d; want %d, %d", h, w, wantHolding, wantWaiting)
			}
		}
		check(2, 3)
		s.Resize(4)
		check(4, 1)
		s.Resize(1)
		check(4, 1)
		if got := s.Available(); got != 0 {
			t.Errorf("Available() = %d with 4 held of 1, want 0", got)
		}
		for i := range 3 {
			release <- struct{}{}
			check(int64(3-i), 1) // still at or above the capacity of 1: nobody admitted
		}
		release <- struct{}{}
		check(1, 0) // below 1 at last: the waiter gets in
		release <- struct{}{}
		wg.Wait()
		if s.Capacity() != 1 || s.Held() != 0 {
			t.Fatalf("Capacity(), Held() = %d, %d; want 1, 0", s.Capacity(), s.Held())
		}
	})
}

// A waiting request that a Resize makes larger than the capacity fails
// rather than waits for ever; capacity 0 admits nobody.
func TestResizeBelowAWaitingRequestFailsIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ratelimit.NewSemaphore(4)
		if err := s.Acquire(t.Context(), 4); err != nil {
			t.Fatal(err)
		}
		three := acquireAsync(t.Context(), s, 3)
		one := acquireAsync(t.Context(), s, 1)
		s.Resize(2)
		if err := <-three; !errors.Is(err, ratelimit.ErrExceedsCapacity) {
			t.Fatalf("Acquire(3) after Resize(2) = %v, want ErrExceedsCapacity", err)
		}
		s.Release(4)
		if err := <-one; err != nil {
			t.Fatalf("Acquire(1) = %v", err)
		}
		s.Release(1)
		s.Resize(0)
		if s.TryAcquire(1) {
			t.Error("TryAcquire(1) at capacity 0 = true")
		}
		if err := s.Acquire(t.Context(), 1); !errors.Is(err, ratelimit.ErrExceedsCapacity) {
			t.Errorf("Acquire(1) at capacity 0 = %v, want ErrExceedsCapacity", err)
		}
		if err := s.Acquire(t.Context(), 0); err != nil {
			t.Errorf("Acquire(0) at capacity 0 = %v, want nil", err)
		}
	})
}

// S121: waiters block durably, so virtual time moves on around them.
func TestBlockedAcquiresLetVirtualTimeAdvance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ratelimit.NewSemaphore(1)
		if err := s.Acquire(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if err := s.Acquire(t.Context(), 1); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(time.Second)
				s.Release(1)
			})
		}
		start := time.Now()
		time.Sleep(time.Hour)
		s.Release(1)
		wg.Wait()
		if d := time.Since(start); d != time.Hour+10*time.Second {
			t.Errorf("took %v, want 1h10s", d)
		}
	})
}

func TestDoHoldsTheTokensWhileItsFunctionRuns(t *testing.T) {
	s := ratelimit.NewSemaphore(3)
	errWork := errors.New("work failed")
	err := s.Do(context.Background(), 2, func(ctx context.Context) error {
		if h := s.Held(); h != 2 {
			t.Errorf("Held() inside Do = %d, want 2", h)
		}
		return errWork
	})
	if err != errWork {
		t.Fatalf("Do = %v, want the function's error", err)
	}
	r := recoverPanic(func() {
		_ = s.Do(context.Background(), 3, func(context.Context) error { panic("boom") })
	})
	if r != "boom" {
		t.Fatalf("Do's panic = %v, want boom, unchanged", r)
	}
	if h := s.Held(); h != 0 {
		t.Fatalf("Held() after Do panicked = %d, want 0", h)
	}
	if err := s.Do(context.Background(), 4, func(context.Context) error {
		t.Error("Do ran its function for a request beyond the capacity")
		return nil
	}); !errors.Is(err, ratelimit.ErrExceedsCapacity) {
		t.Fatalf("Do(4) on capacity 3 = %v, want ErrExceedsCapacity", err)
	}
}

// One Semaphore bounds the tasks of several nurseries, nested ones
// included, counted together.
func TestSemaphoreBoundsNestedNurseriesTogether(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ratelimit.NewSemaphore(3)
		var now, peak atomic.Int64
		work := func(ctx context.Context) error {
			return s.Do(ctx, 1, func(ctx context.Context) error {
				n := now.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(time.Millisecond)
				now.Add(-1)
				return nil
			})
		}
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			for range 4 {
				n.Go(func(ctx context.Context) error {
					return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
						for range 5 {
							n.Go(work)
						}
						return nil
					})
				})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if p := peak.Load(); p != 3 {
			t.Fatalf("peak concurrency = %d, want 3", p)
		}
	})
}

func TestSemaphoreBadInputPanicsNamingTheArgument(t *testing.T) {
	s := ratelimit.NewSemaphore(1)
	var nilCtx context.Context
	for _, c := range []struct {
		name string
		f    func()
		want string
	}{
		{"NewSemaphore(-1)", func() { ratelimit.NewSemaphore(-1) }, "NewSemaphore(-1)"},
		{"Acquire(nil)", func() { _ = s.Acquire(nilCtx, 1) }, "Semaphore.Acquire called with a nil context"},
		{"Acquire(-1)", func() { _ = s.Acquire(context.Background(), -1) }, "Semaphore.Acquire(n=-1)"},
		{"TryAcquire(-1)", func() { s.TryAcquire(-1) }, "Semaphore.TryAcquire(n=-1)"},
		{"Release(-1)", func() { s.Release(-1) }, "Semaphore.Release(n=-1)"},
		{"Do(nil fn)", func() { _ = s.Do(context.Background(), 1, nil) }, "Semaphore.Do called with a nil function"},
		{"Do(nil ctx)", func() { _ = s.Do(nilCtx, 1, func(context.Context) error { return nil }) }, "Semaphore.Do called with a nil context"},
		{"Resize(-1)", func() { s.Resize(-1) }, "Semaphore.Resize(-1)"},
	} {
		r := recoverPanic(c.f)
		if msg, _ := r.(string); !strings.Contains(msg, c.want) {
			t.Errorf("%s panicked with %v, want a message containing %q", c.name, r, c.want)
		}
	}
}

func TestUncontendedAcquireReleaseAllocatesNothing(t *testing.T) {
	s := ratelimit.NewSemaphore(1)
	ctx := context.Background()
	if a := testing.AllocsPerRun(1000, func() {
		_ = s.Acquire(ctx, 1)
		s.Release(1)
	}); a != 0 {
		t.Fatalf("Acquire+Release allocated %v times, want 0", a)
	}
}
