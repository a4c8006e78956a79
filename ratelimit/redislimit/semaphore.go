package redislimit

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// patience is how long a group of waiters (a Semaphore value) stays queued
// without polling. Groups poll at least every maxPoll, so only a process
// that has crashed, or stalled for that long, loses its waiters' places.
const patience = 2 * time.Second

// A Semaphore's poller asks again every minPoll while one of its waiters is
// first in the queue, every k×minPoll while the first of them is k-th, up
// to maxPoll; none later than when the first lease expires, and never more
// often than every minPoll.
const (
	minPoll = 2 * time.Millisecond
	maxPoll = 100 * time.Millisecond
)

// pollBatch is how many of its first waiters a poll asks slots for: the
// most it can grant at once.
const pollBatch = 64

// maxGone is how many places of waiters that left one call takes out of
// the queue.
const maxGone = 256

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
//
// # One poller per Semaphore
//
// A waiter queues in Redis with one round trip; then one poller per
// Semaphore value, one of its waiters, asks Redis for all of them (for the
// first 64 in one round trip), and wakes those it got a slot for. It asks
// every 2ms while one of them is first in the queue, every k×2ms while the
// first of them is k-th, up to every 100ms, and when the first lease
// expires. So a Semaphore's calls to Redis grow with the waiters that
// arrive, not with those that wait: at most 500 polls a second, however
// many wait, and a freed slot is taken by the first waiter within 2ms and
// a round trip. A
// Semaphore whose poller stops asking for 2s (its process crashed, or
// stalled) loses its waiters' places; they ask afresh at the back of the
// queue if they come back, and a dead process holds the queue up for those
// 2s at most. Use one Semaphore per key in a process, so that its waiters
// share a poller.
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
// wrapping ErrUnavailable, or ErrBadReply for a reply that cannot be right,
// and OnFailure hears of it. When a poll fails, every waiter of the
// Semaphore fails with it. Do goes on renewing while its function runs, and
// cancels it once the lease may have expired.
//
// All methods are safe for concurrent use. A Semaphore starts no goroutine
// beyond Do's renewals: its poller is one of the waiting callers. Use
// NewSemaphore; the zero Semaphore is not usable.
type Semaphore struct {
	client    redis.Scripter
	key       string
	keys      []string
	n         int64
	ttl       time.Duration
	onFailure func(error)
	group     string

	mu       sync.Mutex
	waiters  list.List // *semWaiter, in the order of their tickets
	byID     map[string]*semWaiter
	polling  bool       // one of the waiters polls for all
	poller   *semWaiter // that waiter, or nil while it is being told
	lastPoll time.Time  // when the latest poll was sent
	gone     []string   // ids that left, to take out of Redis
	kick     chan struct{}
}

// A semWaiter is an Acquire waiting for the poller.
type semWaiter struct {
	id     string
	ticket int64
	elem   *list.Element
	done   chan semResult // 1; sent with mu held
}

// A semResult is what the poller tells a waiter: its lease, or that it
// polls now, or the failure that ends its wait.
type semResult struct {
	lease *Lease
	lead  bool
	err   error
}

// NewSemaphore returns a Semaphore of n slots on key, shared by every
// Semaphore on the same key of the same Redis. The client must be as for
// NewLimiter. NewSemaphore panics if the client is nil or lacks
// ContextTimeoutEnabled, the key is empty or longer than MaxKeyLen, n < 1,
// or an option is nil or is for a Limiter only.
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
	if c.within != 0 {
		panic("redislimit: NewSemaphore: ReserveWithin is an option of NewLimiter")
	}
	return &Semaphore{
		client: client, key: key, n: n, ttl: c.ttl, onFailure: c.onFailure,
		keys:  []string{key + ":holders", key + ":queue", key + ":waiting", key + ":ticket"},
		group: newID(),
		byID:  map[string]*semWaiter{},
		kick:  make(chan struct{}, 1),
	}
}

// Capacity returns the number of slots.
func (s *Semaphore) Capacity() int64 { return s.n }

// TTL returns how long a lease lasts without a renewal.
func (s *Semaphore) TTL() time.Duration { return s.ttl }

func (s *Semaphore) failed(op string, err error) error {
	if !errors.Is(err, ErrBadReply) {
		err = unavailable("Semaphore."+op, s.key, err)
	}
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
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// Acquire waits for a slot, first come first served across every replica,
// and returns its Lease, which expires after the Semaphore's TTL unless
// renewed. The caller must Release it.
//
// If ctx is done on entry, or ends while Acquire waits, Acquire returns
// ctx.Err() unchanged and holds nothing. Its place in the queue is taken
// out by the Semaphore's next poll, if other waiters are left, or else by
// one round trip (of at most 100ms, after ctx has ended) that takes out the
// places of every waiter of the Semaphore that left: a crowd of cancelled
// waiters costs one round trip, not one each. If Redis is unavailable
// Acquire fails with an error wrapping ErrUnavailable; its place in the
// queue is then forgotten after 2s. Acquire panics if ctx is nil.
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
	id := s.group + "/" + newID()
	send := time.Now()
	v, _, err := acquireScript.run(ctx, s.client, s.keys, id, s.n, micros(s.ttl), micros(patience), mode, s.group)
	if err != nil {
		// The grant may have been made and its answer lost: leave,
		// if Redis lets us, rather than hold a slot until it expires.
		s.leave(ctx, id)
		if err := ended(ctx); err != nil {
			return nil, err
		}
		return nil, s.failed(op, err)
	}
	a, err := s.parseAcquire(op, v)
	if err != nil {
		s.leave(ctx, id)
		return nil, s.failed(op, err)
	}
	if a.granted {
		return &Lease{sem: s, id: id, expires: send.Add(a.left)}, nil
	}
	if mode == "try" {
		return nil, nil
	}
	w := &semWaiter{id: id, ticket: a.ticket, done: make(chan semResult, 1)}
	s.mu.Lock()
	s.insert(w)
	lead := !s.polling
	if lead {
		s.polling, s.poller = true, w
	}
	s.mu.Unlock()
	if lead {
		return s.lead(ctx, w, a.rank, a.hint)
	}
	select {
	case r := <-w.done:
		if r.lead {
			return s.lead(ctx, w, -1, -1)
		}
		if r.err != nil {
			return nil, s.failed(op, r.err)
		}
		return r.lease, nil
	case <-ctx.Done():
		return nil, s.quit(ctx, w)
	}
}

// insert puts w in line by its ticket. It must be called with mu held.
func (s *Semaphore) insert(w *semWaiter) {
	s.byID[w.id] = w
	for e := s.waiters.Back(); e != nil; e = e.Prev() {
		if e.Value.(*semWaiter).ticket < w.ticket {
			w.elem = s.waiters.InsertAfter(w, e)
			return
		}
	}
	w.elem = s.waiters.PushFront(w)
}

// remove takes w out of line. It must be called with mu held.
func (s *Semaphore) remove(w *semWaiter) {
	if w.elem != nil {
		s.waiters.Remove(w.elem)
		w.elem = nil
		delete(s.byID, w.id)
	}
}

// handOver makes the first waiter in line the poller, or nobody if none is
// left. It must be called with mu held.
func (s *Semaphore) handOver() {
	if e := s.waiters.Front(); e != nil {
		s.poller = e.Value.(*semWaiter)
		s.poller.done <- semResult{lead: true}
		return
	}
	s.polling, s.poller = false, nil
}

// quit ends the wait of w, whose context has ended: it takes w out of line,
// gives back a lease the poller got for it meanwhile, and hands the polling
// over if it was given it or had it. Its place in the queue is taken out by
// the next poll, or at once if no waiter is left to poll.
func (s *Semaphore) quit(ctx context.Context, w *semWaiter) error {
	s.mu.Lock()
	s.remove(w)
	var r semResult
	select {
	case r = <-w.done:
	default:
	}
	// Its id leaves the queue, and the holders if the poller got it a
	// lease meanwhile (r.lease: the same id).
	s.gone = append(s.gone, w.id)
	if r.lead || s.poller == w {
		s.handOver()
	}
	flush := s.lastOut()
	s.mu.Unlock()
	s.release(ctx, flush)
	return ctx.Err()
}

// lastOut takes the ids that left, to be taken out of Redis now, if no
// waiter is left to poll. It must be called with mu held.
func (s *Semaphore) lastOut() []string {
	if s.polling {
		return nil
	}
	gone := s.gone
	s.gone = nil
	return gone
}

// lead polls for every waiter of s until w, the poller, has a slot or its
// context ends; then it hands the polling over.
func (s *Semaphore) lead(ctx context.Context, w *semWaiter, rank, hint int64) (*Lease, error) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		d := pollDelay(rank, hint)
		s.mu.Lock()
		d = max(d, time.Until(s.lastPoll.Add(minPoll)))
		s.mu.Unlock()
		timer.Reset(d)
		select {
		case <-timer.C:
		case <-s.kick:
			timer.Stop()
		case <-ctx.Done():
			timer.Stop()
			return nil, s.quit(ctx, w)
		}
		s.mu.Lock()
		if d := time.Until(s.lastPoll.Add(minPoll)); d > 0 {
			s.mu.Unlock() // a kick too soon after the last poll
			rank, hint = 0, int64(d/time.Microsecond)
			continue
		}
		gone := s.gone[:min(len(s.gone), maxGone)]
		s.gone = s.gone[len(gone):]
		args := make([]any, 0, 5+len(gone)+pollBatch)
		args = append(args, s.group, s.n, micros(s.ttl), micros(patience), len(gone))
		for _, id := range gone {
			args = append(args, id)
		}
		first := len(args) // of the waiters' ids
		for e := s.waiters.Front(); e != nil && len(args) < first+pollBatch; e = e.Next() {
			args = append(args, e.Value.(*semWaiter).id)
		}
		send := time.Now()
		s.lastPoll = send
		s.mu.Unlock()
		v, _, err := pollScript.run(ctx, s.client, s.keys, args...)
		var p poll
		if err == nil {
			p, err = s.parsePoll(v, len(args)-first)
		}
		if err != nil {
			s.mu.Lock()
			s.gone = append(s.gone, gone...) // not taken out: try again
			s.mu.Unlock()
			if !errors.Is(err, ErrBadReply) && ended(ctx) != nil {
				return nil, s.quit(ctx, w)
			}
			return nil, s.failAll(ctx, w, err)
		}
		var mine *Lease
		rank, hint = -1, p.hint
		s.mu.Lock()
		for i, r := range p.ids {
			id := args[first+i].(string)
			o := s.byID[id]
			switch {
			case o == nil:
				s.gone = append(s.gone, id) // it left meanwhile
			case !r.granted:
				if rank < 0 || r.rank < rank {
					rank = r.rank
				}
			case o == w:
				s.remove(w)
				mine = &Lease{sem: s, id: id, expires: send.Add(r.left)}
			default:
				s.remove(o)
				o.done <- semResult{lease: &Lease{sem: s, id: id, expires: send.Add(r.left)}}
			}
		}
		if rank < 0 && (s.waiters.Len() > 0 || len(s.gone) > 0) {
			rank = 0 // more waiters than one poll asks for: at once
		}
		var flush []string
		if mine != nil {
			s.handOver()
			flush = s.lastOut()
		}
		s.mu.Unlock()
		s.release(ctx, flush)
		if mine != nil {
			return mine, nil
		}
	}
}

// pollDelay is how long the poller waits before it asks again, with the
// first of its waiters rank-th in the queue (-1: not known, ask at once)
// and the first lease expiring in hint µs (-1: none held).
func pollDelay(rank, hint int64) time.Duration {
	if rank < 0 {
		return 0
	}
	d := maxPoll
	if rank < int64(maxPoll/minPoll) {
		d = minPoll * time.Duration(rank+1)
	}
	if hint >= 0 {
		d = min(d, max(time.Duration(hint)*time.Microsecond, minPoll))
	}
	return d
}

// failAll ends the wait of every waiter of s with err, a failed poll of w,
// and tries to take their places out of the queue.
func (s *Semaphore) failAll(ctx context.Context, w *semWaiter, err error) error {
	s.mu.Lock()
	for e := s.waiters.Front(); e != nil; e = s.waiters.Front() {
		o := e.Value.(*semWaiter)
		s.remove(o)
		s.gone = append(s.gone, o.id)
		if o != w {
			o.done <- semResult{err: err}
		}
	}
	s.polling, s.poller = false, nil
	flush := s.lastOut()
	s.mu.Unlock()
	s.release(ctx, flush)
	return s.failed("Acquire", err)
}

// release takes ids out of the queue and the holders in one round trip,
// after ctx has ended, for cleanupTimeout at most.
func (s *Semaphore) release(ctx context.Context, ids []string) {
	for len(ids) > 0 {
		batch := ids[:min(len(ids), maxGone)]
		ids = ids[len(batch):]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		lctx, stop := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		releaseScript.run(lctx, s.client, s.keys, args...)
		stop()
	}
}

// leave takes id out of the queue, and out of the holders in case a grant
// was made whose answer never arrived, after ctx has ended.
func (s *Semaphore) leave(ctx context.Context, id string) {
	lctx, stop := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer stop()
	releaseScript.run(lctx, s.client, s.keys, id)
}

// acquired is an answer of acquireSrc.
type acquired struct {
	granted    bool
	left       time.Duration
	rank, hint int64
	ticket     int64
}

func (s *Semaphore) parseAcquire(op string, v any) (acquired, error) {
	bad := func(what string) (acquired, error) { return acquired{}, badReply("Semaphore."+op, s.key, what, v) }
	a, ok := v.([]any)
	if !ok || len(a) < 2 {
		return bad("not the answer of the semaphore's script")
	}
	x := make([]int64, len(a))
	for i, e := range a {
		if x[i], ok = e.(int64); !ok {
			return bad("a value of the wrong type")
		}
	}
	switch {
	case x[0] == 1 && len(x) == 2:
		left, err := s.leaseLeft(x[1])
		if err != nil {
			return bad(err.Error())
		}
		return acquired{granted: true, left: left}, nil
	case x[0] != 0 || len(x) != 4:
		return bad("not the answer of the semaphore's script")
	case x[1] < -1 || x[2] < -1 || x[3] < 0 || x[1] >= 0 && x[3] == 0:
		return bad("a place, hint or ticket out of range")
	}
	return acquired{rank: x[1], hint: x[2], ticket: x[3]}, nil
}

// leaseLeft checks the µs a granted lease has left.
func (s *Semaphore) leaseLeft(us int64) (time.Duration, error) {
	if us <= 0 || us > micros(s.ttl) {
		return 0, errors.New("a lease time out of range")
	}
	return time.Duration(us) * time.Microsecond, nil
}

// poll is an answer of pollSrc.
type poll struct {
	hint int64
	ids  []struct {
		granted bool
		left    time.Duration
		rank    int64
	}
}

func (s *Semaphore) parsePoll(v any, n int) (poll, error) {
	bad := func(what string) (poll, error) { return poll{}, badReply("Semaphore.Acquire", s.key, what, v) }
	a, ok := v.([]any)
	if !ok || len(a) != 1+2*n {
		return bad("not the answer of the semaphore's poll")
	}
	x := make([]int64, len(a))
	for i, e := range a {
		if x[i], ok = e.(int64); !ok {
			return bad("a value of the wrong type")
		}
	}
	if x[0] < -1 {
		return bad("a hint out of range")
	}
	p := poll{hint: x[0], ids: make([]struct {
		granted bool
		left    time.Duration
		rank    int64
	}, n)}
	for i := range n {
		st, val := x[1+2*i], x[2+2*i]
		switch {
		case st == 1:
			left, err := s.leaseLeft(val)
			if err != nil {
				return bad(err.Error())
			}
			p.ids[i].granted, p.ids[i].left = true, left
		case st == 0 && val >= 0:
			p.ids[i].rank = val
		default:
			return bad("a status or place out of range")
		}
	}
	return p, nil
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
// ErrUnavailable if Redis is (or ErrBadReply), and with ctx.Err() if ctx
// ends first. Renew panics if ctx is nil.
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
	ok, isInt := v.(int64)
	if !isInt || ok != 0 && ok != 1 {
		return s.failed("Lease.Renew", badReply("Lease.Renew", s.key, "not 0 or 1", v))
	}
	if ok != 1 {
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

// Release gives the slot back; waiters find it free when their pollers next
// ask. It returns an error wrapping ErrLeaseLost if the lease had
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
	held, isInt := v.(int64)
	if !isInt || held != 0 && held != 1 {
		return s.failed("Lease.Release", badReply("Lease.Release", s.key, "not 0 or 1", v))
	}
	// The poller of this Semaphore, if any, asks for the slot at once
	// (no sooner than minPoll after its last poll).
	select {
	case s.kick <- struct{}{}:
	default:
	}
	if held != 1 {
		return l.lost("Release", "it had expired")
	}
	return nil
}

// Do runs fn holding a slot, as Python's `async with sem:` runs its block
// across processes: it acquires a lease (see Acquire, whose error it returns
// without calling fn), calls fn in the caller's goroutine, renews the lease
// every TTL/3 while fn runs, and releases it when fn returns, panics or
// calls runtime.Goexit. A panic in fn goes on up the caller's stack,
// unchanged, once the renewals have stopped and the slot is released; so
// does a Goexit.
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
	// If fn panics or calls runtime.Goexit, this deferred cleanup stops the
	// renewals, waits for them and releases the slot, and the panic (or the
	// Goexit) goes on unchanged: nothing recovers it.
	returned := false
	defer func() {
		if !returned {
			cleanup()
		}
	}()
	err = fn(fctx)
	returned = true
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
