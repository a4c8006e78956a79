//go:build go1.25

package ratelimit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/ratelimit"
)

// Every error wraps a sentinel that errors.Is matches, and names this
// package once; where golang.org/x/time/rate has words for the same error,
// it keeps them.
func TestErrorsWrapTheirSentinelAndNameThePackageOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		deadline, stop := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer stop()
		sem := ratelimit.NewSemaphore(2)
		waiting := make(chan error, 1)
		_ = sem.Acquire(t.Context(), 1)
		go func() { waiting <- sem.Acquire(t.Context(), 2) }()
		synctest.Wait()
		sem.Resize(1)
		zero := ratelimit.NewLimiter(0, 1)
		zero.Allow()
		empty := ratelimit.NewLimiter(10, 2)
		empty.AllowN(2)
		for _, c := range []struct {
			name     string
			err      error
			sentinel error
			words    []string
		}{
			{"WaitN beyond the burst", ratelimit.NewLimiter(1, 3).WaitN(t.Context(), 4), ratelimit.ErrExceedsBurst,
				[]string{"Limiter.WaitN(n=4)", "exceeds limiter's burst 3"}},
			{"WaitN past the deadline", empty.WaitN(deadline, 2), ratelimit.ErrExceedsDeadline,
				[]string{"Limiter.WaitN(n=2)", "would exceed context deadline", "come in 200ms", "deadline in 100ms"}},
			{"WaitN at a limit of 0", zero.Wait(t.Context()), ratelimit.ErrExceedsDeadline,
				[]string{"Limiter.WaitN(n=1)", "the limit is 0", "no token will ever come"}},
			{"Acquire beyond the capacity", sem.Acquire(t.Context(), 3), ratelimit.ErrExceedsCapacity,
				[]string{"Semaphore.Acquire(n=3)", "exceeds the semaphore's capacity of 1"}},
			{"a waiting Acquire beyond a Resize", <-waiting, ratelimit.ErrExceedsCapacity,
				[]string{"Semaphore.Acquire(n=2)", "exceeds the semaphore's capacity of 1"}},
		} {
			if !errors.Is(c.err, c.sentinel) {
				t.Errorf("%s: %v does not match %v", c.name, c.err, c.sentinel)
				continue
			}
			msg := c.err.Error()
			if n := strings.Count(msg, "ratelimit"); n != 1 || !strings.HasPrefix(msg, "ratelimit: ") {
				t.Errorf("%s: %q names the package %d times, want once, first", c.name, msg, n)
			}
			for _, w := range c.words {
				if !strings.Contains(msg, w) {
					t.Errorf("%s: %q does not say %q", c.name, msg, w)
				}
			}
		}
		// A limit of 0, without a deadline: the error does not speak of one.
		if msg := zero.Wait(t.Context()).Error(); strings.Contains(msg, "deadline") {
			t.Errorf("WaitN at a limit of 0 without a deadline: %q speaks of a deadline", msg)
		}
		sem.Release(1)
	})
}
