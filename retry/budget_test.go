//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/retry"
)

// The token arithmetic of gRPC's A6 retry throttling.
func TestBudgetFollowsTheA6TokenBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBudget(10, 0.1)
		if b.Tokens() != 10 || !b.Allow() {
			t.Fatalf("a new budget has %v tokens, Allow %v; want 10, true", b.Tokens(), b.Allow())
		}
		fail := func(context.Context) error { return errFlaky }
		// Each failed attempt costs a token; retrying stops once the count
		// is at or below half: 10 → 5 takes 5 failures.
		calls := 0
		err := retry.Do(bg, func(ctx context.Context) error { calls++; return fail(ctx) },
			retry.WithBudget(b), retry.Attempts(100), retry.WithBackoff(retry.Constant(time.Second)))
		if calls != 5 || b.Tokens() != 5 || !errors.Is(err, retry.ErrBudget) || !errors.Is(err, errFlaky) {
			t.Fatalf("Do = %v after %d calls, %v tokens left; want ErrBudget after 5 calls, 5 tokens", err, calls, b.Tokens())
		}
		// With the budget closed, a call still makes its first attempt, but
		// does not retry.
		calls = 0
		err = retry.Do(bg, func(ctx context.Context) error { calls++; return fail(ctx) }, retry.WithBudget(b))
		if calls != 1 || !errors.Is(err, retry.ErrBudget) || b.Tokens() != 4 {
			t.Fatalf("Do on a closed budget = %v after %d calls, %v tokens; want ErrBudget after 1, 4 tokens", err, calls, b.Tokens())
		}
		// Successes earn 0.1 each: 11 bring 4 to 5.1, above the threshold.
		for i := range 11 {
			if b.Allow() {
				t.Fatalf("Allow() with %v tokens after %d successes, want false", b.Tokens(), i)
			}
			_ = retry.Do(bg, func(context.Context) error { return nil }, retry.WithBudget(b))
		}
		if !b.Allow() || b.Tokens() < 5.09 || b.Tokens() > 5.11 {
			t.Fatalf("after 11 successes: %v tokens, Allow %v; want 5.1, true", b.Tokens(), b.Allow())
		}
		// The count never passes maxTokens, nor goes below 0.
		for range 200 {
			_ = retry.Do(bg, func(context.Context) error { return nil }, retry.WithBudget(b))
		}
		if b.Tokens() != 10 {
			t.Fatalf("after many successes: %v tokens, want 10", b.Tokens())
		}
		for range 30 {
			_ = retry.Do(bg, fail, retry.WithBudget(b), retry.Attempts(1))
		}
		if b.Tokens() != 0 {
			t.Fatalf("after many failures: %v tokens, want 0", b.Tokens())
		}
	})
}

// Permanent errors and cancellation say nothing about the server's health:
// they are not counted.
func TestBudgetIgnoresPermanentErrorsAndCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBudget(10, 1)
		_ = retry.Do(bg, func(context.Context) error { return retry.Permanent(errLast) }, retry.WithBudget(b))
		_ = retry.Do(bg, func(context.Context) error { return errLast }, retry.WithBudget(b),
			retry.RetryIf(func(error) bool { return false }))
		ctx, stop := context.WithCancel(bg)
		_ = retry.Do(ctx, func(context.Context) error { stop(); return errLast }, retry.WithBudget(b))
		if b.Tokens() != 10 {
			t.Fatalf("tokens = %v, want 10: nothing counted", b.Tokens())
		}
	})
}

// Many clients share one budget from many goroutines: the arithmetic stays
// exact under -race.
func TestBudgetIsSafeForConcurrentUse(t *testing.T) {
	b := retry.NewBudget(1000, 0.5)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				_ = retry.Do(bg, func(context.Context) error { return errLast }, retry.WithBudget(b), retry.Attempts(1))
			}
		})
	}
	wg.Wait()
	if b.Tokens() != 600 {
		t.Fatalf("tokens = %v after 400 failures, want 600", b.Tokens())
	}
	for range 8 {
		wg.Go(func() {
			for range 50 {
				_ = retry.Do(bg, func(context.Context) error { return nil }, retry.WithBudget(b))
			}
		})
	}
	wg.Wait()
	if b.Tokens() != 800 {
		t.Fatalf("tokens = %v after 400 successes more, want 800", b.Tokens())
	}
}

// What a budget is for: a server that fails everything gets few retries in
// all, however many clients there are, instead of Attempts times the load.
func TestBudgetStopsARetryStorm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const clients = 100
		var calls atomic.Int64
		down := func(context.Context) error { calls.Add(1); return errFlaky }
		run := func(opts ...retry.Option) int64 {
			calls.Store(0)
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					_ = retry.Do(bg, down, append(opts, retry.Attempts(5), retry.WithBackoff(retry.Constant(time.Second)))...)
				})
			}
			wg.Wait()
			return calls.Load()
		}
		without := run()
		with := run(retry.WithBudget(retry.NewBudget(10, 0.1)))
		if without != 5*clients {
			t.Errorf("without a budget: %d calls, want %d", without, 5*clients)
		}
		// 100 first attempts, plus the retries the budget allowed before it
		// closed: at most 5 (10 tokens down to 5), plus the ones already
		// admitted in the same instant.
		if with > clients+10 {
			t.Errorf("with a budget: %d calls, want at most %d", with, clients+10)
		}
	})
}

// Budget's doc, word for word: with maxTokens 10 and tokenRatio 0.1, calls
// made one after the other to a server that fails every request make 5
// failed attempts before the budget closes, 4 of them retries; from then on
// each call makes its first attempt only. The budget reopens after 1
// success if the failures stopped as it closed, and after 51 once it is
// empty, as it is after 6 such calls.
func TestBudgetDocSaysWhatItDoes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := func(calls *int) func(context.Context) error {
			return func(context.Context) error { *calls++; return errFlaky }
		}
		opts := func(b *retry.Budget) []retry.Option {
			return []retry.Option{retry.WithBudget(b), retry.Attempts(100), retry.WithBackoff(retry.Constant(time.Second))}
		}
		succeed := func(b *retry.Budget) {
			_ = retry.Do(bg, func(context.Context) error { return nil }, retry.WithBudget(b))
		}
		b := retry.NewBudget(10, 0.1)
		calls := 0
		_ = retry.Do(bg, down(&calls), opts(b)...)
		if calls != 5 || b.Allow() {
			t.Fatalf("first call: %d attempts, Allow %v; want 5 attempts (4 retries), then closed", calls, b.Allow())
		}
		for i := 2; i <= 6; i++ {
			calls = 0
			_ = retry.Do(bg, down(&calls), opts(b)...)
			if calls != 1 {
				t.Fatalf("call %d: %d attempts, want its first only", i, calls)
			}
		}
		if b.Tokens() != 0 {
			t.Fatalf("after 6 calls: %v tokens, want 0 (empty)", b.Tokens())
		}
		for i := 1; i <= 51; i++ {
			if b.Allow() {
				t.Fatalf("open after %d successes from empty, want 51", i-1)
			}
			succeed(b)
		}
		if !b.Allow() {
			t.Fatalf("closed after 51 successes from empty")
		}
		// Failures that stop right as it closes: one success reopens it.
		b = retry.NewBudget(10, 0.1)
		calls = 0
		_ = retry.Do(bg, down(&calls), opts(b)...)
		if b.Allow() {
			t.Fatalf("open after the first call's 5 failures")
		}
		succeed(b)
		if !b.Allow() {
			t.Fatalf("closed after 1 success at the threshold, want open")
		}
	})
}
