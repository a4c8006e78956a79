package redislimit

import (
	"fmt"
	"time"
)

// An Option configures a Limiter or a Semaphore. Options that make sense for
// one only (a failure policy for a Limiter, WithTTL for a Semaphore) make the
// other's constructor panic.
type Option interface {
	apply(*config)
}

type policy uint8

const (
	failClosed policy = iota
	failOpen
	failLocal
)

type config struct {
	policy    policy
	policySet bool
	replicas  int
	onFailure func(error)
	ttl       time.Duration
	ttlSet    bool
	within    time.Duration // 0: not set
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// FailClosed makes a Limiter deny while Redis is unavailable: AllowN,
// WaitN and ReserveN fail with an error wrapping ErrUnavailable. It is the
// default, because it keeps the Limiter's promise (never more than the
// rate) at the price of availability.
func FailClosed() Option {
	return optionFunc(func(c *config) { c.policy, c.policySet = failClosed, true })
}

// FailOpen makes a Limiter allow every call while Redis is unavailable, as
// if there were no limit: AllowN reports true, WaitN returns nil at once,
// ReserveN returns a reservation with no delay. Stats counts these calls as
// Failures, and OnFailure hears of every error. A context that ends is not a
// failure of Redis: a call whose deadline cuts its round trip short returns
// ctx.Err() under every policy. Nor is a reply that cannot be right: on
// ErrBadReply, FailOpen fails the call as FailClosed does, so that no server
// can switch the limit off by answering garbage. Use FailOpen where the
// limit protects something that can take a burst, and an outage of Redis
// must not become an outage of the service.
func FailOpen() Option {
	return optionFunc(func(c *config) { c.policy, c.policySet = failOpen, true })
}

// FailLocal makes a Limiter fall back, while Redis is unavailable or
// answers with a reply that cannot be right, to a limiter in this process
// at limit/replicas with a burst of burst/replicas (at least 1), which
// takes over from its share of the bucket as Redis last told it: if the
// replicas sharing the key are that many, the whole keeps the limit (see
// Limiter, "When Redis is unavailable", for the exact bound through the
// switches). When Redis answers again, the first call restores the bucket
// there if a restart lost it, and charges it with what the local limiter
// handed out and had not earned back. FailLocal panics if replicas < 1.
func FailLocal(replicas int) Option {
	if replicas < 1 {
		panic(fmt.Sprintf("redislimit: FailLocal(%d): the number of replicas must be at least 1", replicas))
	}
	return optionFunc(func(c *config) { c.policy, c.policySet, c.replicas = failLocal, true, replicas })
}

// OnFailure calls fn with the error, wrapping ErrUnavailable and Redis's
// own error, each time a call of a Limiter or a Semaphore finds Redis
// unavailable, whatever the policy; or wrapping ErrBadReply, each time Redis
// answers with a reply that cannot be right. It runs in the goroutine of that call,
// before the call returns; it must not block for long. OnFailure panics if
// fn is nil.
func OnFailure(fn func(err error)) Option {
	if fn == nil {
		panic("redislimit: OnFailure called with a nil function")
	}
	return optionFunc(func(c *config) { c.onFailure = fn })
}

// DefaultReserveWithin is how far ahead a Limiter's Wait may reserve
// tokens in Redis unless ReserveWithin says otherwise.
const DefaultReserveWithin = time.Second

// ReserveWithin sets how far ahead a Limiter's WaitN may reserve its tokens
// in Redis: a WaitN whose tokens would come later waits in this process, in
// line behind the other WaitN calls of its Limiter, until they are that
// near, and only then reserves them. A reservation that is abandoned (its
// context cancelled after others reserved behind it) keeps the key empty
// for at most that long, so d bounds what a crowd of abandoned WaitN calls
// can cost every replica. ReserveWithin is an option of NewLimiter;
// ReserveN is not bounded by it. It panics if d is less than a millisecond.
func ReserveWithin(d time.Duration) Option {
	if d < time.Millisecond {
		panic(fmt.Sprintf("redislimit: ReserveWithin(%v): the time must be at least 1ms", d))
	}
	return optionFunc(func(c *config) { c.within = d })
}

// DefaultTTL is a Semaphore's lease time unless WithTTL says otherwise.
const DefaultTTL = 10 * time.Second

// WithTTL sets how long a Semaphore's lease lasts without a renewal: the
// longest a crashed holder keeps its slot. Do renews every TTL/3. WithTTL
// panics if d is less than a millisecond.
func WithTTL(d time.Duration) Option {
	if d < time.Millisecond {
		panic(fmt.Sprintf("redislimit: WithTTL(%v): the lease time must be at least 1ms", d))
	}
	return optionFunc(func(c *config) { c.ttl, c.ttlSet = d, true })
}

func parse(fn string, opts []Option) config {
	c := config{ttl: DefaultTTL}
	for _, o := range opts {
		if o == nil {
			panic(fmt.Sprintf("redislimit: %s called with a nil Option", fn))
		}
		o.apply(&c)
	}
	return c
}
