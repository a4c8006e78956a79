package ratelimit

import "time"

// The methods of golang.org/x/time/rate that take the time of the call from
// the caller. Those whose x/time/rate names Limiter already has with
// another signature, fixed by this package's contract (AllowN(n) and
// ReserveN(n)), end in At here: AllowNAt and ReserveNAt. The Limiter's doc
// says, under "The caller's clock", how a caller's time is read.

// AllowNAt is AllowN at the caller's time t: golang.org/x/time/rate's
// AllowN(t, n). A time before the Limiter's latest reading counts as that
// reading; a later one moves the clock to it. It panics if n is negative.
func (l *Limiter) AllowNAt(t time.Time, n int) bool {
	checkN("Limiter.AllowNAt", n)
	l.mu.Lock()
	ok := l.allow(l.at(t), n)
	l.mu.Unlock()
	return ok
}

// ReserveNAt is ReserveN at the caller's time t: golang.org/x/time/rate's
// ReserveN(t, n). Read the reservation's delay with DelayFrom(t). It panics
// if n is negative.
func (l *Limiter) ReserveNAt(t time.Time, n int) *Reservation {
	checkN("Limiter.ReserveNAt", n)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reserve(l.at(t), n)
}

// TokensAt returns the number of tokens the bucket holds at t, as Tokens
// does now. It changes nothing, and does not move the Limiter's clock: a
// time before its latest reading counts as that reading, and a later one
// shows what the bucket will hold then if nothing is taken meanwhile.
func (l *Limiter) TokensAt(t time.Time) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tokens(max(l.since(t), l.last))
}

// SetLimitAt is SetLimit at the caller's time t. It panics if r is
// negative or NaN.
func (l *Limiter) SetLimitAt(t time.Time, r Limit) {
	checkLimit("Limiter.SetLimitAt", r)
	l.mu.Lock()
	l.setLimit(l.at(t), r)
	l.mu.Unlock()
}

// SetBurstAt is SetBurst at the caller's time t. It panics if b is
// negative.
func (l *Limiter) SetBurstAt(t time.Time, b int) {
	checkBurst("Limiter.SetBurstAt", b)
	l.mu.Lock()
	l.setBurst(l.at(t), b)
	l.mu.Unlock()
}

// DelayFrom returns how long after t the holder must wait before acting: 0
// if t is at or after the reservation's time, InfDuration if the
// reservation is not OK.
func (r *Reservation) DelayFrom(t time.Time) time.Duration {
	if !r.ok {
		return InfDuration
	}
	r.lim.mu.Lock()
	d := r.act - r.lim.since(t)
	r.lim.mu.Unlock()
	return time.Duration(max(d, 0))
}

// CancelAt is Cancel at the caller's time t: the reservation gives tokens
// back unless its time is before t.
func (r *Reservation) CancelAt(t time.Time) {
	if !r.tracked {
		return
	}
	l := r.lim
	l.mu.Lock()
	l.cancel(l.at(t), r)
	l.mu.Unlock()
}
