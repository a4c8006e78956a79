package redislimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// patience is how long a waiter stays queued without asking again. Waiters
// ask at least every maxPoll, so only a waiter that has crashed, or whose
// host stalled for that long, loses its place.
const patience = 2 * time.Second

// The first waiter in the queue asks again every minPoll, the k-th every
// k×minPoll, up to maxPoll; none later than when the first lease expires.
const (
	minPoll = 2 * time.Millisecond
	maxPoll = 100 * time.Millisecond
)

// cleanupTimeout bounds the round trip that takes a cancelled waiter out of
// the queue after its context has ended.
const cleanupTimeout = 100 * time.Millisecond

// A Semaphore bounds how many holders, in any number of processes, use a
// resource at once: each holder leases one of its n slots in Redis, and
// gives it back when done. A lease expires unless renewed, so the slots of a
// replica that crashed come back after the lease's TTL (WithTTL;
// DefaultTTL otherwise).
//
// Most callers should use Do, which acquires a lease, renews it while the
// function runs, cancels the function's context if the lease is lost, and
// releases it. Acquire returns the Lease itself, for the caller to Renew
// before it expires and to Release.
//
// # First come, first served
//
// Waiters are served in the order in which their first request reached
// Redis, whichever replica they are in: a slot goes to a later waiter only
// when enough slots are free for every earlier one too, so nobody overtakes.
// Waiters ask Redis again from time to time: the first in the queue every
// 2ms, the k-th every k×2ms up to every 100ms, and all when the first lease
// expires; a freed slot is taken by the first waiter within 2ms and a round
// trip. A waiter that stops asking for 2s (its process
// crashed, or stalled) loses its place, and asks afresh at the back of the
// queue if it comes back; a dead waiter holds the queue up for those 2s at
// most.
//
// # Expiry
//
// A lease's expiry is kept by Redis's clock. A holder counts its own from the
// moment it sent the request that granted or renewed it, which is no later
// than Redis's, so Do cancels its function no later than the lease expires.
// If Redis restarts without persistence, every lease is lost: Renew reports
// ErrLeaseLost, and Do cancels its function.
//
// # When Redis is unavailable
//
// A Semaphore fails closed: Acquire, Renew and Release fail with an error
// wrapping ErrUnavailable, and OnFailure hears of it. Do goes on renewing
// while its function runs, and cancels it once the lease may have expired.
//
// All methods are safe for concurrent use. Use NewSemaphore; the zero
// Semaphore is not usable.
type Semaphore struct {
	client    redis.Scripter
	key       string
	keys      []string
	n         int64
	ttl       time.Duration
	onFailure func(error)
}

// NewSemaphore returns a Semaphore of n slots on key, shared by every
// Semaphore on the same key of the same Redis. The client must be as for
// NewLimiter. NewSemaphore panics if the client is nil or lacks
// ContextTimeoutEnabled, the key is empty, n < 1, or an option is nil or is
// for a Limiter only.
func NewSemaphore(client redis.Scripter, key string, n int64, opts ...Option) *Semaphore {
	checkClient("NewSemaphore", client)
	checkKey("NewSemaphore", key)
	if n < 1 {
		panic(fmt.Sprintf("redislimit: NewSemaphore(n=%d): the capacity must be at least 1", n))
	}
	c := parse("NewSemaphore", opts)
	if c.policySet {
		panic("redislimit: NewSemaphore: FailClosed, FailOpen and FailLocal are options of NewLimiter; a Semaphore always fails closed")
	}
	return &Semaphore{
		client: client, key: key, n: n, ttl: c.ttl, onFailure: c.onFailure,
		keys: []string{key + ":holders", key + ":queue", key + ":waiting", key + ":ticket"},
	}
}

// Capacity returns the number of slots.
func (s *Semaphore) Capacity() int64 { return s.n }

// TTL returns how long a lease lasts without a renewal.
func (s *Semaphore) TTL() time.Duration { return s.ttl }

func (s *Semaphore) failed(op string, err error) error {
	err = unavailable("Semaphore."+op, s.key, err)
	if s.onFailure != nil {
		s.onFailure(err)
	}
	return err
}

// A Lease is one slot of a Semaphore, held until it is released or expires.
// Its methods are safe for concurrent use.
type Lease struct {
	sem *Semaphore
	id  string

	mu       sync.Mutex
	expires  time.Time // by this process's clock, no later than Redis's
	released bool
}

func newID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// Acquire waits for a slot, first come first served across every replica,
// and returns its Lease, which expires after the Semaphore's TTL unless
// renewed. The caller must Release it.
//
// If ctx is done on entry, or ends while Acquire waits, Acquire returns
// ctx.Err() unchanged and holds nothing: it takes its place out of the queue
// (one round trip, of at most 100ms, after ctx has ended). If Redis is
// unavailable it fails with an error wrapping ErrUnavailable; its place in
// the queue is then forgotten after 2s. Acquire panics if ctx is nil.
func (s *Semaphore) Acquire(ctx context.Context) (*Lease, error) {
	checkCtx("Semaphore.Acquire", ctx)
	return s.acquire(ctx, "wait")
}

// TryAcquire takes a slot if one is free and nobody is waiting, in one round
// trip, and returns its Lease; if not, it returns nil and no error. Its
// errors are as Acquire's. TryAcquire panics if ctx is nil.
func (s *Semaphore) TryAcquire(ctx context.Context) (*Lease, error) {
	checkCtx("Semaphore.TryAcquire", ctx)
	return s.acquire(ctx, "try")
}

func (s *Semaphore) acquire(ctx context.Context, mode string) (*Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	op := "Acquire"
	if mode == "try" {
		op = "TryAcquire"
	}
	id := newID()
	var timer *time.Timer
	for {
		send := time.Now()
		v, _, err := acquireScript.run(ctx, s.client, s.keys, id, s.n, micros(s.ttl), micros(patience), mode)
		if err != nil {
			// The grant may have been made and its answer lost: leave,
			// if Redis lets us, rather than hold a slot until it expires.
			s.leave(ctx, id)
			if err := ended(ctx); err != nil {
				return nil, err
			}
			return nil, s.failed(op, err)
		}
		a, ok := v.([]any)
		if !ok || len(a) < 2 {
			return nil, s.failed(op, fmt.Errorf("unexpected answer %v from the semaphore's script", v))
		}
		if granted, _ := a[0].(int64); granted == 1 {
			ttl, _ := a[1].(int64)
			return &Lease{sem: s, id: id, expires: send.Add(time.Duration(ttl) * time.Microsecond)}, nil
		}
		if mode == "try" {
			return nil, nil
		}
		// The first in the queue asks most often, since it goes next;
		// the k-th, k times less often: a waiter that moved up faster
		// than it asked holds the queue up by no more than its last
		// interval.
		d := maxPoll
		if len(a) == 3 {
			if rank, _ := a[1].(int64); rank >= 0 && rank < int64(maxPoll/minPoll) {
				d = minPoll * time.Duration(rank+1)
			}
			if hint, _ := a[2].(int64); hint >= 0 {
				d = min(d, time.Duration(hint)*time.Microsecond)
			}
		}
		if timer == nil {
			timer = time.NewTimer(d)
			defer timer.Stop()
		} else {
			timer.Reset(d)
		}
		select {
		case <-timer.C:
		case <-ctx.Done():
			s.leave(ctx, id)
			return nil, ctx.Err()
		}
	}
}

// leave takes id out of the queue, and out of the holders in case a grant
// was made whose answer never arrived, after ctx has ended.
func (s *Semaphore) leave(ctx context.Context, id string) {
	lctx, stop := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer stop()
	releaseScript.run(lctx, s.client, s.keys, id)
}

// Expires returns when the lease expires unless renewed, by this process's
// clock: no later than Redis has it.
func (l *Lease) Expires() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.expires
}

// Renew extends the lease by the Semaphore's TTL from now. It fails with an
// error wrapping ErrLeaseLost if the lease has expired or been released (so
// that another holder may have had the slot), with one wrapping
// ErrUnavailable if Redis is, and with ctx.Err() if ctx ends first. Renew
// panics if ctx is nil.
func (l *Lease) Renew(ctx context.Context) error {
	checkCtx("Lease.Renew", ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	released := l.released
	l.mu.Unlock()
	if released {
		return l.lost("Renew", "it was released")
	}
	s := l.sem
	send := time.Now()
	v, _, err := renewScript.run(ctx, s.client, s.keys, l.id, micros(s.ttl), micros(patience))
	if err != nil {
		if err := ended(ctx); err != nil {
			return err
		}
		return s.failed("Lease.Renew", err)
	}
	if ok, _ := v.(int64); ok != 1 {
		return l.lost("Renew", "it had expired")
	}
	l.mu.Lock()
	if e := send.Add(s.ttl); e.After(l.expires) {
		l.expires = e
	}
	l.mu.Unlock()
	return nil
}

func (l *Lease) lost(op, why string) error {
	return fmt.Errorf("%w (Lease.%s, key %q): %s", ErrLeaseLost, op, l.sem.key, why)
}

// Release gives the slot back, waking no one: waiters find it free when
// they next ask. It returns an error wrapping ErrLeaseLost if the lease had
// already expired, so that another holder may have had the slot while this
// one thought it held it; one wrapping ErrUnavailable if Redis is (the slot
// then comes back when the lease expires); or ctx.Err(). Releasing twice
// does nothing the second time. Release panics if ctx is nil. A context
// that may already be cancelled when the work ends can be made
// context.WithoutCancel(ctx), as Do does.
func (l *Lease) Release(ctx context.Context) error {
	checkCtx("Lease.Release", ctx)
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		return nil
	}
	l.released = true
	l.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	s := l.sem
	v, _, err := releaseScript.run(ctx, s.client, s.keys, l.id)
	if err != nil {
		if err := ended(ctx); err != nil {
			return err
		}
		return s.failed("Lease.Release", err)
	}
	if held, _ := v.(int64); held != 1 {
		return l.lost("Release", "it had expired")
	}
	return nil
}

// Do runs fn holding a slot, as Python's `async with sem:` runs its block
// across processes: it acquires a lease (see Acquire, whose error it returns
// without calling fn), calls fn in the caller's goroutine, renews the lease
// every TTL/3 while fn runs, and releases it when fn returns or panics. A
// panic in fn goes on up the caller's stack, unchanged, once the renewals
// have stopped and the slot is released.
//
// If the lease is lost while fn runs (Redis no longer has it, or renewals
// failed until it may have expired), Do cancels fn's context with a cause
// wrapping ErrLeaseLost (context.Cause tells), and returns an error wrapping
// ErrLeaseLost, joined with fn's own error unless that is only the echo of
// the cancellation. Otherwise it returns fn's error unchanged. The release
// happens even if ctx has ended; if it fails, the slot comes back when the
// lease expires, and OnFailure hears of it. Do panics if ctx or fn is nil.
func (s *Semaphore) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	if fn == nil {
		panic("redislimit: Semaphore.Do called with a nil function")
	}
	checkCtx("Semaphore.Do", ctx)
	lease, err := s.Acquire(ctx)
	if err != nil {
		return err
	}
	fctx, cancelFn := context.WithCancelCause(ctx)
	defer cancelFn(nil)
	rctx, stopRenew := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { lease.keep(rctx, cancelFn) })
	cleanup := func() {
		stopRenew()
		wg.Wait()
		if left := time.Until(lease.Expires()); left > 0 {
			relctx, stop := context.WithTimeout(context.WithoutCancel(ctx), left)
			lease.Release(relctx)
			stop()
		}
	}
	defer func() {
		if r := recover(); r != nil {
			cleanup()
			panic(r)
		}
	}()
	err = fn(fctx)
	cleanup()
	if cause := context.Cause(fctx); errors.Is(cause, ErrLeaseLost) {
		if err == nil || errors.Is(err, context.Canceled) && ctx.Err() == nil {
			return cause
		}
		return errors.Join(err, cause)
	}
	return err
}

// keep renews the lease every TTL/3 until ctx ends, and calls lose with an
// error wrapping ErrLeaseLost once the lease is lost or may have expired.
func (l *Lease) keep(ctx context.Context, lose context.CancelCauseFunc) {
	every := max(l.sem.ttl/3, time.Millisecond)
	timer := time.NewTimer(every)
	defer timer.Stop()
	var lastErr error
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		expires := l.Expires()
		left := time.Until(expires)
		if left <= 0 {
			why := fmt.Errorf("%w (Semaphore.Do, key %q): no renewal reached Redis before it expired", ErrLeaseLost, l.sem.key)
			if lastErr != nil {
				why = fmt.Errorf("%w; the last try: %w", why, lastErr)
			}
			lose(why)
			return
		}
		// A renewal is worth waiting for only until the lease expires.
		rctx, stop := context.WithTimeout(ctx, left)
		err := l.Renew(rctx)
		stop()
		switch {
		case err == nil:
			lastErr = nil
			timer.Reset(every)
		case errors.Is(err, ErrLeaseLost):
			lose(err)
			return
		case ctx.Err() != nil:
			return
		default:
			// Redis failed: try again soon, and give up when the lease
			// may have expired.
			lastErr = err
			timer.Reset(min(every/4, max(time.Until(expires), 0)) + time.Millisecond)
		}
	}
}
