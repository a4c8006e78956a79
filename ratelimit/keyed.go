package ratelimit

import (
	"context"
	"fmt"
	"sync"
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
// used.
//
// Its memory is bounded. A key whose bucket is full again is in the same
// state as a new one, so forgetting it changes nothing: such keys are
// dropped, a sweep at a time, as the number of keys grows. And it never
// holds more than its maximum of keys (WithMaxKeys; DefaultMaxKeys
// otherwise). A new key that arrives while it is full of keys that are all
// still in use is refused, rather than forgetting one of them early and so
// letting that client start afresh with a full bucket: AllowN reports false,
// WaitN returns an error wrapping ErrTooManyKeys.
//
// All methods are safe for concurrent use. A Keyed limiter starts no
// goroutine; sweeps run inside the calls that add keys.
type Keyed[K comparable] struct {
	limit   Limit
	burst   int
	maxKeys int

	mu      sync.Mutex
	keys    map[K]*Limiter
	sweepAt int // sweep when the map reaches this size
	refused int // new keys refused since the last sweep
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
	return &Keyed[K]{
		limit: r, burst: b, maxKeys: c.maxKeys,
		keys:    make(map[K]*Limiter),
		sweepAt: min(minSweep, c.maxKeys),
	}
}

const minSweep = 64

// get returns key's limiter, made if need be.
func (k *Keyed[K]) get(key K) (*Limiter, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l, ok := k.keys[key]; ok {
		return l, nil
	}
	if len(k.keys) >= k.sweepAt {
		// At the cap, a sweep that finds nothing to drop would be repeated by
		// every new key; sweep again only after refusing an eighth of the
		// cap's worth, which keeps the cost of a refusal O(1) on average.
		if len(k.keys) < k.maxKeys || k.refused >= len(k.keys)/8 {
			k.sweep()
		}
	}
	if len(k.keys) >= k.maxKeys {
		k.refused++
		return nil, fmt.Errorf("ratelimit: Keyed: key %v would be number %d: %w", key, k.maxKeys+1, ErrTooManyKeys)
	}
	l := NewLimiter(k.limit, k.burst)
	k.keys[key] = l
	return l, nil
}

// sweep drops the keys whose bucket is full. It must be called with mu held.
func (k *Keyed[K]) sweep() {
	for key, l := range k.keys {
		l.mu.Lock()
		if l.full() {
			l.dead = true
			delete(k.keys, key)
		}
		l.mu.Unlock()
	}
	k.refused = 0
	k.sweepAt = min(max(2*len(k.keys), minSweep), k.maxKeys)
}

// full reports whether the bucket is as a new one's: full, no debt. It must
// be called with mu held.
func (l *Limiter) full() bool {
	if l.limit == Inf {
		return true
	}
	l.refresh(l.now())
	return l.avail >= float64(l.burst)
}

// Allow is AllowN(key, 1).
func (k *Keyed[K]) Allow(key K) bool { return k.AllowN(key, 1) }

// AllowN is Limiter.AllowN for key's limiter. It reports false if key is
// new and the limiter holds its maximum of keys. It panics if n is negative.
func (k *Keyed[K]) AllowN(key K, n int) bool {
	checkN("AllowN", n)
	for {
		l, err := k.get(key)
		if err != nil {
			return false
		}
		l.mu.Lock()
		if l.dead { // dropped since get: look again
			l.mu.Unlock()
			continue
		}
		ok := l.allow(n)
		l.mu.Unlock()
		return ok
	}
}

// Wait is WaitN(ctx, key, 1).
func (k *Keyed[K]) Wait(ctx context.Context, key K) error { return k.WaitN(ctx, key, 1) }

// WaitN is Limiter.WaitN for key's limiter. It fails with an error wrapping
// ErrTooManyKeys if key is new and the limiter holds its maximum of keys.
// It panics if ctx is nil or n is negative.
func (k *Keyed[K]) WaitN(ctx context.Context, key K, n int) error {
	if ctx == nil {
		panic("ratelimit: Keyed.WaitN called with a nil context")
	}
	checkN("WaitN", n)
	for {
		l, err := k.get(key)
		if err != nil {
			return err
		}
		if gone, err := l.waitN(ctx, n); !gone {
			return err
		}
	}
}

// Tokens returns the tokens in key's bucket now: the burst for a key it
// does not hold, as a new key's bucket is full.
func (k *Keyed[K]) Tokens(key K) float64 {
	k.mu.Lock()
	l, ok := k.keys[key]
	k.mu.Unlock()
	if !ok {
		return float64(k.burst)
	}
	return l.Tokens()
}

// Len returns the number of keys held now.
func (k *Keyed[K]) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys)
}
