package ratelimit

import (
	"fmt"
	"time"
)

// An AdaptiveOption configures an Adaptive limit (see NewAdaptive).
type AdaptiveOption interface {
	applyAdaptive(*adaptiveConfig)
}

type adaptiveConfig struct {
	min, max, initial int64
	maxWait           time.Duration
}

type adaptiveOptionFunc func(*adaptiveConfig)

func (f adaptiveOptionFunc) applyAdaptive(c *adaptiveConfig) { f(c) }

// WithInitialLimit sets the limit an Adaptive starts from, before it has
// measured anything. The default is 20. It is brought inside the minimum
// and maximum limits. WithInitialLimit panics if n < 1.
func WithInitialLimit(n int) AdaptiveOption {
	checkLimitArg("WithInitialLimit", n)
	return adaptiveOptionFunc(func(c *adaptiveConfig) { c.initial = int64(n) })
}

// WithMinLimit sets the lowest limit an Adaptive goes to. The default is
// 1, so that it can protect a downstream that serves a single call at a
// time. WithMinLimit panics if n < 1.
func WithMinLimit(n int) AdaptiveOption {
	checkLimitArg("WithMinLimit", n)
	return adaptiveOptionFunc(func(c *adaptiveConfig) { c.min = int64(n) })
}

// WithMaxLimit sets the highest limit an Adaptive goes to. The default is
// 1000. WithMaxLimit panics if n < 1.
func WithMaxLimit(n int) AdaptiveOption {
	checkLimitArg("WithMaxLimit", n)
	return adaptiveOptionFunc(func(c *adaptiveConfig) { c.max = int64(n) })
}

// WithMaxWait lets Do wait up to d for the limit to admit a call, in line
// with Acquire's callers, before refusing it. The default, 0, refuses at
// once: under sustained overload a queue in front of the limit only turns
// the overload into latency. The wait is bounded in time, not in length,
// so that it adds at most d to any call. WithMaxWait panics if d < 0.
func WithMaxWait(d time.Duration) AdaptiveOption {
	if d < 0 {
		panic(fmt.Sprintf("ratelimit: WithMaxWait(%v): the wait must not be negative", d))
	}
	return adaptiveOptionFunc(func(c *adaptiveConfig) { c.maxWait = d })
}

func checkLimitArg(fn string, n int) {
	if n < 1 {
		panic(fmt.Sprintf("ratelimit: %s(%d): the limit must be at least 1", fn, n))
	}
}
