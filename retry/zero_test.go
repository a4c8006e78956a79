//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/retry"
)

// delays returns b's first n delays, each given the one before.
func delays(b retry.Backoff, n int) []time.Duration {
	var out []time.Duration
	prev := time.Duration(0)
	for i := 1; i <= n; i++ {
		prev = b.Delay(i, prev)
		out = append(out, prev)
	}
	return out
}

// The package doc's rule: a zero field takes the default written beside it,
// so the zero value of each policy is a working one that never retries in a
// tight loop.
func TestZeroPoliciesWaitAndGrow(t *testing.T) {
	cases := []struct {
		b    retry.Backoff
		want string
	}{
		{retry.Exponential{}, "[100ms 200ms 400ms 800ms]"},
		{retry.Exponential{Multiplier: 3}, "[100ms 300ms 900ms 2.7s]"},
		{retry.Exponential{Initial: time.Second}, "[1s 2s 4s 8s]"},
		{retry.Exponential{Max: 300 * time.Millisecond}, "[100ms 200ms 300ms 300ms]"},
		{retry.Linear{}, "[100ms 200ms 300ms 400ms]"},
		{retry.Linear{Step: time.Second}, "[1s 2s 3s 4s]"},
		{retry.Linear{Initial: time.Second}, "[1s 2s 3s 4s]"},
		{retry.Linear{Initial: time.Second, Step: 500 * time.Millisecond}, "[1s 1.5s 2s 2.5s]"},
	}
	for _, c := range cases {
		if r := recoverPanic(func() { retry.WithBackoff(c.b) }); r != nil {
			t.Errorf("WithBackoff(%+v) panicked: %v", c.b, r)
		}
		if got := fmt.Sprint(delays(c.b, 4)); got != c.want {
			t.Errorf("%+v: delays %v, want %v", c.b, got, c.want)
		}
	}
	// And Do sleeps them.
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		calls := 0
		var at []time.Duration
		_ = retry.Do(bg, failing(10, &calls, &at, start), retry.WithBackoff(retry.Exponential{}))
		if fmt.Sprint(at) != "[0s 100ms 300ms 700ms]" {
			t.Fatalf("Do(Exponential{}): attempts at %v, want [0s 100ms 300ms 700ms]", at)
		}
	})
}

// DecorrelatedJitter grows from the Initial that a zero field stands for.
func TestZeroInitialDecorrelatedJitterStartsAtTheDefault(t *testing.T) {
	b := retry.Exponential{Jitter: retry.DecorrelatedJitter}
	for range 1000 {
		if d := b.Delay(1, 0); d < 100*time.Millisecond || d > 300*time.Millisecond {
			t.Fatalf("Exponential{DecorrelatedJitter}.Delay(1) = %v, want it in [100ms, 300ms]", d)
		}
	}
}

// The zero Budget is NewBudget(10, 0.1).
func TestZeroBudgetIsTenTokensEarningATenth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var zero retry.Budget
		made := retry.NewBudget(10, 0.1)
		for i, b := range []*retry.Budget{&zero, made} {
			if b.Tokens() != 10 || !b.Allow() {
				t.Fatalf("budget %d: %v tokens, Allow %v; want 10, true", i, b.Tokens(), b.Allow())
			}
			calls := 0
			err := retry.Do(bg, func(context.Context) error { calls++; return errFlaky },
				retry.WithBudget(b), retry.Attempts(100), retry.WithBackoff(retry.Constant(0)))
			if calls != 5 || !errors.Is(err, retry.ErrBudget) {
				t.Fatalf("budget %d: Do = %v after %d calls, want ErrBudget after 5", i, err, calls)
			}
			_ = retry.Do(bg, func(context.Context) error { return nil }, retry.WithBudget(b))
			if b.Tokens() < 5.09 || b.Tokens() > 5.11 || !b.Allow() {
				t.Fatalf("budget %d: after a success, %v tokens, Allow %v; want 5.1, true", i, b.Tokens(), b.Allow())
			}
		}
	})
}

// A Latency has no useful zero value (it must know its first delay): a
// zero one is refused with a message that says what to do, not with a
// division by zero.
func TestZeroLatencyIsRefusedClearly(t *testing.T) {
	var l retry.Latency
	for name, f := range map[string]func(){
		"HedgeAdaptive": func() { retry.HedgeAdaptive(&l) },
		"Observe":       func() { l.Observe(time.Second) },
		"Percentile":    func() { l.Percentile() },
	} {
		r := recoverPanic(f)
		if s, ok := r.(string); !ok || !strings.Contains(s, "retry: a Latency must be made by NewLatency") {
			t.Errorf("%s on a zero Latency panicked with %v, want a message naming NewLatency", name, r)
		}
	}
}
