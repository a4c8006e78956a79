// Package bucketmodel is the token bucket that package ratelimit promises,
// written as plainly as it can be: exact arithmetic, no fast paths, the
// definitions one after the other. Tests drive a limiter and a Bucket with
// the same calls at the same (virtual) times and check that they agree.
//
// A Bucket has no clock and no lock: every method takes the time of the
// call, as a duration since the bucket was made, and times must not go
// back. It is not safe for concurrent use.
//
// The model, for a limit of L tokens a second and a burst of B:
//
//   - The level is what the bucket holds: B at first; between calls it
//     rises at L, up to B; a grant or a reservation takes its tokens from it
//     at the time of the call, so it is negative while reservations wait.
//   - The real level is the same, except that a reservation takes its
//     tokens only when it acts, and a cancelled one never does: it is what
//     the bucket would hold had the cancelled reservations never been made.
//     When no reservation is outstanding it is never below the level.
//   - A reservation of n tokens acts when the level, n taken, is back to 0:
//     at once if the level holds n, after (n - level)/L otherwise, rounded up
//     to the nanosecond. With n > B, or L = 0 and too few tokens, or a wait
//     beyond the caller's maximum, it is not OK and takes nothing.
//     A reservation is outstanding from when it is made until it is
//     cancelled or its time has passed.
//   - Cancel gives tokens back to the level, never taking any. If it leaves
//     no reservation outstanding, the level becomes the real level (if that
//     is more). Otherwise the level rises by n less the tokens of the
//     reservations made after this one that are still outstanding, but to at
//     most the real level less the tokens outstanding, and at most, for each
//     outstanding reservation, B less the tokens of the outstanding ones
//     acting at the same time or later, less what L earns until it acts.
//   - A limit of Inf allows everything and holds B; changing the limit to or
//     from Inf fills the bucket and forgets the outstanding reservations.
//     Changing the burst lowers both levels to it if they are above.
package bucketmodel

import (
	"math"
	"math/big"
	"time"
)

// Inf is the limit of a bucket that allows everything: ratelimit.Inf.
const Inf = math.MaxFloat64

// A Bucket is a token bucket.
type Bucket struct {
	limit float64
	burst int
	at    time.Duration // the time of the latest call
	level *big.Rat
	real  *big.Rat

	// The outstanding reservations, in the order they were made.
	outstanding []*Reservation
}

// A Reservation is what ReserveN and WaitN return.
type Reservation struct {
	N         int
	OK        bool
	Act       time.Duration // when it acts, if OK
	Cancelled bool          // whether Cancel withdrew it before it acted

	outstanding bool
}

// New returns a full Bucket of the given limit (tokens a second, or Inf)
// and burst, made at time 0.
func New(limit float64, burst int) *Bucket {
	b := &Bucket{limit: limit, burst: burst}
	b.level, b.real = b.full(), b.full()
	return b
}

func (b *Bucket) full() *big.Rat { return big.NewRat(int64(b.burst), 1) }

// earned is what the limit earns in d.
func (b *Bucket) earned(d time.Duration) *big.Rat {
	perSecond := new(big.Rat).SetFloat64(b.limit)
	return perSecond.Mul(perSecond, big.NewRat(int64(d), int64(time.Second)))
}

func minRat(x, y *big.Rat) *big.Rat {
	if x.Cmp(y) <= 0 {
		return x
	}
	return y
}

func maxRat(x, y *big.Rat) *big.Rat {
	if x.Cmp(y) >= 0 {
		return x
	}
	return y
}

// rise returns x after d at the limit, at most the burst.
func (b *Bucket) rise(x *big.Rat, d time.Duration) *big.Rat {
	return minRat(new(big.Rat).Add(x, b.earned(d)), b.full())
}

func sub(x *big.Rat, n int) *big.Rat { return new(big.Rat).Sub(x, big.NewRat(int64(n), 1)) }

// advance brings both levels to now. The real level takes the tokens of
// each reservation whose time has passed, at that time.
func (b *Bucket) advance(now time.Duration) {
	if now < b.at {
		panic("bucketmodel: time went back")
	}
	if b.limit == Inf {
		b.level, b.real, b.at = b.full(), b.full(), now
		return
	}
	realAt := b.at
	for {
		var next *Reservation
		for _, r := range b.outstanding {
			if r.Act < now && (next == nil || r.Act < next.Act) {
				next = r
			}
		}
		if next == nil {
			break
		}
		b.real = sub(b.rise(b.real, next.Act-realAt), next.N)
		realAt = next.Act
		b.remove(next)
	}
	b.real = b.rise(b.real, now-realAt)
	b.level = b.rise(b.level, now-b.at)
	if len(b.outstanding) == 0 {
		b.real = maxRat(b.real, b.level)
	}
	b.at = now
}

func (b *Bucket) remove(r *Reservation) {
	for i, q := range b.outstanding {
		if q == r {
			b.outstanding = append(b.outstanding[:i], b.outstanding[i+1:]...)
			break
		}
	}
	r.outstanding = false
}

// Tokens returns the level at now, at most the burst.
func (b *Bucket) Tokens(now time.Duration) *big.Rat {
	b.advance(now)
	return minRat(b.level, b.full())
}

// AllowN grants n tokens at now if the level holds them.
func (b *Bucket) AllowN(now time.Duration, n int) bool {
	b.advance(now)
	if b.limit == Inf {
		return true
	}
	if n > b.burst || b.level.Cmp(big.NewRat(int64(n), 1)) < 0 {
		return false
	}
	b.level, b.real = sub(b.level, n), sub(b.real, n)
	return true
}

// reserve returns when n tokens taken at now act, and takes them, unless
// that is never, or later than now + maxWait.
func (b *Bucket) reserve(now time.Duration, n int, maxWait time.Duration) *Reservation {
	b.advance(now)
	r := &Reservation{N: n, Act: now}
	if b.limit == Inf {
		r.OK = true
		return r
	}
	if n > b.burst {
		return r
	}
	short := new(big.Rat).Sub(big.NewRat(int64(n), 1), b.level)
	if short.Sign() > 0 {
		if b.limit == 0 {
			return r
		}
		// The wait in ns: short / limit seconds, rounded up.
		ns := new(big.Rat).Quo(short, new(big.Rat).SetFloat64(b.limit))
		ns.Mul(ns, big.NewRat(int64(time.Second), 1))
		q, rem := new(big.Int).QuoRem(ns.Num(), ns.Denom(), new(big.Int))
		if rem.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		}
		if !q.IsInt64() || q.Int64() > int64(maxWait) {
			return r
		}
		r.Act = now + time.Duration(q.Int64())
	}
	r.OK = true
	b.level = sub(b.level, n)
	return r
}

// ReserveN reserves n tokens at now for an event when they have come, if
// that is within maxWait. A reservation of 0 tokens, or with a limit of
// Inf, is never outstanding: there is nothing to cancel.
func (b *Bucket) ReserveN(now time.Duration, n int, maxWait time.Duration) *Reservation {
	r := b.reserve(now, n, maxWait)
	if r.OK && b.limit != Inf && n > 0 {
		r.outstanding = true
		b.outstanding = append(b.outstanding, r)
	}
	return r
}

// WaitN is ReserveN for a wait: if the tokens are there at once, they are
// used at once, and the reservation is not outstanding.
func (b *Bucket) WaitN(now time.Duration, n int, maxWait time.Duration) *Reservation {
	r := b.reserve(now, n, maxWait)
	if r.OK && r.Act == now && b.limit != Inf {
		b.real = sub(b.real, n)
		return r
	}
	if r.OK && b.limit != Inf && n > 0 {
		r.outstanding = true
		b.outstanding = append(b.outstanding, r)
	}
	return r
}

// Cancel withdraws r at now and gives tokens back, if r is still
// outstanding.
func (b *Bucket) Cancel(now time.Duration, r *Reservation) {
	b.advance(now)
	if !r.outstanding {
		return
	}
	made := 0
	for i, q := range b.outstanding {
		if q == r {
			made = i
		}
	}
	b.remove(r)
	r.Cancelled = true
	if len(b.outstanding) == 0 {
		b.level = maxRat(b.level, b.real)
		b.real = maxRat(b.real, b.level)
		return
	}
	back := r.N
	for _, q := range b.outstanding[made:] { // made after r
		back -= q.N
	}
	upTo := new(big.Rat).Set(b.real)
	for _, q := range b.outstanding {
		upTo = sub(upTo, q.N)
	}
	for _, q := range b.outstanding {
		bound := b.full()
		for _, p := range b.outstanding {
			if p.Act >= q.Act {
				bound = sub(bound, p.N)
			}
		}
		bound.Sub(bound, b.earned(q.Act-now))
		upTo = minRat(upTo, bound)
	}
	raised := minRat(new(big.Rat).Add(b.level, big.NewRat(int64(max(back, 0)), 1)), upTo)
	b.level = maxRat(b.level, raised)
}

// SetLimit changes the limit at now.
func (b *Bucket) SetLimit(now time.Duration, limit float64) {
	b.advance(now)
	if (b.limit == Inf) != (limit == Inf) {
		for _, r := range b.outstanding {
			r.outstanding = false
		}
		b.outstanding = nil
		b.level, b.real = b.full(), b.full()
	}
	b.limit = limit
}

// SetBurst changes the burst at now.
func (b *Bucket) SetBurst(now time.Duration, burst int) {
	b.advance(now)
	b.burst = burst
	b.level = minRat(b.level, b.full())
	b.real = minRat(b.real, b.full())
}

// Limit and Burst return the bucket's limit and burst.
func (b *Bucket) Limit() float64 { return b.limit }

// Burst returns the burst.
func (b *Bucket) Burst() int { return b.burst }
