package redislimit

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/structured-go/structured/ratelimit"
)

// downFor is how long a Limiter leaves Redis alone after a call found it
// unavailable: calls in that time apply the failure policy at once, rather
// than each paying for a connection that will fail, and the first call
// after it tries Redis again.
const downFor = 100 * time.Millisecond

// noWait is the maxwait of a grant that may wait any time: 31 years.
const noWait = int64(1e15)

// A Limiter lets events happen at most at a given rate, with bursts, counted
// in Redis, so that every process using the same key shares one limit: ten
// replicas of a service with a Limiter each on key "api" make at most limit
// calls a second to the API in all, not each. It is ratelimit.Limiter's
// token bucket, with its names, kept as the generic cell rate algorithm in
// one Lua script.
//
// Most callers should use Wait, as with ratelimit.Limiter: a Limiter is a
// ratelimit.Waiter. AllowN and ReserveN take a context too, since they ask
// Redis, and report its failures.
//
// # One round trip, and often none
//
// A call that asks Redis costs one round trip (EVALSHA; after a restart of
// Redis, one more with EVAL). Wait reserves its tokens in that one trip and
// then sleeps in the caller until they come: it never polls. And each answer
// tells the Limiter how full the bucket is, which only others' calls can make
// emptier: until the tokens could have come, a call that the last answer
// already rules out is answered without Redis (the pre-check). AllowN
// reports false, and WaitN fails with ratelimit.ErrExceedsDeadline when its
// context's deadline is too near, with no round trip; Stats counts them.
//
// # Never more than the rate
//
// Counting from the first call on a fresh key, the replicas together never
// get more than burst + limit × elapsed tokens, elapsed by Redis's clock:
// every grant is decided in Redis, by Redis's time, and a waiter acts only
// after its grant's time has come (it sleeps from the moment the answer
// arrives). The clocks of the replicas play no part. If Redis restarts
// without persistence the bucket starts full again: one more burst. Every
// replica must use the same limit and burst for a key: each call applies
// the caller's.
//
// # When Redis is unavailable
//
// A call that cannot get an answer from Redis applies the Limiter's failure
// policy, chosen with an option: FailClosed (the default) fails with an
// error wrapping ErrUnavailable, FailOpen allows, FailLocal falls back to a
// limiter in this process at limit/replicas. OnFailure hears of every such
// error. From that failure until Redis answers again, every call is answered
// by the policy (the pre-check no longer applies), and for 100ms after each
// failure without asking Redis: a call after that tries it again. Until a
// first call has failed, a call the last answer ruled out is still refused
// without asking. How fast a dead Redis is noticed is the client's to say:
// go-redis tries a refused dial 5 times, 100ms apart, unless DialerRetries
// says otherwise (1 for a policy that acts at once).
//
// A call's round trip ends by its context's deadline (that is why the client
// must have ContextTimeoutEnabled), so a Redis that is slow cannot make Wait
// overrun its deadline: when the deadline cuts it short, WaitN returns
// ctx.Err(). Without a deadline a round trip lasts at most the client's
// ReadTimeout; a context cancelled during a round trip is noticed when it
// ends.
//
// # Rules
//
// All methods are safe for concurrent use, and several Limiters (in one
// process or many) may share a key. A Limiter starts no goroutine: Wait
// sleeps in its caller. Blocking calls take a context, fail at once if it is
// done, and return ctx.Err() unchanged when it ends. Errors wrap the
// sentinels of package ratelimit (ErrExceedsBurst, ErrExceedsDeadline) and
// of this package. Use NewLimiter; the zero Limiter is not usable.
type Limiter struct {
	client redis.Scripter
	key    string
	limit  ratelimit.Limit
	burst  int
	inf    bool
	tArg   string  // µs per token, formatted for the scripts
	perTok float64 // ns per token

	policy    policy
	local     *ratelimit.Limiter // FailLocal's
	onFailure func(error)

	// clock reads the local clock; tests replace it to play a replica whose
	// clock is off.
	clock func() time.Time

	mu sync.Mutex
	// emptyAt is when, by this process's clock, the bucket was or will be
	// empty, as far as the answers so far tell: no earlier than the truth,
	// since others only take tokens. n tokens come no sooner than
	// emptyAt + n×T.
	emptyAt time.Time
	// failing is the latest failure, from it until Redis answers again:
	// meanwhile the policy answers, without the pre-check, and Redis is
	// asked again only from downUntil on.
	failing   error
	downUntil time.Time

	calls, roundTrips, saved, failures atomic.Int64
}

// NewLimiter returns a Limiter on key that allows events at rate r with
// bursts of at most b, shared by every Limiter on the same key of the same
// Redis. A key no one has used is a full bucket.
//
// The client is a go-redis client (*redis.Client, *redis.ClusterClient,
// *redis.Ring, or anything with their scripting methods); it must have
// ContextTimeoutEnabled, and NewLimiter panics if one of those three does
// not. NewLimiter panics too if the client is nil, the key is empty, r is
// not more than 0 (use ratelimit.Inf for no limit, which never asks Redis),
// b is negative, or an option is nil or is for a Semaphore only.
func NewLimiter(client redis.Scripter, key string, r ratelimit.Limit, b int, opts ...Option) *Limiter {
	checkClient("NewLimiter", client)
	checkKey("NewLimiter", key)
	if !(r > 0) {
		panic(fmt.Sprintf("redislimit: NewLimiter(r=%v): the limit must be more than 0 events per second", float64(r)))
	}
	if b < 0 {
		panic(fmt.Sprintf("redislimit: NewLimiter(b=%d): the burst must not be negative", b))
	}
	c := parse("NewLimiter", opts)
	if c.ttl != DefaultTTL {
		panic("redislimit: NewLimiter: WithTTL is an option of NewSemaphore")
	}
	l := &Limiter{
		client: client, key: key, limit: r, burst: b,
		inf:    r == ratelimit.Inf,
		policy: c.policy, onFailure: c.onFailure,
		clock: time.Now,
	}
	if !l.inf {
		usPerToken := 1e6 / float64(r)
		l.tArg = strconv.FormatFloat(usPerToken, 'g', -1, 64)
		l.perTok = 1e9 / float64(r)
	}
	if c.policy == failLocal {
		l.local = ratelimit.NewLimiter(r/ratelimit.Limit(c.replicas), max(1, b/c.replicas))
	}
	return l
}

func checkN(fn string, n int) {
	if n < 0 {
		panic(fmt.Sprintf("redislimit: Limiter.%s(n=%d): n must not be negative", fn, n))
	}
}

func checkCtx(fn string, ctx context.Context) {
	if ctx == nil {
		panic(fmt.Sprintf("redislimit: %s called with a nil context", fn))
	}
}

// Limit returns the limit.
func (l *Limiter) Limit() ratelimit.Limit { return l.limit }

// Burst returns the burst.
func (l *Limiter) Burst() int { return l.burst }

// Key returns the key in Redis.
func (l *Limiter) Key() string { return l.key }

// Stats are counts of a Limiter's calls since it was made.
type Stats struct {
	// Calls is the number of AllowN, WaitN and ReserveN calls that needed
	// an answer about the bucket (not counting n = 0, a limit of Inf, n
	// beyond the burst, or a context already done).
	Calls int64
	// RoundTrips is the number of commands sent to Redis.
	RoundTrips int64
	// Saved is the number of calls the pre-check answered without Redis.
	Saved int64
	// Failures is the number of calls answered by the failure policy:
	// those Redis failed, and those made after a failure before Redis
	// answered again.
	Failures int64
}

// Stats returns the Limiter's counts so far.
func (l *Limiter) Stats() Stats {
	return Stats{
		Calls:      l.calls.Load(),
		RoundTrips: l.roundTrips.Load(),
		Saved:      l.saved.Load(),
		Failures:   l.failures.Load(),
	}
}

// readyAt is the earliest time n tokens can be there, by what the answers so
// far tell. It must be called with mu held.
func (l *Limiter) readyAt(n int) time.Time {
	if l.emptyAt.IsZero() {
		return time.Time{}
	}
	return l.emptyAt.Add(time.Duration(float64(n) * l.perTok))
}

// grant is an answer of gcraSrc.
type grant struct {
	ok    bool
	wait  time.Duration
	empty time.Duration
	tat   string
}

// ask runs gcraSrc for n tokens within maxWait µs. On an answer it learns
// from it for the pre-check; on a failure it records it, and says so with a
// nil error and down set, unless ctx has ended.
func (l *Limiter) ask(ctx context.Context, n int, maxWait int64) (g grant, recv time.Time, err error) {
	send := l.clock()
	v, trips, err := gcraScript.run(ctx, l.client, []string{l.key}, l.tArg, l.burst, n, maxWait)
	l.roundTrips.Add(int64(trips))
	recv = l.clock()
	if err == nil {
		g, err = parseGrant(v)
	}
	if err != nil {
		return g, recv, err
	}
	// The answer's now lies between send and recv; counting from send
	// puts emptyAt no later than the truth.
	e := send.Add(g.empty)
	l.mu.Lock()
	if e.After(l.emptyAt) {
		l.emptyAt = e
	}
	l.failing = nil
	l.mu.Unlock()
	return g, recv, nil
}

func parseGrant(v any) (grant, error) {
	a, ok := v.([]any)
	if !ok || len(a) != 4 {
		return grant{}, fmt.Errorf("redislimit: unexpected answer %v from the limiter's script", v)
	}
	granted, ok1 := a[0].(int64)
	wait, ok2 := a[1].(int64)
	empty, ok3 := a[2].(int64)
	tat, ok4 := a[3].(string)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return grant{}, fmt.Errorf("redislimit: unexpected answer %v from the limiter's script", v)
	}
	return grant{
		ok:    granted == 1,
		wait:  time.Duration(wait) * time.Microsecond,
		empty: time.Duration(empty) * time.Microsecond,
		tat:   tat,
	}, nil
}

// check says how to answer a call for n tokens at now, before asking
// Redis: ruledOut if the answers so far rule it out (the pre-check), or
// down, the failure to answer it with by the policy, if Redis failed less
// than downFor ago; probing if Redis failed longer ago and has not answered
// since, so that the pre-check does not apply.
func (l *Limiter) check(now time.Time, n int, within time.Duration) (ruledOut bool, down error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failing != nil {
		if now.Before(l.downUntil) {
			return false, l.failing
		}
		return false, nil
	}
	return now.Add(within).Before(l.readyAt(n)), nil
}

// failed records that Redis failed a call of op, and returns the error to
// apply the policy with.
func (l *Limiter) failed(op string, err error) error {
	err = unavailable("Limiter."+op, l.key, err)
	l.mu.Lock()
	l.downUntil = l.clock().Add(downFor)
	l.failing = err
	l.mu.Unlock()
	if l.onFailure != nil {
		l.onFailure(err)
	}
	return err
}

// Allow is AllowN(ctx, 1).
func (l *Limiter) Allow(ctx context.Context) (bool, error) { return l.AllowN(ctx, 1) }

// AllowN reports whether n events may happen now, and takes n tokens if so;
// if not, it takes none. Use it to drop or refuse events beyond the rate;
// otherwise use Wait. AllowN is false for an n larger than the burst
// (unless the limit is Inf), and false without asking Redis when the last
// answer rules n tokens out (see Limiter).
//
// If ctx is done, AllowN returns false and ctx.Err(). If Redis is
// unavailable, the policy answers: FailClosed returns false and an error
// wrapping ErrUnavailable, FailOpen true, FailLocal the local limiter's
// answer. AllowN panics if ctx is nil or n is negative.
func (l *Limiter) AllowN(ctx context.Context, n int) (bool, error) {
	checkCtx("Limiter.AllowN", ctx)
	checkN("AllowN", n)
	if l.inf || n == 0 {
		return true, nil
	}
	if n > l.burst {
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	l.calls.Add(1)
	ruledOut, down := l.check(l.clock(), n, 0)
	if ruledOut {
		l.saved.Add(1)
		return false, nil
	}
	if down != nil {
		return l.allowFailed(n, down)
	}
	g, _, err := l.ask(ctx, n, 0)
	if err != nil {
		if err := ended(ctx); err != nil {
			return false, err
		}
		return l.allowFailed(n, l.failed("AllowN", err))
	}
	return g.ok, nil
}

func (l *Limiter) allowFailed(n int, err error) (bool, error) {
	l.failures.Add(1)
	switch l.policy {
	case failOpen:
		return true, nil
	case failLocal:
		return l.local.AllowN(n), nil
	}
	return false, err
}

// Wait is WaitN(ctx, 1).
func (l *Limiter) Wait(ctx context.Context) error { return l.WaitN(ctx, 1) }

// WaitN blocks until n events may happen, takes their tokens, and returns
// nil. It reserves the tokens in one round trip and sleeps until they come.
// It fails at once, taking nothing, with an error wrapping
// ratelimit.ErrExceedsBurst if n is more than the burst (unless the limit is
// Inf), and with one wrapping ratelimit.ErrExceedsDeadline if the tokens
// would come only after ctx's deadline; when the last answer already says
// so, without asking Redis.
//
// If ctx is done on entry, or ends while WaitN waits (or while its round
// trip is under way), WaitN returns ctx.Err() unchanged, and gives its
// tokens back if no one has taken tokens since, so that later callers go
// sooner. If Redis is unavailable, the policy answers: FailClosed returns an
// error wrapping ErrUnavailable, FailOpen nil at once, FailLocal waits on
// the local limiter. WaitN panics if ctx is nil or n is negative.
func (l *Limiter) WaitN(ctx context.Context, n int) error {
	checkCtx("Limiter.WaitN", ctx)
	checkN("WaitN", n)
	if n > l.burst && !l.inf {
		return fmt.Errorf("redislimit: Limiter.WaitN(n=%d) with a burst of %d: %w", n, l.burst, ratelimit.ErrExceedsBurst)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.inf || n == 0 {
		return nil
	}
	l.calls.Add(1)
	maxWait := noWait
	within := time.Duration(noWait) * time.Microsecond
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		within = time.Until(deadline)
		maxWait = max(0, micros(within))
	}
	ruledOut, down := l.check(l.clock(), n, within)
	if ruledOut {
		l.saved.Add(1)
		return l.exceedsDeadline(n)
	}
	if down != nil {
		return l.waitFailed(ctx, n, down)
	}
	g, recv, err := l.ask(ctx, n, maxWait)
	if err != nil {
		if err := ended(ctx); err != nil {
			return err
		}
		return l.waitFailed(ctx, n, l.failed("WaitN", err))
	}
	if !g.ok {
		return l.exceedsDeadline(n)
	}
	if g.wait <= 0 {
		return nil
	}
	act := recv.Add(g.wait)
	if hasDeadline && time.Until(deadline) < act.Sub(l.clock()) {
		// The answer came back too late to wait: give the tokens back
		// while there is time.
		l.giveBack(ctx, n, g.tat)
		return l.exceedsDeadline(n)
	}
	timer := time.NewTimer(act.Sub(l.clock()))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		// Giving back takes a round trip; worth it only if it ends
		// before the tokens would have come anyway, so bound it by that.
		if left := act.Sub(l.clock()); left > 0 {
			gctx, stop := context.WithTimeout(context.WithoutCancel(ctx), left)
			l.giveBack(gctx, n, g.tat)
			stop()
		}
		return ctx.Err()
	}
}

func (l *Limiter) exceedsDeadline(n int) error {
	return fmt.Errorf("redislimit: Limiter.WaitN(n=%d): %w", n, ratelimit.ErrExceedsDeadline)
}

func (l *Limiter) waitFailed(ctx context.Context, n int, err error) error {
	l.failures.Add(1)
	switch l.policy {
	case failOpen:
		return nil
	case failLocal:
		return l.local.WaitN(ctx, n)
	}
	return err
}

// giveBack gives back the n tokens of a grant that set tat, if it can; it
// reports whether it did. A failure is not the caller's: the tokens are
// merely lost, as if used.
func (l *Limiter) giveBack(ctx context.Context, n int, tat string) bool {
	v, trips, err := giveBackScript.run(ctx, l.client, []string{l.key}, tat, l.tArg, l.burst, n)
	l.roundTrips.Add(int64(trips))
	if err != nil {
		return false
	}
	if back, _ := v.(int64); back == 1 {
		// The bucket is fuller than the answers said: forget them.
		l.mu.Lock()
		l.emptyAt = time.Time{}
		l.mu.Unlock()
		return true
	}
	return false
}

// Reserve is ReserveN(ctx, 1).
func (l *Limiter) Reserve(ctx context.Context) (*Reservation, error) { return l.ReserveN(ctx, 1) }

// ReserveN takes n tokens now or in the future, in one round trip, and
// returns a Reservation saying when the n events may happen (Delay). The
// caller must wait that long before acting, or Cancel the reservation. The
// Reservation is not OK, and takes nothing, if n is more than the burst
// (unless the limit is Inf). To wait with a context, use Wait.
//
// If ctx is done, ReserveN returns ctx.Err(). If Redis is unavailable, the
// policy answers: FailClosed returns an error wrapping ErrUnavailable,
// FailOpen a reservation with no delay, FailLocal one from the local
// limiter. ReserveN panics if ctx is nil or n is negative.
func (l *Limiter) ReserveN(ctx context.Context, n int) (*Reservation, error) {
	checkCtx("Limiter.ReserveN", ctx)
	checkN("ReserveN", n)
	if l.inf || n == 0 {
		return &Reservation{lim: l, n: n, ok: true}, nil
	}
	if n > l.burst {
		return &Reservation{lim: l, n: n}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.calls.Add(1)
	if _, down := l.check(l.clock(), n, time.Duration(noWait)*time.Microsecond); down != nil {
		return l.reserveFailed(n, down)
	}
	g, recv, err := l.ask(ctx, n, noWait)
	if err != nil {
		if err := ended(ctx); err != nil {
			return nil, err
		}
		return l.reserveFailed(n, l.failed("ReserveN", err))
	}
	if !g.ok { // only past noWait: a limit of less than 1 per 31 years
		return &Reservation{lim: l, n: n}, nil
	}
	return &Reservation{lim: l, n: n, ok: true, act: recv.Add(g.wait), tat: g.tat}, nil
}

func (l *Limiter) reserveFailed(n int, err error) (*Reservation, error) {
	l.failures.Add(1)
	switch l.policy {
	case failOpen:
		return &Reservation{lim: l, n: n, ok: true}, nil
	case failLocal:
		r := l.local.ReserveN(n)
		return &Reservation{lim: l, n: n, ok: r.OK(), local: r}, nil
	}
	return nil, err
}

// A Reservation is tokens taken from a Limiter for events that may happen at
// a known time, now or in the future. Its methods are safe for concurrent
// use.
type Reservation struct {
	lim   *Limiter
	n     int
	ok    bool
	act   time.Time // by lim's clock; zero: now
	tat   string    // what the grant set in Redis; "" if it did not ask
	local *ratelimit.Reservation

	cancelled atomic.Bool
}

// OK reports whether the limiter granted the tokens. If not, Delay is
// ratelimit.InfDuration and Cancel does nothing.
func (r *Reservation) OK() bool { return r.ok }

// Delay returns how long the holder must wait before acting: 0 if now,
// ratelimit.InfDuration if the reservation is not OK. It counts from when
// the answer arrived, so the holder never acts before Redis's time for the
// grant.
func (r *Reservation) Delay() time.Duration {
	switch {
	case !r.ok:
		return ratelimit.InfDuration
	case r.local != nil:
		return r.local.Delay()
	case r.act.IsZero():
		return 0
	}
	return max(0, r.act.Sub(r.lim.clock()))
}

// Cancel says that the holder will not act, and gives the tokens back if no
// one has taken tokens from the key since and their time has not come, as
// if the reservation had never been made; otherwise they count as used, so
// that no later grant moves earlier than the rate allows. Cancel takes a
// round trip and reports whether it gave the tokens back; its error is
// ctx.Err() or one wrapping ErrUnavailable. Cancel is idempotent: only the
// first call does anything. It panics if ctx is nil.
func (r *Reservation) Cancel(ctx context.Context) (bool, error) {
	checkCtx("Reservation.Cancel", ctx)
	if !r.ok || !r.cancelled.CompareAndSwap(false, true) {
		return false, nil
	}
	if r.local != nil {
		r.local.Cancel()
		return true, nil
	}
	if r.tat == "" || !r.lim.clock().Before(r.act) {
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	l := r.lim
	v, trips, err := giveBackScript.run(ctx, l.client, []string{l.key}, r.tat, l.tArg, l.burst, r.n)
	l.roundTrips.Add(int64(trips))
	if err != nil {
		if err := ended(ctx); err != nil {
			return false, err
		}
		return false, unavailable("Reservation.Cancel", l.key, err)
	}
	if back, _ := v.(int64); back == 1 {
		l.mu.Lock()
		l.emptyAt = time.Time{}
		l.mu.Unlock()
		return true, nil
	}
	return false, nil
}

var _ ratelimit.Waiter = (*Limiter)(nil)
