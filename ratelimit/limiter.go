package ratelimit

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// Limit is a rate of events per second. A Limit of 0 allows no events
// beyond the burst the limiter starts with.
type Limit float64

// Inf is the infinite rate: a limiter with this limit allows every event,
// whatever its burst, even 0.
const Inf = Limit(math.MaxFloat64)

// InfDuration is the Delay of a Reservation that is not OK.
const InfDuration = time.Duration(math.MaxInt64)

// Every converts a minimum interval between events to a Limit. An interval
// of zero or less is Inf.
func Every(interval time.Duration) Limit {
	if interval <= 0 {
		return Inf
	}
	return 1 / Limit(interval.Seconds())
}

// maxSlack is how long the time lost by a late timer can be claimed back;
// see Limiter.
const maxSlack = 10 * time.Millisecond

// A Limiter lets events happen at most at a given rate, with bursts. It is a
// token bucket: the bucket holds at most burst tokens, starts full, and is
// refilled at limit tokens per second; every event takes one token (or n,
// with the ...N methods).
//
// Limiter has three ways to take tokens, as golang.org/x/time/rate has, and
// most callers should use Wait:
//
//   - Allow reports whether a token is there now, and takes it if so: to
//     drop or refuse what exceeds the rate.
//   - Wait blocks until a token is there, or fails at once if it would come
//     only after the context's deadline: to slow down to the rate.
//   - Reserve takes a token that may come in the future and says when: to
//     plan, or to wait some other way. A Reservation can be cancelled,
//     which gives its tokens back.
//
// # Never more than the rate
//
// Over any interval of time, a Limiter grants at most burst + limit × the
// interval's length tokens, however many goroutines ask at once. (A
// reservation's tokens count when it acts, at the first nanosecond by which
// they have come: an interval that starts with one may take a nanosecond
// more.) Every call reads the clock,
// under the Limiter's lock: tokens taken are taken at the time of the call,
// so no refill can count them twice, and a goroutine delayed between
// reading the clock and taking the lock cannot count time twice (as
// golang.org/x/time/rate can, golang/go#65508). An idle Limiter holds
// burst tokens and no more.
//
// Two things loosen the bound, both documented where they happen:
// reservations keep their times when SetLimit or SetBurst change the limit
// under them, and a waiter whose timer fired late is given the lost time
// back (below).
//
// # Late timers
//
// Timers fire late: on many hosts a sleep of 10µs lasts a millisecond. A
// limiter that handed out one token per sleep would then fall far below a
// high rate. When a Wait's timer fires late, the Limiter gives the time lost
// back: for up to 10ms after that, the bucket may hold beyond burst the
// tokens that the lost time would have earned, so the waiters catch up in a
// batch. Over an interval that holds such a catch-up, at most burst +
// limit × (interval + 10ms) tokens are granted. A Limiter whose waiters wake
// on time never holds more than burst.
//
// # Cancel
//
// Cancelling a reservation that has not acted gives tokens back. If it
// leaves no reservation outstanding (made, not cancelled, not yet acted),
// the bucket holds what it would hold had the cancelled reservations never
// been made: cancelling every outstanding reservation, in any order,
// restores the bucket exactly. Otherwise it gives back its tokens less
// those of the reservations made after it that are still outstanding, as
// golang.org/x/time/rate does, since those were counted after its tokens;
// and never so many that a new event could act together with an
// outstanding one beyond the burst. A reservation whose time has passed
// gives nothing back: its tokens count as used.
//
// # The caller's clock
//
// The methods whose names end in At (AllowNAt, ReserveNAt, TokensAt,
// SetLimitAt, SetBurstAt, and a Reservation's DelayFrom and CancelAt)
// take the time of the call from the caller, as golang.org/x/time/rate's
// methods with a time do. The Limiter's clock never goes back: a time
// before its latest reading counts as that reading, and a later one moves
// the clock there, so that the tokens earned by then are counted as earned,
// and calls without a time see the clock stand still until it is reached.
// A new Limiter's clock has no reading: the time of its first call,
// whatever it is, is the first. Passing time.Now() is the same as calling
// the method without a time.
//
// # Rules
//
// All methods are safe for concurrent use. The zero Limiter is valid and
// allows nothing (limit 0, burst 0) until SetLimit and SetBurst; use
// NewLimiter. A Limiter starts no goroutine: Wait sleeps in its caller.
// Blocking calls take a context and return ctx.Err() unchanged when it ends.
// The bucket holds at most 2^32 tokens: a larger burst counts as 2^32.
type Limiter struct {
	mu    sync.Mutex
	limit Limit
	burst int
	s     state
	spare pending // s.p when reservations are outstanding, so as not to allocate one

	epoch time.Time
	last  int64 // the latest clock reading, ns since epoch

	late    int64 // when a late waiter should have woken; see params
	hasLate bool

	// sleepRound, if set, rounds every wait up to a multiple of itself; tests
	// use it to play a host with coarse timers in virtual time.
	sleepRound time.Duration
}

// NewLimiter returns a Limiter that allows events at rate r with bursts of
// at most b, with its bucket full. It panics if r is negative or NaN, or b
// is negative.
func NewLimiter(r Limit, b int) *Limiter {
	checkLimit("NewLimiter", r)
	checkBurst("NewLimiter", b)
	// The bucket is full at any time before the first call, whose time,
	// the caller's or the clock's, is the clock's first reading.
	l := &Limiter{limit: r, burst: b, epoch: time.Now(), last: beforeAll}
	l.s.lv.set(beforeAll, capOf(b))
	return l
}

// beforeAll is a time before any the Limiter reads, in ns since its epoch.
const beforeAll = -maxLevel

func checkLimit(fn string, r Limit) {
	if r < 0 || math.IsNaN(float64(r)) {
		panic(fmt.Sprintf("ratelimit: %s(r=%v): the limit must be a rate of 0 or more events per second", fn, float64(r)))
	}
}

func checkBurst(fn string, b int) {
	if b < 0 {
		panic(fmt.Sprintf("ratelimit: %s(b=%d): the burst must not be negative", fn, b))
	}
}

func checkN(fn string, n int) {
	if n < 0 {
		panic(fmt.Sprintf("ratelimit: %s(n=%d): n must not be negative", fn, n))
	}
}

// now reads the clock, as ns since the Limiter's epoch; never less than an
// earlier reading. It must be called with mu held.
func (l *Limiter) now() int64 {
	if l.epoch.IsZero() {
		l.epoch = time.Now()
	}
	t := max(int64(time.Since(l.epoch)), l.last)
	l.last = t
	return t
}

// at reads a caller's time on the Limiter's clock, and moves the clock to
// it if it is later. It must be called with mu held.
func (l *Limiter) at(tm time.Time) int64 {
	t := max(l.since(tm), l.last)
	l.last = t
	return t
}

// since returns tm in ns since the epoch, within ±maxLevel (146 years), so
// that no arithmetic on it overflows. It must be called with mu held.
func (l *Limiter) since(tm time.Time) int64 {
	if l.epoch.IsZero() {
		l.epoch = time.Now()
	}
	return min(max(int64(tm.Sub(l.epoch)), -maxLevel), maxLevel)
}

// params returns the bucket's parameters at t: the cap is burst, plus what
// the limit earns from the moment a late waiter should have woken, for
// maxSlack after it. It must be called with mu held.
func (l *Limiter) params(t int64) params {
	c := capOf(l.burst)
	pr := params{limit: l.limit, cap: c, capAt: c}
	if l.hasLate {
		if d := t - l.late; d <= int64(maxSlack) {
			pr.capAt += earned(l.limit, d)
		} else {
			l.hasLate = false
		}
	}
	return pr
}

// Allow reports whether one event may happen now, and takes a token if so.
// It is AllowN(1).
func (l *Limiter) Allow() bool { return l.AllowN(1) }

// AllowN reports whether n events may happen now, and takes n tokens if so;
// if not, it takes none. Use it to drop or refuse events beyond the rate;
// otherwise use Wait. AllowN is false for an n larger than the burst,
// unless the limit is Inf. It panics if n is negative.
func (l *Limiter) AllowN(n int) bool {
	checkN("Limiter.AllowN", n)
	l.mu.Lock()
	ok := l.allow(l.now(), n)
	l.mu.Unlock()
	return ok
}

// allow is AllowN at t. It must be called with mu held.
func (l *Limiter) allow(t int64, n int) bool {
	if l.limit == Inf {
		return true
	}
	if n > l.burst {
		return false
	}
	pr := l.params(t)
	l.s.settle(t, &pr)
	return l.s.allow(t, int64(n)*nano, &pr)
}

// Wait blocks until one event may happen. It is WaitN(ctx, 1).
func (l *Limiter) Wait(ctx context.Context) error { return l.WaitN(ctx, 1) }

// WaitN blocks until n events may happen, takes their tokens, and returns
// nil. It fails at once, taking nothing, with an error wrapping
// ErrExceedsBurst if n is more than the burst (unless the limit is Inf),
// and with an error wrapping ErrExceedsDeadline if the tokens would come
// only after ctx's deadline, or never (a limit of 0). If ctx is done on
// entry, or ends while WaitN waits, WaitN returns ctx.Err() unchanged, and
// gives its tokens back (as Cancel does) so that later callers go sooner.
//
// WaitN panics if ctx is nil or n is negative.
func (l *Limiter) WaitN(ctx context.Context, n int) error {
	if ctx == nil {
		panic("ratelimit: Limiter.WaitN called with a nil context")
	}
	checkN("Limiter.WaitN", n)
	l.mu.Lock()
	if n > l.burst && l.limit != Inf {
		burst := l.burst
		l.mu.Unlock()
		return errorf(ErrExceedsBurst, "Limiter.WaitN(n=%d) exceeds limiter's burst %d", n, burst)
	}
	if done := ctx.Done(); done != nil {
		select {
		case <-done:
			l.mu.Unlock()
			return ctx.Err()
		default:
		}
	}
	t := l.now()
	if l.limit == Inf {
		l.mu.Unlock()
		return nil
	}
	pr := l.params(t)
	l.s.settle(t, &pr)
	x := int64(n) * nano
	if l.s.allow(t, x, &pr) {
		l.mu.Unlock()
		return nil
	}
	d, why := planWait(ctx, &l.s, t, x, l.epoch, &pr)
	if why != "" {
		l.mu.Unlock()
		return errorf(ErrExceedsDeadline, "Limiter.WaitN(n=%d)%s", n, why)
	}
	r := &resv{}
	l.s.reserve(t, x, d, r, &pr, &l.spare)
	round := l.sleepRound
	l.mu.Unlock()

	sleep := time.Duration(d)
	if round > 0 {
		sleep = (sleep + round - 1) / round * round
	}
	timer := time.NewTimer(sleep)
	defer timer.Stop()
	select {
	case <-timer.C:
		l.woke(t + d)
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		t := l.now()
		pr := l.params(t)
		l.s.cancel(t, r, &pr)
		l.mu.Unlock()
		return ctx.Err()
	}
}

// planWait returns how long after t the bucket s holds x nanotokens; or,
// if that is never, or after ctx's deadline (read against epoch), why not,
// as words to follow the name of the call in an error.
func planWait(ctx context.Context, s *state, t, x int64, epoch time.Time, pr *params) (int64, string) {
	d, ok := s.delay(t, x, maxLevel, pr)
	if !ok {
		return 0, fmt.Sprintf(": the limit is %v and the bucket holds %v tokens: no token will ever come",
			float64(pr.limit), float64(s.level(t, pr))/nano)
	}
	if deadline, ok := ctx.Deadline(); ok {
		if left := int64(deadline.Sub(epoch)) - t; d > left {
			return 0, fmt.Sprintf(" would exceed context deadline: the tokens come in %v, the deadline in %v",
				time.Duration(d), time.Duration(max(left, 0)))
		}
	}
	return d, ""
}

// woke records a Wait whose timer fired late, for params.
func (l *Limiter) woke(act int64) {
	l.mu.Lock()
	if l.now() > act && (!l.hasLate || act > l.late) {
		l.late, l.hasLate = act, true
	}
	l.mu.Unlock()
}

// Reserve is ReserveN(1).
func (l *Limiter) Reserve() *Reservation { return l.ReserveN(1) }

// ReserveN takes n tokens now or in the future and returns a Reservation
// saying when the n events may happen (Delay). The caller must wait that
// long before acting, or Cancel the reservation. The Reservation is not OK,
// and takes nothing, if n is more than the burst (unless the limit is Inf)
// or the tokens would never come (a limit of 0). To wait with a context, use
// Wait. ReserveN panics if n is negative.
func (l *Limiter) ReserveN(n int) *Reservation {
	checkN("Limiter.ReserveN", n)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reserve(l.now(), n)
}

// reserve is ReserveN at t. It must be called with mu held.
func (l *Limiter) reserve(t int64, n int) *Reservation {
	r := &Reservation{lim: l, n: n, act: t}
	if l.limit == Inf {
		r.ok = true
		return r
	}
	if n > l.burst {
		return r
	}
	pr := l.params(t)
	l.s.settle(t, &pr)
	x := int64(n) * nano
	d, ok := l.s.delay(t, x, maxLevel, &pr)
	if !ok {
		return r
	}
	r.ok, r.tracked, r.act = true, true, t+d
	l.s.reserve(t, x, d, &r.node, &pr, &l.spare)
	return r
}

// A Reservation is tokens taken from a Limiter for events that may happen
// at a known time, now or in the future. Its methods are safe for
// concurrent use.
type Reservation struct {
	lim     *Limiter
	n       int
	act     int64 // ns since lim's epoch
	ok      bool
	tracked bool // node is in lim's list until it acts or is cancelled
	node    resv // guarded by lim.mu
}

// OK reports whether the limiter granted the tokens. If not, Delay is
// InfDuration and Cancel does nothing.
func (r *Reservation) OK() bool { return r.ok }

// Delay returns how long the holder must wait before acting: 0 if now,
// InfDuration if the reservation is not OK.
func (r *Reservation) Delay() time.Duration {
	if !r.ok {
		return InfDuration
	}
	r.lim.mu.Lock()
	d := r.act - r.lim.now()
	r.lim.mu.Unlock()
	return time.Duration(max(d, 0))
}

// Cancel says that the holder will not act, and gives tokens back to the
// limiter, as the Limiter's doc says under Cancel: all of them if no
// reservation made after this one is still outstanding. A reservation
// whose time has passed gives nothing back. Cancel is idempotent, and does
// nothing for a reservation that is not OK or was made with a limit of
// Inf.
func (r *Reservation) Cancel() {
	if !r.tracked {
		return
	}
	l := r.lim
	l.mu.Lock()
	l.cancel(l.now(), r)
	l.mu.Unlock()
}

// cancel is Cancel at t. It must be called with mu held.
func (l *Limiter) cancel(t int64, r *Reservation) {
	if !r.tracked || l.limit == Inf {
		return
	}
	pr := l.params(t)
	l.s.cancel(t, &r.node, &pr)
}

// SetLimit changes the limit. The bucket keeps the tokens it holds (or
// owes), and fills at the new rate from now on; reservations already made
// keep their times. A change to or from Inf fills the bucket, and the
// reservations made before it can no longer be cancelled. It panics if r is
// negative or NaN.
func (l *Limiter) SetLimit(r Limit) {
	checkLimit("Limiter.SetLimit", r)
	l.mu.Lock()
	l.setLimit(l.now(), r)
	l.mu.Unlock()
}

// setLimit is SetLimit at t. It must be called with mu held.
func (l *Limiter) setLimit(t int64, r Limit) {
	pr := l.params(t)
	l.s.settle(t, &pr)
	if (l.limit == Inf) != (r == Inf) {
		l.s.clear()
		l.limit = r
		l.s.lv.set(t, pr.cap)
		return
	}
	v := l.s.level(t, &pr)
	l.limit = r
	l.s.lv.set(t, v)
	if p := l.s.p; p != nil {
		p.real.set(t, p.real.at(t, pr.limit, pr.cap))
	}
	l.hasLate = false
}

// SetBurst changes the burst. The bucket keeps the tokens it holds, down to
// the new burst if that is smaller; reservations already made keep their
// times. It panics if b is negative.
func (l *Limiter) SetBurst(b int) {
	checkBurst("Limiter.SetBurst", b)
	l.mu.Lock()
	l.setBurst(l.now(), b)
	l.mu.Unlock()
}

// setBurst is SetBurst at t. It must be called with mu held.
func (l *Limiter) setBurst(t int64, b int) {
	pr := l.params(t)
	l.s.settle(t, &pr)
	c := capOf(b)
	l.s.lv.set(t, min(l.s.level(t, &pr), c))
	if p := l.s.p; p != nil {
		p.real.set(t, min(p.real.at(t, pr.limit, pr.cap), c))
	}
	l.burst = b
}

// Limit returns the limit.
func (l *Limiter) Limit() Limit {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// Burst returns the burst: the most tokens the bucket holds, and so the
// largest n a single call can take, unless the limit is Inf.
func (l *Limiter) Burst() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.burst
}

// Tokens returns the number of tokens in the bucket now: negative while
// reservations wait for tokens to come, never more than the burst.
func (l *Limiter) Tokens() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tokens(l.now())
}

// tokens is Tokens at t; it changes nothing. It must be called with mu held.
func (l *Limiter) tokens(t int64) float64 {
	if l.limit == Inf {
		return float64(l.burst)
	}
	pr := l.params(t)
	return float64(min(l.s.level(t, &pr), pr.cap)) / nano
}
