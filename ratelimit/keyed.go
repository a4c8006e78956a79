package ratelimit

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// An Option configures a Keyed limiter.
type Option interface {
	apply(*keyedConfig)
}

type keyedConfig struct {
	maxKeys int
}

type optionFunc func(*keyedConfig)

func (f optionFunc) apply(c *keyedConfig) { f(c) }

// DefaultMaxKeys is the most keys a Keyed limiter holds unless WithMaxKeys
// says otherwise.
const DefaultMaxKeys = 1 << 16

// WithMaxKeys bounds the number of keys a Keyed limiter holds at once to n.
// WithMaxKeys panics if n < 1.
func WithMaxKeys(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("ratelimit: WithMaxKeys(%d): the maximum must be at least 1", n))
	}
	return optionFunc(func(c *keyedConfig) { c.maxKeys = n })
}

// A Keyed limiter is one Limiter per key (a client, an IP address, a
// tenant), all with the same limit and burst, made the first time a key is
// used. Each key's bucket behaves as a Limiter's: Allow, Wait and Tokens of
// a key are those of a Limiter that only that key's calls use (but for the
// Limiter's catch-up after late timers, which a key does not have).
//
// # Memory
//
// A key whose bucket is full again, with no Wait outstanding, is in the
// same state as a new one, so forgetting it changes nothing. A Keyed
// limiter holds at most its maximum of keys (WithMaxKeys; DefaultMaxKeys
// otherwise). Below the maximum, a new key is added. At the maximum, the
// limiter looks for keys to forget: at the time the first of its buckets
// is due to be full again, and no more often than every quarter of the
// time an empty bucket takes to fill (burst/limit), it forgets every key
// whose bucket is full. A new key that arrives while the limiter holds its
// maximum of keys, none of which it can forget yet, is refused rather than
// any client's bucket forgotten early, which would let that client start
// afresh with a full one: AllowN reports false, WaitN returns an error
// wrapping ErrTooManyKeys. The refusal fails closed; AllowN's costs no
// allocation (WaitN's error does). So a flood of invented keys (cheap with IPv6 addresses or
// made-up names) keeps new clients out while it lasts, and for at most
// 1.25 × burst/limit after it stops: by then every bucket it used is full
// again, and forgotten. With a limit of 0 buckets never fill again, and
// keys are never forgotten.
//
// The maximum bounds the number of keys, not their size: a key is kept as
// it is given, a string with its bytes. When clients choose the keys (user
// names, paths, header values), key by a value of fixed size (a
// netip.Addr, a numeric ID), or by a hash of the client's string, such as
// the first 16 bytes of its SHA-256 as a [16]byte. Errors print a key
// quoted, and at most its first 64 bytes.
//
// # Rules
//
// All methods are safe for concurrent use. A Keyed limiter starts no
// goroutine; the search for keys to forget runs inside a call that meets
// the maximum. Keys are spread over shards, each with a lock of its own: a
// call for a key of one shard does not wait for another shard's lock, and a
// search takes one shard's lock at a time. (Built with a Go older than
// 1.24, which lacks maphash.Comparable to spread the keys with, a Keyed
// limiter has a single shard: one lock for all its keys.)
type Keyed[K comparable] struct {
	limit   Limit
	burst   int
	maxKeys int
	pr      params
	fill    int64 // ns an empty bucket takes to fill, or math.MaxInt64
	epoch   time.Time
	seed    maphash.Seed
	shards  []keyedShard[K]

	count     atomic.Int64 // keys held
	nextSweep atomic.Int64 // ns: no key can be forgotten before
	sweeping  atomic.Bool
}

type keyedShard[K comparable] struct {
	mu   sync.Mutex
	keys map[K]*state
	// Pads the shard to 64 bytes, a cache line on most machines: mu and
	// keys of two shards never share one, however the array is aligned.
	_ [64 - (unsafe.Sizeof(sync.Mutex{})+unsafe.Sizeof(uintptr(0)))%64]byte
}

// NewKeyed returns a Keyed limiter whose keys each allow events at rate r
// with bursts of at most b. It panics if r is negative or NaN, b is
// negative, or an option is nil.
func NewKeyed[K comparable](r Limit, b int, opts ...Option) *Keyed[K] {
	checkLimit("NewKeyed", r)
	checkBurst("NewKeyed", b)
	c := keyedConfig{maxKeys: DefaultMaxKeys}
	for _, o := range opts {
		if o == nil {
			panic("ratelimit: NewKeyed called with a nil Option")
		}
		o.apply(&c)
	}
	k := &Keyed[K]{
		limit: r, burst: b, maxKeys: c.maxKeys, epoch: time.Now(), seed: maphash.MakeSeed(),
		shards: make([]keyedShard[K], shardsFor(c.maxKeys)),
	}
	k.pr = params{limit: r, cap: capOf(b), capAt: capOf(b)}
	k.fill = math.MaxInt64
	if r > 0 {
		if f := float64(k.pr.cap) / float64(r); f < math.MaxInt64/2 {
			k.fill = int64(f)
		}
	}
	for i := range k.shards {
		k.shards[i].keys = make(map[K]*state)
	}
	return k
}

// shardsFor returns how many shards to spread maxKeys keys over: a power
// of two, about a shard per 256 keys, from 1 to maxShards (64; 1 before Go
// 1.24, where hashKey sends every key to the first shard).
func shardsFor(maxKeys int) int {
	n := 1
	for n < maxShards && n*256 < maxKeys {
		n *= 2
	}
	return n
}

func (k *Keyed[K]) shard(key K) *keyedShard[K] {
	if len(k.shards) == 1 {
		return &k.shards[0]
	}
	return &k.shards[hashKey(k.seed, key)&uint64(len(k.shards)-1)]
}

func (k *Keyed[K]) now() int64 { return int64(time.Since(k.epoch)) }

// get returns key's bucket, settled at t, adding it if it is new and there
// is room, or nil. It must be called with sh.mu held, and unlocks it if it
// returns nil. A new key is not added to take 0 tokens, which its full
// bucket would grant at once: get returns noTokens.
func (k *Keyed[K]) get(sh *keyedShard[K], t int64, key K, n int) *state {
	if s, ok := sh.keys[key]; ok {
		s.settle(t, &k.pr)
		return s
	}
	if n == 0 {
		return &noTokens
	}
	if k.count.Add(1) > int64(k.maxKeys) {
		k.count.Add(-1)
		if t < k.nextSweep.Load() || !k.sweeping.CompareAndSwap(false, true) {
			sh.mu.Unlock()
			return nil
		}
		sh.mu.Unlock()
		k.sweep()
		sh.mu.Lock()
		if s, ok := sh.keys[key]; ok { // added meanwhile
			s.settle(t, &k.pr)
			return s
		}
		if k.count.Add(1) > int64(k.maxKeys) {
			k.count.Add(-1)
			sh.mu.Unlock()
			return nil
		}
	}
	s := &state{}
	s.lv.set(t, k.pr.cap)
	sh.keys[key] = s
	return s
}

// noTokens is what get returns for a new key asked for nothing: a bucket
// that grants 0 tokens at once, and that nobody changes.
var noTokens state

// sweep forgets every key whose bucket is full, a shard at a time, and sets
// when the next sweep is due: when the first of the remaining buckets will
// be full, and not before a quarter of the time a bucket takes to fill.
// The caller has set sweeping.
func (k *Keyed[K]) sweep() {
	next := int64(math.MaxInt64)
	for i := range k.shards {
		sh := &k.shards[i]
		sh.mu.Lock()
		t := k.now()
		for key, s := range sh.keys {
			s.settle(t, &k.pr)
			if s.full(t, &k.pr) {
				delete(sh.keys, key)
				k.count.Add(-1)
				continue
			}
			next = min(next, k.fullAt(t, s))
		}
		sh.mu.Unlock()
	}
	t := k.now()
	if k.fill < math.MaxInt64 {
		next = max(next, t+k.fill/4)
	}
	k.nextSweep.Store(next)
	k.sweeping.Store(false)
}

// fullAt returns when s will be full again if nothing more is taken: at
// the latest, when the level reaches the cap and the outstanding
// reservations have acted.
func (k *Keyed[K]) fullAt(t int64, s *state) int64 {
	if k.limit == 0 {
		return math.MaxInt64
	}
	d, ok := s.delay(t, k.pr.cap, maxLevel, &k.pr)
	if !ok {
		return math.MaxInt64
	}
	at := t + d
	if s.p != nil && s.p.tail != nil {
		at = max(at, s.p.tail.act+1)
	}
	return at
}

// Allow is AllowN(key, 1).
func (k *Keyed[K]) Allow(key K) bool { return k.AllowN(key, 1) }

// AllowN is Limiter.AllowN for key's bucket. It reports false, taking
// nothing, if key is new and the limiter holds its maximum of keys. It
// panics if n is negative.
func (k *Keyed[K]) AllowN(key K, n int) bool {
	checkN("Keyed.AllowN", n)
	if k.limit == Inf {
		return true
	}
	if n > k.burst {
		return false
	}
	sh := k.shard(key)
	sh.mu.Lock()
	t := k.now()
	s := k.get(sh, t, key, n)
	if s == nil {
		return false
	}
	ok := s == &noTokens || s.allow(t, int64(n)*nano, &k.pr)
	sh.mu.Unlock()
	return ok
}

// Wait is WaitN(ctx, key, 1).
func (k *Keyed[K]) Wait(ctx context.Context, key K) error { return k.WaitN(ctx, key, 1) }

// WaitN is Limiter.WaitN for key's bucket. It fails with an error wrapping
// ErrTooManyKeys if key is new and the limiter holds its maximum of keys.
// It panics if ctx is nil or n is negative.
func (k *Keyed[K]) WaitN(ctx context.Context, key K, n int) error {
	if ctx == nil {
		panic("ratelimit: Keyed.WaitN called with a nil context")
	}
	checkN("Keyed.WaitN", n)
	if n > k.burst && k.limit != Inf {
		return errorf(ErrExceedsBurst, "Keyed.WaitN(key %s, n=%d) exceeds limiter's burst %d", quoteKey(key), n, k.burst)
	}
	if done := ctx.Done(); done != nil {
		select {
		case <-done:
			return ctx.Err()
		default:
		}
	}
	if k.limit == Inf {
		return nil
	}
	sh := k.shard(key)
	sh.mu.Lock()
	t := k.now()
	s := k.get(sh, t, key, n)
	if s == &noTokens {
		sh.mu.Unlock()
		return nil
	}
	if s == nil {
		return errorf(ErrTooManyKeys, "Keyed.WaitN(key %s): too many keys: the limiter holds its maximum of %d, none of them full", quoteKey(key), k.maxKeys)
	}
	x := int64(n) * nano
	if s.allow(t, x, &k.pr) {
		sh.mu.Unlock()
		return nil
	}
	d, why := planWait(ctx, s, t, x, k.epoch, &k.pr)
	if why != "" {
		sh.mu.Unlock()
		return errorf(ErrExceedsDeadline, "Keyed.WaitN(key %s, n=%d)%s", quoteKey(key), n, why)
	}
	r := &resv{}
	s.reserve(t, x, d, r, &k.pr, nil)
	sh.mu.Unlock()

	timer := time.NewTimer(time.Duration(d))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		// The key is not forgotten while r is outstanding: its bucket is
		// not full.
		sh.mu.Lock()
		s.cancel(k.now(), r, &k.pr)
		sh.mu.Unlock()
		return ctx.Err()
	}
}

// Tokens returns the tokens in key's bucket now: the burst for a key it
// does not hold, as a new key's bucket is full.
func (k *Keyed[K]) Tokens(key K) float64 {
	if k.limit == Inf {
		return float64(k.burst)
	}
	sh := k.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s, ok := sh.keys[key]
	if !ok {
		return float64(k.burst)
	}
	return float64(min(s.level(k.now(), &k.pr), k.pr.cap)) / nano
}

// Len returns the number of keys held now.
func (k *Keyed[K]) Len() int { return int(k.count.Load()) }

// maxKeyInError is the most bytes of a key an error prints.
const maxKeyInError = 64

// quoteKey returns key as an error prints it: quoted, its first
// maxKeyInError bytes at most.
func quoteKey[K comparable](key K) string {
	s := fmt.Sprint(key)
	if len(s) <= maxKeyInError {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxKeyInError]) + fmt.Sprintf("... (%d bytes)", len(s))
}
