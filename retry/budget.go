package retry

import (
	"fmt"
	"math"
	"sync/atomic"
)

// A Budget limits the retries and hedges of many calls together, so that a
// struggling server is not buried under them: when most attempts fail, the
// budget runs dry and calls stop retrying, each after its first attempt. It
// is gRPC's retry throttling (proposal A6, "Throttling Retry Attempts and
// Hedged RPCs"): a token count, starting full at maxTokens, loses 1 for each
// attempt that fails with a retryable error and gains tokenRatio for each
// success. Retries and hedges are allowed only while the count is above
// half of maxTokens. Permanent errors and the end of the caller's context
// are not counted, as they say nothing about the server's health.
//
// With maxTokens 10 and tokenRatio 0.1, for instance, a server that fails
// every request is retried about 5 times in all before the budget closes,
// and it reopens after 10 successes in a row.
//
// Share one Budget between all the calls to one server: it is safe for
// concurrent use, and it never blocks (it is a few atomic operations).
// Attach it to calls with WithBudget. The zero Budget is not valid; use
// NewBudget.
type Budget struct {
	tokens atomic.Int64 // thousandths of a token, as A6 keeps three decimals
	max    int64
	ratio  int64
}

// NewBudget returns a full Budget of maxTokens tokens in which each success
// earns tokenRatio tokens (kept to three decimals, as in A6). It panics if
// maxTokens < 1 or tokenRatio is not in [0.001, maxTokens].
func NewBudget(maxTokens int, tokenRatio float64) *Budget {
	if maxTokens < 1 || maxTokens > math.MaxInt64/2000 {
		panic(fmt.Sprintf("retry: NewBudget(%d, %v): maxTokens must be at least 1", maxTokens, tokenRatio))
	}
	if !(tokenRatio >= 0.001 && tokenRatio <= float64(maxTokens)) {
		panic(fmt.Sprintf("retry: NewBudget(%d, %v): tokenRatio must be between 0.001 and maxTokens", maxTokens, tokenRatio))
	}
	b := &Budget{max: int64(maxTokens) * 1000, ratio: int64(math.Round(tokenRatio * 1000))}
	b.tokens.Store(b.max)
	return b
}

// Tokens returns the current token count.
func (b *Budget) Tokens() float64 { return float64(b.tokens.Load()) / 1000 }

// Allow reports whether the budget allows a retry or a hedge now: whether
// the token count is above half of maxTokens.
func (b *Budget) Allow() bool { return 2*b.tokens.Load() > b.max }

// failure takes one token for an attempt that failed retryably.
func (b *Budget) failure() {
	for {
		t := b.tokens.Load()
		n := max(t-1000, 0)
		if n == t || b.tokens.CompareAndSwap(t, n) {
			return
		}
	}
}

// success gives tokenRatio tokens back for an attempt that succeeded.
func (b *Budget) success() {
	for {
		t := b.tokens.Load()
		n := min(t+b.ratio, b.max)
		if n == t || b.tokens.CompareAndSwap(t, n) {
			return
		}
	}
}
