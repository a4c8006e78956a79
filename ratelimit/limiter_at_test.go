//go:build go1.25

package ratelimit_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/ratelimit"
)

// Passing time.Now() is the same as calling the method without a time.
func TestMethodsAtNowAreTheMethodsWithoutATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ratelimit.NewLimiter(10, 3), ratelimit.NewLimiter(10, 3)
		for step := range 40 {
			n := step % 3
			if got, want := a.AllowNAt(time.Now(), n), b.AllowN(n); got != want {
				t.Fatalf("step %d: AllowNAt(now, %d) = %v, AllowN(%d) = %v", step, n, got, n, want)
			}
			ra, rb := a.ReserveNAt(time.Now(), 1), b.ReserveN(1)
			if ra.DelayFrom(time.Now()) != rb.Delay() {
				t.Fatalf("step %d: DelayFrom(now) = %v, Delay() = %v", step, ra.DelayFrom(time.Now()), rb.Delay())
			}
			if step%4 == 0 {
				ra.CancelAt(time.Now())
				rb.Cancel()
			}
			if a.TokensAt(time.Now()) != b.Tokens() {
				t.Fatalf("step %d: TokensAt(now) = %v, Tokens() = %v", step, a.TokensAt(time.Now()), b.Tokens())
			}
			time.Sleep(time.Duration(step%5) * 30 * time.Millisecond)
		}
		a.SetLimitAt(time.Now(), 5)
		b.SetLimit(5)
		a.SetBurstAt(time.Now(), 1)
		b.SetBurst(1)
		time.Sleep(time.Second)
		if a.Tokens() != b.Tokens() || a.Limit() != b.Limit() || a.Burst() != b.Burst() {
			t.Fatalf("after SetLimitAt and SetBurstAt: %v %v %v, want %v %v %v",
				a.Tokens(), a.Limit(), a.Burst(), b.Tokens(), b.Limit(), b.Burst())
		}
	})
}

// A time before the Limiter's latest reading counts as that reading: the
// clock never goes back, so tokens taken at a later time cannot be taken
// again at an earlier one.
func TestACallersTimeBeforeTheLatestReadingCountsAsIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(10, 3)
		t0 := time.Now()
		t1 := t0.Add(100 * time.Millisecond)
		if !l.AllowNAt(t1, 3) {
			t.Fatal("AllowNAt(t1, 3) on a full bucket = false")
		}
		if l.AllowNAt(t0, 1) {
			t.Fatal("AllowNAt(t0, 1) after AllowNAt(t1, 3) = true: the clock went back")
		}
		if got := l.TokensAt(t0); got != 0 {
			t.Fatalf("TokensAt(t0) = %v, want 0 (the bucket at t1)", got)
		}
		r := l.ReserveNAt(t0, 1)
		if d := r.DelayFrom(t1); d != 100*time.Millisecond {
			t.Fatalf("ReserveNAt(t0, 1).DelayFrom(t1) = %v, want 100ms: reserved at t1", d)
		}
		if d := r.DelayFrom(t1.Add(time.Second)); d != 0 {
			t.Fatalf("DelayFrom a time past the reservation's = %v, want 0", d)
		}
	})
}

// A later time moves the clock there: the tokens earned by then count as
// earned, and calls without a time see the clock stand still until it is
// reached.
func TestACallersLaterTimeMovesTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(10, 2)
		l.AllowN(2)
		future := time.Now().Add(time.Second)
		if !l.AllowNAt(future, 2) {
			t.Fatal("AllowNAt(now+1s, 2) on a bucket that refills in 200ms = false")
		}
		if l.Allow() {
			t.Fatal("Allow() now, after AllowNAt(now+1s, 2) emptied the bucket = true")
		}
		time.Sleep(900 * time.Millisecond)
		if got := l.Tokens(); got != 0 {
			t.Fatalf("Tokens() 900ms later, before the clock's reading = %v, want 0: the clock stood still", got)
		}
		time.Sleep(200 * time.Millisecond)
		if got := l.Tokens(); got != 1 {
			t.Fatalf("Tokens() 100ms after the clock's reading = %v, want 1", got)
		}
	})
}

// TokensAt changes nothing and does not move the clock.
func TestTokensAtDoesNotMoveTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(10, 5)
		l.AllowN(5)
		if got := l.TokensAt(time.Now().Add(time.Hour)); got != 5 {
			t.Fatalf("TokensAt(now+1h) = %v, want 5", got)
		}
		if got := l.Tokens(); got != 0 {
			t.Fatalf("Tokens() after TokensAt(now+1h) = %v, want 0", got)
		}
		time.Sleep(100 * time.Millisecond)
		if !l.Allow() || l.Allow() {
			t.Fatal("100ms after emptying the bucket at 10/s, Allow did not grant exactly one token")
		}
	})
}

// CancelAt gives tokens back unless the reservation's time is before t.
func TestCancelAtGivesBackUnlessTheTimeHasPassed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(10, 2)
		l.AllowN(2)
		t0 := time.Now()
		late := l.ReserveN(2) // acts at 200ms
		late.CancelAt(t0.Add(300 * time.Millisecond))
		if got := l.TokensAt(t0.Add(300 * time.Millisecond)); got != 1 {
			t.Fatalf("TokensAt(300ms) after a CancelAt past the reservation's time = %v, want 1: nothing back", got)
		}
		r := l.ReserveNAt(t0.Add(300*time.Millisecond), 2) // acts at 400ms
		r.CancelAt(t0.Add(400 * time.Millisecond))         // at its time: still given back
		if got := l.TokensAt(t0.Add(400 * time.Millisecond)); got != 2 {
			t.Fatalf("TokensAt(400ms) after CancelAt at the reservation's time = %v, want 2", got)
		}
	})
}

// A new Limiter's clock has no reading: the time of its first call,
// whatever it is, is the first, even one before the Limiter was made.
func TestTheFirstCallsTimeIsTheClocksFirstReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		time.Sleep(time.Second)
		l := ratelimit.NewLimiter(10, 1)
		if !l.AllowNAt(t0, 1) {
			t.Fatal("AllowNAt(a second before NewLimiter, 1) on a full bucket = false")
		}
		if !l.AllowNAt(t0.Add(100*time.Millisecond), 1) {
			t.Fatal("AllowNAt(100ms after the first reading) at 10/s = false: the clock started at NewLimiter")
		}
		// Now, 900ms later: the bucket is full again, with its 1 token.
		if !l.Allow() || l.Allow() {
			t.Fatal("Allow() twice, 900ms after the last reading: want true, then false")
		}
	})
}

// Times far from now, the zero time.Time or a century ahead, neither
// overflow nor wrap: the zero time counts as the latest reading, and a
// time a century ahead moves the clock there.
func TestCallersTimesFarAwayDoNotOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.NewLimiter(1, 2)
		l.AllowN(2)
		if l.AllowNAt(time.Time{}, 1) {
			t.Fatal("AllowNAt(zero time, 1) on an empty bucket = true")
		}
		r := l.ReserveN(1) // acts in 1s
		if d := r.DelayFrom(time.Time{}); d < time.Second {
			t.Fatalf("DelayFrom(zero time) = %v, want more than a second", d)
		}
		far := time.Now().Add(100 * 365 * 24 * time.Hour)
		if d := r.DelayFrom(far); d != 0 {
			t.Fatalf("DelayFrom(a century ahead) = %v, want 0", d)
		}
		if got := l.TokensAt(far); got != 2 {
			t.Fatalf("TokensAt(a century ahead) = %v, want 2", got)
		}
		if !l.AllowNAt(far, 2) || l.Allow() {
			t.Fatal("AllowNAt(a century ahead, 2) did not take the refilled bucket, or Allow() after it found tokens")
		}
	})
}
