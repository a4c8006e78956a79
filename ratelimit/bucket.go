package ratelimit

import "math"

// The token bucket that Limiter and Keyed share. Tokens are counted in
// nanotokens (a billionth of a token), as int64, and time in nanoseconds
// since the owner's epoch: a limit of r tokens a second earns r nanotokens
// a nanosecond. For a whole-numbered limit every quantity is then a whole
// number and every comparison exact; other limits round what they earn
// down to the nanotoken, so that rounding never grants.

const nano = 1_000_000_000 // nanotokens in a token

// maxBurst is the most tokens a bucket holds: a larger burst counts as
// this many. It keeps every level, in nanotokens, within ±maxLevel.
const maxBurst = 1 << 32

// maxLevel bounds what a bucket earns and owes, in nanotokens.
const maxLevel = 1 << 62

// anchorSpan is how long a bucket counts its refill from one anchor before
// it anchors anew, so that d × limit stays within float64's exact range
// for the limits one meets (up to about 2^21 a second).
const anchorSpan = 1 << 32 // ns, about 4.3s

// earned returns the nanotokens that limit earns in d ns, rounded down.
func earned(limit Limit, d int64) int64 {
	if d <= 0 || limit == 0 {
		return 0
	}
	e := float64(d) * float64(limit)
	if e >= maxLevel {
		return maxLevel
	}
	return int64(e)
}

// earnedUp is earned rounded up.
func earnedUp(limit Limit, d int64) int64 {
	if d <= 0 || limit == 0 {
		return 0
	}
	e := math.Ceil(float64(d) * float64(limit))
	if e >= maxLevel {
		return maxLevel
	}
	return int64(e)
}

// capOf returns the most a bucket of burst b holds, in nanotokens.
func capOf(b int) int64 { return min(int64(b), maxBurst) * nano }

// A level is a bucket's content in time: it held t0 nanotokens at time a0,
// and since then has earned at its limit, up to its cap. It is anchored
// anew when it reaches the cap, when the limit changes and every
// anchorSpan; between anchors, taking only lowers t0, so that the refill
// is counted from one instant and rounded once.
type level struct {
	a0, t0 int64
}

// at returns the content at t ≥ a0, at most c.
func (v *level) at(t int64, limit Limit, c int64) int64 {
	return min(c, v.t0+earned(limit, t-v.a0))
}

func (v *level) set(t, x int64) { v.a0, v.t0 = t, x }

// take takes x nanotokens at t ≥ a0, from a cap of c.
func (v *level) take(t, x int64, limit Limit, c int64) {
	if cur := v.t0 + earned(limit, t-v.a0); cur >= c || t-v.a0 > anchorSpan {
		v.set(t, min(cur, c)-x)
		return
	}
	v.t0 -= x
}

// A resv is a reservation still outstanding: made, not cancelled, and not
// yet acted. The outstanding reservations of a bucket are kept in a list
// ordered by when they act.
type resv struct {
	n          int64  // nanotokens
	act        int64  // ns since the epoch
	seq        uint64 // the order they were made in
	prev, next *resv
	done       bool // acted or cancelled: no longer in the list
}

// pending is what a bucket with outstanding reservations keeps besides its
// level: the reservations, and the real level, which counts the tokens of a
// reservation only once it has acted. The two levels differ by the tokens
// outstanding, and by what Cancel gave back less than it could (see
// cancel); when they agree and nothing is outstanding, pending is dropped.
type pending struct {
	head, tail *resv
	sum        int64 // nanotokens outstanding
	real       level
	seq        uint64
}

// state is one token bucket: the level that grants and reservations see,
// and its pending reservations, if any.
type state struct {
	lv level
	p  *pending
}

// params are a bucket's limit and cap, and the cap at the time of the call,
// which a Limiter raises for a while after a late wake (see Limiter).
type params struct {
	limit Limit
	cap   int64 // capOf(burst)
	capAt int64 // the cap now: cap, or more
}

func (s *state) level(t int64, pr *params) int64 { return s.lv.at(t, pr.limit, pr.capAt) }

// settle counts the reservations that acted before t into the real level,
// and drops pending if nothing is outstanding or held back any more.
func (s *state) settle(t int64, pr *params) {
	p := s.p
	if p == nil {
		return
	}
	for r := p.head; r != nil && r.act < t; r = p.head {
		p.real.take(r.act, r.n, pr.limit, pr.cap)
		p.unlink(r)
	}
	if p.head == nil && p.real.at(t, pr.limit, pr.cap) <= s.level(t, pr) {
		s.p = nil
	}
}

func (p *pending) unlink(r *resv) {
	if r.prev == nil {
		p.head = r.next
	} else {
		r.prev.next = r.next
	}
	if r.next == nil {
		p.tail = r.prev
	} else {
		r.next.prev = r.prev
	}
	r.prev, r.next, r.done = nil, nil, true
	p.sum -= r.n
}

// insert adds r to the list, in the order of when they act; among equal
// times, in the order they were made.
func (p *pending) insert(r *resv) {
	p.seq++
	r.seq = p.seq
	at := p.tail
	for at != nil && at.act > r.act {
		at = at.prev
	}
	r.prev = at
	if at == nil {
		r.next, p.head = p.head, r
	} else {
		r.next, at.next = at.next, r
	}
	if r.next == nil {
		p.tail = r
	} else {
		r.next.prev = r
	}
	p.sum += r.n
}

// allow takes x nanotokens at t if the bucket holds them. The caller has
// settled the bucket at t.
func (s *state) allow(t, x int64, pr *params) bool {
	// level and take in one, reading the refill once.
	v := &s.lv
	cur := v.t0 + earned(pr.limit, t-v.a0)
	capped := cur >= pr.capAt
	if capped {
		cur = pr.capAt
	}
	if cur < x {
		return false
	}
	if capped || t-v.a0 > anchorSpan {
		v.a0, v.t0 = t, cur-x
	} else {
		v.t0 -= x
	}
	if s.p != nil {
		s.p.real.take(t, x, pr.limit, pr.cap)
	}
	return true
}

// delay returns how long after t the bucket holds x nanotokens more than
// it does at t, or false if never, or not within maxWait.
func (s *state) delay(t, x int64, maxWait int64, pr *params) (int64, bool) {
	v := s.level(t, pr)
	if v >= x {
		return 0, true
	}
	if pr.limit == 0 || x-v > maxLevel {
		return 0, false
	}
	// The first ns at which earned(d) ≥ x - v.
	d := math.Ceil(float64(x-v) / float64(pr.limit))
	if d > float64(maxWait) || d >= maxLevel {
		return 0, false
	}
	// The quotient is rounded: correct it by a step or two either way.
	off := int64(d)
	for range 2 {
		if off > 0 && earned(pr.limit, off-1) >= x-v {
			off--
		} else if earned(pr.limit, off) < x-v {
			off++
		}
	}
	return off, off <= maxWait
}

// reserve takes x nanotokens at t for an event at t+delay, which the
// caller got from delay, and adds r, filled in, to the outstanding
// reservations, so that it can be cancelled; unless x is 0, which leaves
// nothing to cancel. If the bucket needs a pending
// and spare is not nil, spare becomes it.
func (s *state) reserve(t, x, delay int64, r *resv, pr *params, spare *pending) {
	if x == 0 {
		r.done = true // nothing to give back
		return
	}
	if s.p == nil {
		if spare == nil {
			spare = &pending{}
		}
		*spare = pending{}
		s.p = spare
		s.p.real.set(t, s.level(t, pr))
	}
	s.lv.take(t, x, pr.limit, pr.capAt)
	r.n, r.act = x, t+delay
	s.p.insert(r)
}

// cancel withdraws the outstanding reservation r at t, which must not be
// before the bucket's last settle, and gives tokens back:
//
//   - If no reservation is outstanding any more, the bucket is given the
//     real level: what it would hold had the cancelled reservations never
//     been made.
//   - Otherwise it gives back r's tokens less those of the reservations made
//     after r that are still outstanding, which were counted after r's and
//     wait for them (golang.org/x/time/rate gives back the same); but never
//     so many that a new event could act together with an outstanding one
//     beyond the burst: the level may not pass the real level less what is
//     outstanding, nor, for each outstanding reservation, the burst less
//     the tokens acting with it and after it, less what the limit earns
//     until it acts.
//
// It never takes tokens. It reports whether r was outstanding.
func (s *state) cancel(t int64, r *resv, pr *params) bool {
	s.settle(t, pr)
	if r.done || s.p == nil {
		return false
	}
	p := s.p
	p.unlink(r)
	v := s.level(t, pr)
	real := p.real.at(t, pr.limit, pr.cap)
	if p.head == nil {
		if real > v {
			s.lv.set(t, real)
		}
		s.p = nil
		return true
	}
	back := r.n
	for q := p.head; q != nil; q = q.next {
		if q.seq > r.seq {
			back -= q.n
		}
	}
	limit := real - p.sum
	after := int64(0)
	for q := p.tail; q != nil; q = q.prev {
		after += q.n
		limit = min(limit, pr.cap-after-earnedUp(pr.limit, q.act-t))
	}
	if nv := min(v+max(back, 0), limit); nv > v {
		s.lv.set(t, nv)
	}
	return true
}

// full reports whether the bucket is as a new one is: full, with nothing
// outstanding or held back. The caller has settled it at t.
func (s *state) full(t int64, pr *params) bool {
	return s.p == nil && s.level(t, pr) >= pr.cap
}

// clear forgets the outstanding reservations: they can no longer be
// cancelled. SetLimit does it when the limit changes to or from Inf.
func (s *state) clear() {
	if s.p == nil {
		return
	}
	for r := s.p.head; r != nil; r = s.p.head {
		s.p.unlink(r)
	}
	s.p = nil
}
