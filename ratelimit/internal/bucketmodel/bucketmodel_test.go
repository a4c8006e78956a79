//go:build go1.25

package bucketmodel

import (
	"math/big"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const ms = time.Millisecond

func tokens(t *testing.T, b *Bucket, now time.Duration, want *big.Rat) {
	t.Helper()
	if got := b.Tokens(now); got.Cmp(want) != 0 {
		t.Fatalf("Tokens(%v) = %v, want %v", now, got.RatString(), want.RatString())
	}
}

func TestIdleBucketHoldsItsBurstAndNoMore(t *testing.T) {
	b := New(1, 3)
	n := 0
	for range 20 {
		if b.AllowN(10*time.Second, 1) {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("20 AllowN(10s, 1) granted %d, want 3", n)
	}
	tokens(t, b, 10*time.Second+250*ms, big.NewRat(1, 4))
}

func TestAReservationActsWhenItsTokensHaveCome(t *testing.T) {
	b := New(3, 1) // a token every 333.33...ms
	if r := b.ReserveN(0, 1, 1<<62); !r.OK || r.Act != 0 {
		t.Fatalf("ReserveN on a full bucket: OK %v, Act %v; want true, 0", r.OK, r.Act)
	}
	if r := b.ReserveN(0, 1, 1<<62); !r.OK || r.Act != 333333334 {
		t.Fatalf("ReserveN on an empty bucket: OK %v, Act %v; want true, 333333334ns (rounded up)", r.OK, r.Act)
	}
	if r := b.ReserveN(0, 1, 600*ms); r.OK {
		t.Fatalf("ReserveN beyond its maximum wait: OK, Act %v", r.Act)
	}
	tokens(t, b, 0, big.NewRat(-1, 1))
	if r := b.ReserveN(0, 2, 1<<62); r.OK {
		t.Fatal("ReserveN(2) with a burst of 1 is OK")
	}
	z := New(0, 1)
	if !z.AllowN(0, 1) || z.ReserveN(time.Hour, 1, 1<<62).OK {
		t.Fatal("a limit of 0 gives more than its burst")
	}
}

func TestCancellingEveryOutstandingReservationRestoresTheBucket(t *testing.T) {
	b := New(10, 4)
	b.AllowN(0, 4)
	var rs []*Reservation
	for _, n := range []int{1, 4, 2, 3, 1, 3} {
		rs = append(rs, b.ReserveN(0, n, 1<<62))
	}
	tokens(t, b, 0, big.NewRat(-14, 1))
	for _, r := range rs {
		b.Cancel(0, r)
	}
	tokens(t, b, 0, big.NewRat(0, 1))

	// With time passing, those that acted keep their tokens.
	b = New(10, 4)
	b.AllowN(0, 4)
	first := b.ReserveN(0, 2, 1<<62) // acts at 200ms
	rest := []*Reservation{b.ReserveN(0, 3, 1<<62), b.ReserveN(0, 1, 1<<62)}
	for _, r := range rest {
		b.Cancel(250*ms, r)
	}
	b.Cancel(250*ms, first)
	if first.Cancelled || !rest[0].Cancelled {
		t.Fatal("Cancelled is wrong: the first had acted, the others had not")
	}
	tokens(t, b, 250*ms, big.NewRat(1, 2))
}

func TestCancelGivesBackWhatLaterReservationsDoNotWaitFor(t *testing.T) {
	b := New(10, 4)
	b.AllowN(0, 4)
	a := b.ReserveN(0, 3, 1<<62) // 300ms
	b.ReserveN(0, 1, 1<<62)      // 400ms
	c := b.ReserveN(0, 1, 1<<62) // 500ms
	b.Cancel(100*ms, c)
	tokens(t, b, 100*ms, big.NewRat(-3, 1))
	b.Cancel(100*ms, a) // 3, less the 1 still after it
	tokens(t, b, 100*ms, big.NewRat(-1, 1))

	// Burst 1: giving r's token back would let a new event act with the
	// later one.
	b = New(1, 1)
	b.AllowN(0, 1)
	r := b.ReserveN(0, 1, 1<<62)
	later := b.ReserveN(0, 1, 1<<62)
	b.Cancel(0, r)
	if z := b.ReserveN(0, 1, 1<<62); z.Act == later.Act {
		t.Fatalf("a new reservation acts at %v with the later one, burst 1", z.Act)
	}
}

func TestInfAndChangesOfLimitAndBurst(t *testing.T) {
	b := New(Inf, 0)
	if !b.AllowN(0, 100) {
		t.Fatal("Inf AllowN(100) = false")
	}
	b.SetLimit(0, 10)
	tokens(t, b, 0, big.NewRat(0, 1))
	b.SetBurst(0, 5)
	tokens(t, b, 100*ms, big.NewRat(1, 1))
	b.SetBurst(200*ms, 1)
	tokens(t, b, 200*ms, big.NewRat(1, 1))
	if b.Limit() != 10 || b.Burst() != 1 {
		t.Fatalf("Limit, Burst = %v, %v; want 10, 1", b.Limit(), b.Burst())
	}
}
