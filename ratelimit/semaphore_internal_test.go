//go:build go1.25

package ratelimit

import (
	"context"
	"testing"
	"testing/synctest"
)

// S93, the branch the external test cannot force: the waiter's context ends
// and then, before it can look, the tokens are handed to it. It gives them
// back, the next waiter gets them, and it returns ctx.Err().
func TestTokensGrantedAfterCancellationGoBackToTheNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewSemaphore(1)
		if !s.TryAcquire(1) {
			t.Fatal("TryAcquire(1) on a fresh semaphore = false")
		}
		ctx, stop := context.WithCancel(t.Context())
		first, second := make(chan error, 1), make(chan error, 1)
		go func() { first <- s.Acquire(ctx, 1) }()
		synctest.Wait()
		go func() { second <- s.Acquire(t.Context(), 1) }()
		synctest.Wait()

		// Holding mu keeps the first waiter, woken by stop, from looking
		// before the token is handed to it, as Release would.
		s.mu.Lock()
		stop()
		s.add(-1)
		s.notify()
		if s.head == nil || s.head.n != 1 || s.waiting != 1 {
			t.Fatal("the token did not go to the first waiter")
		}
		s.mu.Unlock()

		if err := <-first; err != context.Canceled {
			t.Fatalf("first Acquire = %v, want context.Canceled", err)
		}
		if err := <-second; err != nil {
			t.Fatalf("second Acquire = %v, want nil: the given-back token did not wake it", err)
		}
		if h := s.Held(); h != 1 {
			t.Fatalf("Held() = %d, want 1 (the second waiter's)", h)
		}
		s.Release(1)
	})
}
