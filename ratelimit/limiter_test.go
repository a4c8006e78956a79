//go:build go1.25

package ratelimit_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/ratelimit"
)

// S99
func TestLimiterStartsFullAndWaitsForTheRest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(10, 3)
		start := time.Now()
		if err := l.WaitN(t.Context(), 2); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("WaitN(2) on a full bucket took %v, want 0", d)
		}
		if err := l.WaitN(t.Context(), 3); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 200*time.Millisecond {
			t.Fatalf("WaitN(3) with 1 token left at 10/s returned after %v, want 200ms", d)
		}
		err := l.WaitN(t.Context(), 4)
		if !errors.Is(err, ratelimit.ErrExceedsBurst) {
			t.Fatalf("WaitN(4) with burst 3 = %v, want ErrExceedsBurst", err)
		}
		if msg := err.Error(); !strings.Contains(msg, "n=4") || !strings.Contains(msg, "exceeds limiter's burst 3") {
			t.Errorf("error %q does not say n=4 and, in x/time/rate's words, exceeds limiter's burst 3", msg)
		}
		if d := time.Since(start); d != 200*time.Millisecond {
			t.Fatalf("WaitN(4) waited %v before failing", d-200*time.Millisecond)
		}
	})
}

// S99
func TestInfAllowsEverythingEvenWithBurstZero(t *testing.T) {
	l := ratelimit.NewLimiter(ratelimit.Inf, 0)
	if err := l.WaitN(context.Background(), 3); err != nil {
		t.Fatalf("Inf WaitN(3) = %v, want nil", err)
	}
	for range 1000 {
		if !l.AllowN(100) {
			t.Fatal("Inf AllowN(100) = false")
		}
	}
	if r := l.ReserveN(5); !r.OK() || r.Delay() != 0 {
		t.Fatalf("Inf ReserveN(5): OK %v, Delay %v; want true, 0", r.OK(), r.Delay())
	}
	if ratelimit.Every(0) != ratelimit.Inf || ratelimit.Every(-time.Second) != ratelimit.Inf {
		t.Error("Every(interval <= 0) is not Inf")
	}
	if got := ratelimit.Every(100 * time.Millisecond); math.Abs(float64(got)-10) > 1e-9 {
		t.Errorf("Every(100ms) = %v, want 10", got)
	}
}

// S99
func TestZeroLimitAllowsTheBurstAndNothingMore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(0, 1)
		if !l.Allow() {
			t.Fatal("first Allow with limit 0, burst 1 = false")
		}
		time.Sleep(time.Hour)
		if l.Allow() {
			t.Fatal("second Allow with limit 0 = true, an hour later")
		}
		if err := l.Wait(t.Context()); !errors.Is(err, ratelimit.ErrExceedsDeadline) {
			t.Fatalf("Wait with limit 0 and no tokens = %v, want ErrExceedsDeadline (never), at once", err)
		}
		if r := l.Reserve(); r.OK() || r.Delay() != ratelimit.InfDuration {
			t.Fatalf("Reserve with limit 0: OK %v, Delay %v; want false, InfDuration", r.OK(), r.Delay())
		}
		l.SetLimit(10)
		time.Sleep(100 * time.Millisecond)
		if !l.Allow() {
			t.Fatal("Allow 100ms after SetLimit(10) = false")
		}
	})
}

// The zero Limiter is valid and allows nothing, until it is set.
func TestZeroLimiterAllowsNothing(t *testing.T) {
	var l ratelimit.Limiter
	if l.Allow() {
		t.Fatal("zero Limiter Allow = true")
	}
	if l.Limit() != 0 || l.Burst() != 0 || l.Tokens() != 0 {
		t.Fatalf("zero Limiter: Limit, Burst, Tokens = %v, %v, %v; want 0, 0, 0", l.Limit(), l.Burst(), l.Tokens())
	}
	l.SetLimit(ratelimit.Inf)
	if !l.Allow() {
		t.Fatal("Allow after SetLimit(Inf) = false")
	}
}

// S100
func TestWaitFailsFastWhenTheTokensComeAfterTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(10, 2)
		if !l.AllowN(2) {
			t.Fatal("AllowN(2) on a full bucket = false")
		}
		ctx, stop := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer stop()
		start := time.Now()
		err := l.WaitN(ctx, 2) // needs 200ms
		if !errors.Is(err, ratelimit.ErrExceedsDeadline) {
			t.Fatalf("WaitN past the deadline = %v, want ErrExceedsDeadline", err)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("WaitN slept %v before failing, want 0", d)
		}
		if tok := l.Tokens(); tok != 0 {
			t.Fatalf("Tokens() = %v after the failed WaitN, want 0: it took tokens", tok)
		}
		// Within the deadline it waits.
		if err := l.WaitN(ctx, 1); err != nil {
			t.Fatalf("WaitN(1), 100ms before the deadline = %v", err)
		}
		if d := time.Since(start); d != 100*time.Millisecond {
			t.Fatalf("WaitN(1) returned after %v, want 100ms", d)
		}
		done, stop2 := context.WithCancel(t.Context())
		stop2()
		if err := l.Wait(done); err != context.Canceled {
			t.Fatalf("Wait(done ctx) = %v, want context.Canceled", err)
		}
	})
}

// S101
func TestCancelledWaitGivesItsTokensBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(10, 3)
		if err := l.WaitN(t.Context(), 2); err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(t.Context())
		go func() {
			time.Sleep(100 * time.Millisecond)
			stop()
		}()
		start := time.Now()
		if err := l.WaitN(ctx, 3); err != context.Canceled {
			t.Fatalf("cancelled WaitN(3) = %v, want context.Canceled", err)
		}
		// 1 token left, 1 more earned in 100ms, 3 given back: 2 now.
		if tok := l.Tokens(); tok != 2 {
			t.Fatalf("Tokens() = %v after the cancelled WaitN, want 2", tok)
		}
		if err := l.WaitN(t.Context(), 2); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 100*time.Millisecond {
			t.Fatalf("WaitN(2) after the cancellation returned at %v, want 100ms (at once)", d)
		}
	})
}

// The accuracy test: 1000/s for 2s of virtual time grants exactly
// burst + 2000, whether callers poll with Allow or block in Wait.
func TestLimiterGrantsExactlyBurstPlusRateTimesElapsed(t *testing.T) {
	const burst = 5
	const want = burst + 2000
	t.Run("try", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			l := ratelimit.NewLimiter(1000, burst)
			start := time.Now()
			granted := 0
			for time.Since(start) <= 2*time.Second {
				for l.Allow() {
					granted++
				}
				time.Sleep(100 * time.Microsecond)
			}
			if granted != want {
				t.Fatalf("Allow granted %d in 2s at 1000/s with burst %d, want %d", granted, burst, want)
			}
		})
	})
	t.Run("blocking", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			l := ratelimit.NewLimiter(1000, burst)
			start := time.Now()
			var granted atomic.Int64
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for {
						if err := l.Wait(t.Context()); err != nil {
							t.Error(err)
							return
						}
						if time.Since(start) > 2*time.Second {
							return
						}
						granted.Add(1)
					}
				})
			}
			wg.Wait()
			if g := granted.Load(); g != want {
				t.Fatalf("Wait granted %d in 2s at 1000/s with burst %d, want %d", g, burst, want)
			}
		})
	})
}

// The contention property, in virtual time: 1000 goroutines waiting at
// 100k/s never get more than burst + rate × elapsed, and lose nothing.
func TestLimiterNeverOverGrantsToThousandWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rate, burst = 100_000, 10
		l := ratelimit.NewLimiter(rate, burst)
		start := time.Now()
		const span = 100 * time.Millisecond
		var granted atomic.Int64
		var wg sync.WaitGroup
		for range 1000 {
			wg.Go(func() {
				for {
					if err := l.Wait(t.Context()); err != nil {
						t.Error(err)
						return
					}
					if time.Since(start) > span {
						return
					}
					granted.Add(1)
				}
			})
		}
		wg.Wait()
		if g, want := granted.Load(), int64(burst+rate*span/time.Second); g != want {
			t.Fatalf("granted %d in %v, want exactly %d", g, span, want)
		}
	})
}

// The contention property on the real clock, which is where a limiter that
// reads the clock before taking its lock over-grants (golang/go#65508):
// 1000 goroutines calling Allow and 1000 calling Wait. Every grant is
// checked against burst + rate × (time of the grant - creation); the bound
// is exact, there is no margin to tune.
func TestLimiterNeverOverGrantsOnTheRealClock(t *testing.T) {
	for _, mode := range []string{"Allow", "Wait"} {
		t.Run(mode, func(t *testing.T) {
			const rate, burst = 100_000, 10
			start := time.Now()
			l := ratelimit.NewLimiter(rate, burst)
			var mu sync.Mutex
			var grants []time.Duration
			var wg sync.WaitGroup
			for range 1000 {
				wg.Go(func() {
					for range 3 {
						if mode == "Allow" {
							for !l.Allow() {
								// The bucket is empty: let the others run.
								time.Sleep(0)
							}
						} else if err := l.Wait(context.Background()); err != nil {
							t.Error(err)
							return
						}
						// Read the clock after the grant: the grant happened
						// no later than this.
						d := time.Since(start)
						mu.Lock()
						grants = append(grants, d)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			slices.Sort(grants)
			for k, d := range grants {
				// In integers: the bound is reached exactly at whole tokens.
				if allowed := burst + rate*int64(d)/int64(time.Second); int64(k+1) > allowed {
					t.Fatalf("grant %d came %v after creation; at most %d were allowed by then", k+1, d, allowed)
				}
			}
		})
	}
}

func TestReservationDelayAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(10, 3) // a token every 100ms
		now := l.ReserveN(3)
		if !now.OK() || now.Delay() != 0 {
			t.Fatalf("ReserveN(3) on a full bucket: OK %v, Delay %v; want true, 0", now.OK(), now.Delay())
		}
		r1 := l.ReserveN(2)
		if r1.Delay() != 200*time.Millisecond {
			t.Fatalf("ReserveN(2) on an empty bucket: Delay %v, want 200ms", r1.Delay())
		}
		r2 := l.ReserveN(1)
		if r2.Delay() != 300*time.Millisecond {
			t.Fatalf("next ReserveN(1): Delay %v, want 300ms", r2.Delay())
		}
		// r2 is the latest: all of it comes back.
		r2.Cancel()
		if tok := l.Tokens(); tok != -2 {
			t.Fatalf("Tokens() after cancelling the latest = %v, want -2", tok)
		}
		r2.Cancel() // idempotent
		if tok := l.Tokens(); tok != -2 {
			t.Fatalf("Tokens() after cancelling twice = %v, want -2", tok)
		}
		r3 := l.ReserveN(1)
		if r3.Delay() != 300*time.Millisecond {
			t.Fatalf("ReserveN(1) after the cancel: Delay %v, want 300ms", r3.Delay())
		}
		// r1 has r3 after it: it gives back min(2, burst 3 - 2) = 1, 2 being
		// the largest reservation since the bucket ran dry, so that a new
		// reservation cannot act together with r3 beyond the burst.
		r1.Cancel()
		if tok := l.Tokens(); tok != -2 {
			t.Fatalf("Tokens() after cancelling r1 = %v, want -2 (1 of its 2 back)", tok)
		}
		// A reservation whose time has passed gives nothing back.
		time.Sleep(350 * time.Millisecond)
		r3.Cancel()
		if tok := l.Tokens(); tok != 1.5 {
			t.Fatalf("Tokens() after cancelling a reservation whose time had passed = %v, want 1.5", tok)
		}
		if bad := l.ReserveN(4); bad.OK() || bad.Delay() != ratelimit.InfDuration {
			t.Fatalf("ReserveN(4) with burst 3: OK %v, Delay %v; want false, InfDuration", bad.OK(), bad.Delay())
		}
	})
}

// The case that giving back everything would get wrong: burst 1, a
// reservation cancelled while a later one waits. If it gave its token back,
// a new reservation would act together with the later one: two events in
// an instant with a burst of 1.
func TestCancelNeverLetsTwoEventsActTogetherBeyondTheBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(1, 1)
		l.Allow()
		r := l.Reserve()     // acts at 1s
		later := l.Reserve() // acts at 2s
		r.Cancel()
		z := l.Reserve()
		if z.Delay() == later.Delay() {
			t.Fatalf("a new reservation acts at %v, with the later one: 2 events at once, burst 1", z.Delay())
		}
		if z.Delay() != 3*time.Second {
			t.Fatalf("new reservation: Delay %v, want 3s", z.Delay())
		}
	})
}

func TestSetLimitAndSetBurstKeepTheTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(10, 10)
		l.AllowN(10)
		time.Sleep(100 * time.Millisecond) // 1 token
		l.SetLimit(100)
		if l.Limit() != 100 {
			t.Fatalf("Limit() = %v, want 100", l.Limit())
		}
		time.Sleep(50 * time.Millisecond) // 5 more at 100/s
		if tok := l.Tokens(); tok != 6 {
			t.Fatalf("Tokens() = %v, want 6", tok)
		}
		l.SetBurst(4)
		if l.Burst() != 4 || l.Tokens() != 4 {
			t.Fatalf("after SetBurst(4): Burst, Tokens = %v, %v; want 4, 4", l.Burst(), l.Tokens())
		}
		l.SetLimit(ratelimit.Inf)
		if !l.AllowN(1000) {
			t.Fatal("AllowN(1000) with Inf = false")
		}
		l.SetLimit(1)
		if tok := l.Tokens(); tok != 4 {
			t.Fatalf("Tokens() after leaving Inf = %v, want 4 (full)", tok)
		}
	})
}

func TestLimiterBadInputPanicsNamingTheArgument(t *testing.T) {
	l := ratelimit.NewLimiter(1, 1)
	var nilCtx context.Context
	for _, c := range []struct {
		name string
		f    func()
		want string
	}{
		{"NewLimiter(-1, 1)", func() { ratelimit.NewLimiter(-1, 1) }, "NewLimiter(r=-1)"},
		{"NewLimiter(NaN, 1)", func() { ratelimit.NewLimiter(ratelimit.Limit(math.NaN()), 1) }, "NewLimiter(r=NaN)"},
		{"NewLimiter(1, -1)", func() { ratelimit.NewLimiter(1, -1) }, "NewLimiter(b=-1)"},
		{"SetLimit(-1)", func() { l.SetLimit(-1) }, "Limiter.SetLimit(r=-1)"},
		{"SetBurst(-1)", func() { l.SetBurst(-1) }, "Limiter.SetBurst(b=-1)"},
		{"AllowN(-1)", func() { l.AllowN(-1) }, "Limiter.AllowN(n=-1)"},
		{"ReserveN(-1)", func() { l.ReserveN(-1) }, "Limiter.ReserveN(n=-1)"},
		{"WaitN(-1)", func() { _ = l.WaitN(context.Background(), -1) }, "Limiter.WaitN(n=-1)"},
		{"Wait(nil)", func() { _ = l.Wait(nilCtx) }, "Limiter.WaitN called with a nil context"},
	} {
		r := recoverPanic(c.f)
		if msg, _ := r.(string); !strings.Contains(msg, c.want) {
			t.Errorf("%s panicked with %v, want a message containing %q", c.name, r, c.want)
		}
	}
}

func TestAllowAllocatesNothing(t *testing.T) {
	l := ratelimit.NewLimiter(1e9, 1_000_000)
	if a := testing.AllocsPerRun(1000, func() { l.Allow() }); a != 0 {
		t.Fatalf("Allow allocated %v times, want 0", a)
	}
	if a := testing.AllocsPerRun(1000, func() { _ = l.Wait(context.Background()) }); a != 0 {
		t.Fatalf("Wait without waiting allocated %v times, want 0", a)
	}
}

// After an idle pause the bucket holds its burst and no more, however it is
// asked: tokens taken are counted as taken now, not at the last time the
// clock was read, so that no later refill can hand them back.
func TestIdleLimiterGrantsItsBurstAndNoMore(t *testing.T) {
	t.Run("Allow", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			l := ratelimit.NewLimiter(1, 3)
			time.Sleep(10 * time.Second)
			n := 0
			for range 20 {
				if l.Allow() {
					n++
				}
			}
			if n != 3 {
				t.Fatalf("20 Allow calls at one instant after 10s idle granted %d, want the burst, 3", n)
			}
		})
	})
	t.Run("Wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			l := ratelimit.NewLimiter(1, 3)
			time.Sleep(10 * time.Second)
			start := time.Now()
			var mu sync.Mutex
			var at []time.Duration
			var wg sync.WaitGroup
			for range 6 {
				wg.Go(func() {
					if err := l.Wait(t.Context()); err != nil {
						t.Error(err)
					}
					mu.Lock()
					at = append(at, time.Since(start))
					mu.Unlock()
				})
			}
			wg.Wait()
			slices.Sort(at)
			want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 3 * time.Second}
			if !slices.Equal(at, want) {
				t.Fatalf("6 Waits after 10s idle returned at %v, want %v", at, want)
			}
		})
	})
	t.Run("Tokens", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			l := ratelimit.NewLimiter(1, 3)
			time.Sleep(10 * time.Second)
			l.Allow()
			if got := l.Tokens(); got != 2 {
				t.Fatalf("Tokens() after one Allow on a full bucket of 3 = %v, want 2", got)
			}
		})
	})
}

// Cancelling every reservation still outstanding, in any order, gives the
// bucket back exactly what they took.
func TestCancellingEveryOutstandingReservationRestoresTheBucket(t *testing.T) {
	sizes := []int{1, 4, 2, 3, 1, 3}
	orders := [][]int{{0, 1, 2, 3, 4, 5}, {5, 4, 3, 2, 1, 0}, {2, 5, 0, 3, 1, 4}, {1, 3, 5, 0, 2, 4}}
	for _, order := range orders {
		synctest.Test(t, func(t *testing.T) {
			l := ratelimit.NewLimiter(10, 4)
			l.AllowN(4)
			rs := make([]*ratelimit.Reservation, len(sizes))
			for i, n := range sizes {
				rs[i] = l.ReserveN(n)
			}
			if got := l.Tokens(); got != -14 {
				t.Fatalf("Tokens() after reserving 14 = %v, want -14", got)
			}
			for _, i := range order {
				rs[i].Cancel()
			}
			if got := l.Tokens(); got != 0 {
				t.Fatalf("cancelled in the order %v: Tokens() = %v, want 0, as before the reservations", order, got)
			}
		})
	}
	// With time passing: the reservations that acted keep their tokens, the
	// others come back, and so does the refill they were waiting for.
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(10, 4)
		l.AllowN(4)
		first := l.ReserveN(2) // acts at 200ms
		rest := []*ratelimit.Reservation{l.ReserveN(3), l.ReserveN(1), l.ReserveN(4)}
		time.Sleep(250 * time.Millisecond)
		for _, r := range rest {
			r.Cancel()
		}
		first.Cancel() // too late: it acted
		// 2.5 tokens earned, 2 used by the first: 0.5.
		if got := l.Tokens(); got != 0.5 {
			t.Fatalf("Tokens() = %v, want 0.5: 2.5 earned, 2 taken by the reservation that acted", got)
		}
	})
}

// Where later reservations still wait, Cancel gives back what they do not
// wait for, as golang.org/x/time/rate does.
func TestCancelGivesBackWhatLaterReservationsDoNotWaitFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(10, 2) // a token every 100ms
		l.AllowN(2)
		r := l.ReserveN(2)     // acts at 200ms
		later := l.ReserveN(1) // acts at 300ms
		time.Sleep(100 * time.Millisecond)
		r.Cancel() // 2 tokens, of which the later one waits for 1
		if got := l.Tokens(); got != -1 {
			t.Fatalf("Tokens() after the cancel = %v, want -1 (-2 + 1 back)", got)
		}
		if d := l.ReserveN(2).Delay(); d != 300*time.Millisecond {
			t.Fatalf("ReserveN(2) after the cancel: Delay %v, want 300ms", d)
		}
		if d := later.Delay(); d != 200*time.Millisecond {
			t.Fatalf("the later reservation moved: Delay %v, want 200ms", d)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(10, 4)
		l.AllowN(4)
		a := l.ReserveN(3) // 300ms
		l.ReserveN(1)      // 400ms
		c := l.ReserveN(1) // 500ms
		time.Sleep(100 * time.Millisecond)
		c.Cancel() // the latest: all of it
		if got := l.Tokens(); got != -3 {
			t.Fatalf("Tokens() after cancelling the latest = %v, want -3", got)
		}
		a.Cancel() // 3, of which the one still after it waits for 1
		if got := l.Tokens(); got != -1 {
			t.Fatalf("Tokens() after cancelling the first = %v, want -1", got)
		}
		if d := l.ReserveN(3).Delay(); d != 400*time.Millisecond {
			t.Fatalf("ReserveN(3): Delay %v, want 400ms", d)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(10, 2)
		l.AllowN(2)
		r := l.Reserve() // 100ms
		l.Reserve()      // 200ms, waiting for all of r's token
		r.Cancel()
		if got := l.Tokens(); got != -2 {
			t.Fatalf("Tokens() = %v, want -2: the later reservation waits for the whole token", got)
		}
	})
}

// The bucket holds at most 2^32 tokens: a larger burst counts as 2^32.
// Where an int has 32 bits, no burst reaches that: the largest is held
// whole.
func TestBurstBeyondTwoToThe32CountsAsTwoToThe32(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		burst := int(min(int64(1)<<40, math.MaxInt))
		held := min(burst, int(min(int64(1)<<32, math.MaxInt)))
		l := ratelimit.NewLimiter(1, burst)
		if got := l.Tokens(); got != float64(held) {
			t.Fatalf("Tokens() with a burst of %d = %v, want %d", burst, got, held)
		}
		if l.Burst() != burst {
			t.Fatalf("Burst() = %d, want the burst given, %d", l.Burst(), burst)
		}
		if held < burst && l.AllowN(held+1) {
			t.Fatalf("AllowN(%d) = true", held+1)
		}
		if !l.AllowN(held) {
			t.Fatalf("AllowN(%d) on a full bucket = false", held)
		}
		time.Sleep(time.Second)
		if got := l.Tokens(); got != 1 {
			t.Fatalf("Tokens() a second after emptying it at 1/s = %v, want 1", got)
		}
	})
}
