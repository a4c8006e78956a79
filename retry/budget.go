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
// With maxTokens 10 and tokenRatio 0.1, for instance, calls made one after
// the other with Attempts(5) or more (the default, 4, ends the first call
// sooner) to a server that fails every request make 5 failed attempts
// before the budget closes, all in the first call, 4 of them retries; from
// then on each call makes its first attempt only. The budget reopens after 1 success if the
// failures stopped as it closed, and after 51 once it is empty, as it is
// after 6 such calls. Calls that run at the same time may each be allowed
// a retry before their failures are counted, so under load a few more
// retries get through.
//
// Share one Budget between all the calls to one server: it is safe for
// concurrent use, and it never blocks (it is a few atomic operations).
// Attach it to calls with WithBudget. The zero Budget is ready to use, the
// budget of NewBudget(10, 0.1); a Budget must not be copied after first
// use.
type Budget struct {
	spent atomic.Int64 // thousandths of a token below maxTokens, so that the zero Budget is full
	max   int64        // thousandths; 0 in the zero Budget: the default
	ratio int64        // thousandths
}

// The zero Budget's maxTokens and tokenRatio, in thousandths.
const (
	defaultBudgetMax   = 10 * 1000
	defaultBudgetRatio = 100
)

// NewBudget returns a full Budget of maxTokens tokens in which each success
// earns tokenRatio tokens (kept to three decimals, as in A6). It panics if
// maxTokens < 1 or tokenRatio is not in [0.001, maxTokens].
func NewBudget(maxTokens int, tokenRatio float64) *Budget {
	if maxTokens < 1 || int64(maxTokens) > math.MaxInt64/2000 {
		panic(fmt.Sprintf("retry: NewBudget(%d, %v): maxTokens must be at least 1", maxTokens, tokenRatio))
	}
	if !(tokenRatio >= 0.001 && tokenRatio <= float64(maxTokens)) {
		panic(fmt.Sprintf("retry: NewBudget(%d, %v): tokenRatio must be between 0.001 and maxTokens", maxTokens, tokenRatio))
	}
	return &Budget{max: int64(maxTokens) * 1000, ratio: int64(math.Round(tokenRatio * 1000))}
}

// limits returns maxTokens and tokenRatio in thousandths.
func (b *Budget) limits() (max, ratio int64) {
	if b.max == 0 {
		return defaultBudgetMax, defaultBudgetRatio
	}
	return b.max, b.ratio
}

// tokens returns the token count in thousandths, and maxTokens.
func (b *Budget) tokens() (tokens, max int64) {
	max, _ = b.limits()
	return max - b.spent.Load(), max
}

// Tokens returns the current token count.
func (b *Budget) Tokens() float64 {
	t, _ := b.tokens()
	return float64(t) / 1000
}

// Allow reports whether the budget allows a retry or a hedge now: whether
// the token count is above half of maxTokens.
func (b *Budget) Allow() bool {
	t, max := b.tokens()
	return 2*t > max
}

// failure takes one token for an attempt that failed retryably.
func (b *Budget) failure() {
	max, _ := b.limits()
	for {
		s := b.spent.Load()
		n := min(s+1000, max)
		if n == s || b.spent.CompareAndSwap(s, n) {
			return
		}
	}
}

// success gives tokenRatio tokens back for an attempt that succeeded.
func (b *Budget) success() {
	_, ratio := b.limits()
	for {
		s := b.spent.Load()
		n := max(s-ratio, 0)
		if n == s || b.spent.CompareAndSwap(s, n) {
			return
		}
	}
}
