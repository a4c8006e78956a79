//go:build go1.25

package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The throttle draws its numbers with its mutex held, so that a test's
// source, which need not be safe for concurrent use, is never called by
// two calls at once.
func TestThrottleDrawsUnderItsLock(t *testing.T) {
	var th *Throttle
	draws, unlocked := 0, 0
	th = NewThrottle(1, time.Minute, ThrottleDraw(func() float64 {
		draws++
		if th.mu.TryLock() {
			th.mu.Unlock()
			unlocked++
		}
		return 0.99
	}))
	down := errors.New("down")
	for range 5 {
		_ = th.Do(context.Background(), func(context.Context) error { return down })
	}
	if draws == 0 {
		t.Fatal("the throttle never drew a number: the test proves nothing")
	}
	if unlocked > 0 {
		t.Errorf("%d of %d draws were made without the throttle's lock", unlocked, draws)
	}
}
