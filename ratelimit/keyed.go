package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"
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
	epoch   time.Time

	mu      sync.Mutex
	keys    map[K]*state
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
		limit: r, burst: b, maxKeys: c.maxKeys, epoch: time.Now(),
		keys:    make(map[K]*state),
		sweepAt: min(minSweep, c.maxKeys),
	}
}

const minSweep = 64

func (k *Keyed[K]) params() params {
	c := capOf(k.burst)
	return params{limit: k.limit, cap: c, capAt: c}
}

// get returns key's bucket, made if need be. It must be called with mu held.
func (k *Keyed[K]) get(t int64, key K, pr *params) (*state, error) {
	if s, ok := k.keys[key]; ok {
		return s, nil
	}
	if len(k.keys) >= k.sweepAt {
		if len(k.keys) < k.maxKeys || k.refused >= len(k.keys)/8 {
			k.sweep(t, pr)
		}
	}
	if len(k.keys) >= k.maxKeys {
		k.refused++
		return nil, fmt.Errorf("ratelimit: Keyed: key %v would be number %d: %w", key, k.maxKeys+1, ErrTooManyKeys)
	}
	s := &state{}
	s.lv.set(t, pr.cap)
	k.keys[key] = s
	return s, nil
}

// sweep drops the keys whose bucket is full. It must be called with mu held.
func (k *Keyed[K]) sweep(t int64, pr *params) {
	for key, s := range k.keys {
		s.settle(t, pr)
		if k.limit == Inf || s.full(t, pr) {
			delete(k.keys, key)
		}
	}
	k.refused = 0
	k.sweepAt = min(max(2*len(k.keys), minSweep), k.maxKeys)
}

// Allow is AllowN(key, 1).
func (k *Keyed[K]) Allow(key K) bool { return k.AllowN(key, 1) }

// AllowN is Limiter.AllowN for key's limiter. It reports false if key is
// new and the limiter holds its maximum of keys. It panics if n is negative.
func (k *Keyed[K]) AllowN(key K, n int) bool {
	checkN("Keyed.AllowN", n)
	if k.limit == Inf {
		return true
	}
	if n > k.burst {
		return false
	}
	pr := k.params()
	k.mu.Lock()
	defer k.mu.Unlock()
	t := int64(time.Since(k.epoch))
	s, err := k.get(t, key, &pr)
	if err != nil {
		return false
	}
	s.settle(t, &pr)
	return s.allow(t, int64(n)*nano, &pr)
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
	checkN("Keyed.WaitN", n)
	if n > k.burst && k.limit != Inf {
		return errorf(ErrExceedsBurst, "Keyed.WaitN(n=%d) exceeds limiter's burst %d", n, k.burst)
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
	pr := k.params()
	k.mu.Lock()
	t := int64(time.Since(k.epoch))
	s, err := k.get(t, key, &pr)
	if err != nil {
		k.mu.Unlock()
		return err
	}
	s.settle(t, &pr)
	x := int64(n) * nano
	d, why := planWait(ctx, s, t, x, k.epoch, &pr)
	if why != "" {
		k.mu.Unlock()
		return errorf(ErrExceedsDeadline, "Keyed.WaitN(n=%d)%s", n, why)
	}
	if d == 0 {
		s.takeNow(t, x, &pr)
		k.mu.Unlock()
		return nil
	}
	r := &resv{}
	s.reserve(t, x, d, r, &pr, nil)
	k.mu.Unlock()

	timer := time.NewTimer(time.Duration(d))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		k.mu.Lock()
		s.cancel(int64(time.Since(k.epoch)), r, &pr)
		k.mu.Unlock()
		return ctx.Err()
	}
}

// Tokens returns the tokens in key's bucket now: the burst for a key it
// does not hold, as a new key's bucket is full.
func (k *Keyed[K]) Tokens(key K) float64 {
	if k.limit == Inf {
		return float64(k.burst)
	}
	pr := k.params()
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.keys[key]
	if !ok {
		return float64(k.burst)
	}
	return float64(min(s.level(int64(time.Since(k.epoch)), &pr), pr.cap)) / nano
}

// Len returns the number of keys held now.
func (k *Keyed[K]) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys)
}
