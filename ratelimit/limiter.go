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
// Counting from the Limiter's creation, it never grants more than burst +
// limit × elapsed tokens, however many goroutines ask at once: the clock is
// read while the Limiter's state is locked, so a goroutine delayed between
// reading the clock and taking the lock cannot count time twice (as
// golang.org/x/time/rate can, golang/go#65508).
//
// # Late timers
//
// Timers fire late: on many hosts a sleep of 10µs lasts a millisecond. A
// limiter that handed out one token per sleep would then fall far below a
// high rate. When a Wait's timer fires late, the Limiter gives the time lost
// back: for up to 10ms after that, the bucket may hold beyond burst the
// tokens that the lost time would have earned, so the waiters catch up in a
// batch. The guarantee above holds all the same; over any shorter interval
// at most burst + limit × (interval + 10ms) tokens are granted. An idle
// Limiter, or one whose waiters wake on time, never holds more than burst.
//
// # Rules
//
// All methods are safe for concurrent use. The zero Limiter is valid and
// allows nothing (limit 0, burst 0) until SetLimit and SetBurst; use
// NewLimiter. A Limiter starts no goroutine: Wait sleeps in its caller.
// Blocking calls take a context and return ctx.Err() unchanged when it ends.
type Limiter struct {
	mu    sync.Mutex
	limit Limit
	burst int

	// The bucket is anchored at a0: it held t0 tokens then, and used
	// tokens have been taken since. At a time t it holds
	// t0 + earned(t-a0) - used, at most the cap; it is anchored anew when
	// it reaches the cap and when the limit changes. Counting from an
	// anchor rather than adding up the refill of each call keeps the
	// arithmetic exact: the refill at a round time is a round number.
	a0   int64
	t0   float64
	used int64

	last   int64   // the latest clock reading, ns since epoch
	earned float64 // earned(last - a0)
	avail  float64 // the tokens at last: t0 + earned - used

	lastEvent  int64 // when the latest reservation in the future acts
	pendingMax int   // the largest n reserved since the bucket was last out of debt
	late       int64 // when a late waiter should have woken; see capAt
	hasLate    bool

	epoch time.Time

	// sleepRound, if set, rounds every wait up to a multiple of itself; tests
	// use it to play a host with coarse timers in virtual time.
	sleepRound time.Duration

	// dead marks a limiter a Keyed limiter has forgotten; see Keyed.
	dead bool
}

// NewLimiter returns a Limiter that allows events at rate r with bursts of
// at most b, with its bucket full. It panics if r is negative or NaN, or b
// is negative.
func NewLimiter(r Limit, b int) *Limiter {
	checkLimit("NewLimiter", r)
	checkBurst("NewLimiter", b)
	l := &Limiter{limit: r, burst: b, epoch: time.Now()}
	l.anchor(0, float64(b))
	return l
}

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
		panic(fmt.Sprintf("ratelimit: Limiter.%s(n=%d): n must not be negative", fn, n))
	}
}

// now reads the clock, as ns since the Limiter's epoch; never less than an
// earlier reading. It must be called with mu held.
func (l *Limiter) now() int64 {
	if l.epoch.IsZero() {
		l.epoch = time.Now()
	}
	t := int64(time.Since(l.epoch))
	if t < l.last {
		t = l.last
	}
	return t
}

// earnedIn returns the tokens the limit earns in d ns.
func (l *Limiter) earnedIn(d int64) float64 {
	if d <= 0 || l.limit == 0 {
		return 0
	}
	// One rounding: d*limit is exact below 2^53, so a refill that is a whole
	// number of tokens comes out whole.
	return float64(d) * float64(l.limit) / 1e9
}

// capAt is the most the bucket holds at t: burst, plus what the limit
// earns from the moment a late waiter should have woken, for maxSlack after
// it.
func (l *Limiter) capAt(t int64) float64 {
	c := float64(l.burst)
	if l.hasLate {
		if d := t - l.late; d <= int64(maxSlack) {
			c += l.earnedIn(d)
		} else {
			l.hasLate = false
		}
	}
	return c
}

func (l *Limiter) anchor(t int64, tokens float64) {
	l.a0, l.t0, l.used = t, tokens, 0
	l.last, l.earned, l.avail = t, 0, tokens
}

// refresh brings the bucket to time t. It must be called with mu held.
func (l *Limiter) refresh(t int64) {
	if l.limit == Inf {
		l.anchor(t, float64(l.burst))
		return
	}
	e := l.earnedIn(t - l.a0)
	tokens := l.t0 + e - float64(l.used)
	if c := l.capAt(t); tokens >= c {
		l.anchor(t, c)
		return
	}
	l.last, l.earned, l.avail = t, e, tokens
}

// take takes n tokens at l.last. It must be called with mu held.
func (l *Limiter) take(n int) {
	l.used += int64(n)
	l.avail = l.t0 + l.earned - float64(l.used)
}

// allow takes n tokens if the bucket holds them now. It must be called with
// mu held.
func (l *Limiter) allow(n int) bool {
	if l.limit == Inf {
		return true
	}
	if n > l.burst {
		return false
	}
	// The bucket only fills with time, so if it held n tokens at the last
	// reading it holds them now: no need to read the clock.
	if l.avail < float64(n) {
		l.refresh(l.now())
		if l.avail < float64(n) {
			return false
		}
	}
	l.take(n)
	l.pendingMax = 0 // the bucket is out of debt
	return true
}

// reserve takes n tokens at time t, to act when the bucket has paid for
// them, provided that is at most maxWait after t. It must be called with mu
// held, and n must be at most the burst unless the limit is Inf.
func (l *Limiter) reserve(t int64, n int, maxWait int64) (act int64, ok bool) {
	if l.limit == Inf {
		return t, true
	}
	l.refresh(t)
	if l.avail >= float64(n) {
		l.take(n)
		l.pendingMax = 0
		return t, true
	}
	if l.limit == 0 {
		return 0, false // never
	}
	// The moment t0 + earned(act-a0) - (used+n) reaches 0, rounded up.
	off := math.Ceil((float64(l.used+int64(n)) - l.t0) * 1e9 / float64(l.limit))
	if off >= math.MaxInt64/2 {
		return 0, false
	}
	act = max(l.a0+int64(off), t)
	if act-t > maxWait {
		return 0, false
	}
	l.take(n)
	l.lastEvent = act
	l.pendingMax = max(l.pendingMax, n)
	return act, true
}

// unreserve gives back the n tokens of a reservation that acts at act, as
// far as nothing later depends on them. It must be called with mu held.
//
// Reservations made after it act after it, each when the bucket has paid
// for it and every one before. Replaying them without this one shows how
// much can come back: all of it if it is the latest, and otherwise
// min(n, burst - m), m the largest of the later ones; pendingMax bounds m.
// Giving back more would let a new reservation act together with a later
// one, beyond the burst.
func (l *Limiter) unreserve(n int, act int64) {
	if l.limit == Inf || n == 0 || l.dead {
		return
	}
	t := l.now()
	if act <= t {
		return // it has acted: its tokens are used
	}
	l.refresh(t)
	restore := n
	if act != l.lastEvent {
		restore = min(n, l.burst-l.pendingMax)
	} else if l.limit != 0 {
		l.lastEvent = act - int64(math.Ceil(float64(n)*1e9/float64(l.limit)))
	}
	if restore <= 0 {
		return
	}
	l.used -= int64(restore)
	l.refresh(t) // recompute, and cap
}

// Allow reports whether one event may happen now, and takes a token if so.
// It is AllowN(1).
func (l *Limiter) Allow() bool { return l.AllowN(1) }

// AllowN reports whether n events may happen now, and takes n tokens if so;
// if not, it takes none. Use it to drop or refuse events beyond the rate;
// otherwise use Wait. AllowN is false for an n larger than the burst,
// unless the limit is Inf. It panics if n is negative.
func (l *Limiter) AllowN(n int) bool {
	checkN("AllowN", n)
	l.mu.Lock()
	ok := l.allow(n)
	l.mu.Unlock()
	return ok
}

// Wait blocks until one event may happen. It is WaitN(ctx, 1).
func (l *Limiter) Wait(ctx context.Context) error { return l.WaitN(ctx, 1) }

// WaitN blocks until n events may happen, takes their tokens, and returns
// nil. It fails at once, taking nothing, with an error wrapping
// ErrExceedsBurst if n is more than the burst (unless the limit is Inf),
// and with an error wrapping ErrExceedsDeadline if the tokens would come
// only after ctx's deadline, or never (a limit of 0). If ctx is done on
// entry, or ends while WaitN waits, WaitN returns ctx.Err() unchanged, and
// gives its tokens back so that later callers go sooner.
//
// WaitN panics if ctx is nil or n is negative.
func (l *Limiter) WaitN(ctx context.Context, n int) error {
	if ctx == nil {
		panic("ratelimit: Limiter.WaitN called with a nil context")
	}
	checkN("WaitN", n)
	_, err := l.waitN(ctx, n)
	return err
}

// waitN is WaitN; it reports gone, taking nothing, if a Keyed limiter has
// forgotten l.
func (l *Limiter) waitN(ctx context.Context, n int) (gone bool, err error) {
	l.mu.Lock()
	if l.dead {
		l.mu.Unlock()
		return true, nil
	}
	if n > l.burst && l.limit != Inf {
		burst := l.burst
		l.mu.Unlock()
		return false, fmt.Errorf("ratelimit: Limiter.WaitN(n=%d) with a burst of %d: %w", n, burst, ErrExceedsBurst)
	}
	if done := ctx.Done(); done != nil {
		select {
		case <-done:
			l.mu.Unlock()
			return false, ctx.Err()
		default:
		}
	}
	if l.limit == Inf || l.avail >= float64(n) {
		l.allow(n)
		l.mu.Unlock()
		return false, nil
	}
	t := l.now()
	maxWait := int64(math.MaxInt64)
	if deadline, ok := ctx.Deadline(); ok {
		maxWait = int64(deadline.Sub(l.epoch)) - t
	}
	act, ok := l.reserve(t, n, maxWait)
	round := l.sleepRound
	l.mu.Unlock()
	if !ok {
		return false, fmt.Errorf("ratelimit: Limiter.WaitN(n=%d): %w", n, ErrExceedsDeadline)
	}
	d := time.Duration(act - t)
	if d <= 0 {
		return false, nil
	}
	if round > 0 {
		d = (d + round - 1) / round * round
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		l.woke(act)
		return false, nil
	case <-ctx.Done():
		l.mu.Lock()
		l.unreserve(n, act)
		l.mu.Unlock()
		return false, ctx.Err()
	}
}

// woke records a Wait whose timer fired late, for capAt.
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
	checkN("ReserveN", n)
	l.mu.Lock()
	defer l.mu.Unlock()
	if n > l.burst && l.limit != Inf {
		return &Reservation{lim: l, n: n}
	}
	act, ok := l.reserve(l.now(), n, math.MaxInt64)
	return &Reservation{lim: l, n: n, act: act, ok: ok}
}

// A Reservation is tokens taken from a Limiter for events that may happen
// at a known time, now or in the future. Its methods are safe for
// concurrent use.
type Reservation struct {
	lim       *Limiter
	n         int
	act       int64 // ns since lim's epoch
	ok        bool
	cancelled bool // guarded by lim.mu
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

// Cancel says that the holder will not act, and gives the tokens back to
// the limiter, as many as it safely can: all of them if no reservation was
// made after this one, as if it had never been made. If later reservations
// wait behind it, it gives back n less what a new reservation would need to
// stay clear of them (at most burst minus the largest reservation since the
// bucket ran dry), so that no two events ever act together beyond the
// burst. A reservation whose time has come gives nothing back; its tokens
// count as used. Cancel is idempotent.
func (r *Reservation) Cancel() {
	if !r.ok {
		return
	}
	r.lim.mu.Lock()
	if !r.cancelled {
		r.cancelled = true
		r.lim.unreserve(r.n, r.act)
	}
	r.lim.mu.Unlock()
}

// SetLimit changes the limit. The bucket keeps the tokens it holds (or
// owes), and fills at the new rate from now on; reservations already made
// keep their times. It panics if r is negative or NaN.
func (l *Limiter) SetLimit(r Limit) {
	checkLimit("Limiter.SetLimit", r)
	l.mu.Lock()
	t := l.now()
	l.refresh(t)
	tokens := l.avail
	l.limit = r
	l.anchor(t, tokens)
	l.refresh(t) // to Inf: full
	l.mu.Unlock()
}

// SetBurst changes the burst. The bucket keeps the tokens it holds, down to
// the new burst if that is smaller. It panics if b is negative.
func (l *Limiter) SetBurst(b int) {
	checkBurst("Limiter.SetBurst", b)
	l.mu.Lock()
	t := l.now()
	l.refresh(t)
	l.burst = b
	l.refresh(t)
	l.mu.Unlock()
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
	if l.limit == Inf {
		return float64(l.burst)
	}
	l.refresh(l.now())
	return min(l.avail, float64(l.burst))
}
