//go:build go1.25

package timeout_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/timeout"
)

// A timeout's error says what was asked: the duration given, a deadline
// that had passed before the work began, or where Reschedule moved it from
// and to.
func TestTimeoutErrorSaysWhatWasAsked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		wait := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
		moveAfter := func(tm *timeout.Timeout, after time.Duration, to func(start time.Time) time.Time) func(context.Context) error {
			return func(ctx context.Context) error {
				start := time.Now()
				time.Sleep(after)
				if err := tm.Reschedule(to(start)); err != nil {
					return err
				}
				<-ctx.Done()
				return ctx.Err()
			}
		}
		late := timeout.New(time.Hour)
		past := timeout.New(time.Hour)
		var zero timeout.Timeout
		for _, tc := range []struct {
			name string
			run  func() error
			want string
		}{
			{"FailAfter(50ms)", func() error { return timeout.FailAfter(t.Context(), 50*time.Millisecond, wait) },
				"timeout: deadline of 50ms exceeded"},
			{"FailAfter(-1s)", func() error { return timeout.FailAfter(t.Context(), -time.Second, wait) },
				"timeout: deadline of -1s exceeded: it had passed when the work began"},
			{"New(1h) moved later", func() error {
				return late.Run(t.Context(), moveAfter(late, time.Second, func(s time.Time) time.Time { return s.Add(2 * time.Hour) }))
			}, "timeout: deadline exceeded, rescheduled from 1h0m0s to 2h0m0s after the work began"},
			{"New(1h) moved into the past", func() error {
				return past.Run(t.Context(), moveAfter(past, 2*time.Second, func(s time.Time) time.Time { return s.Add(-time.Second) }))
			}, "timeout: deadline exceeded, rescheduled from 1h0m0s to 1s before the work began"},
			{"a zero Timeout given a deadline", func() error {
				return zero.Run(t.Context(), moveAfter(&zero, time.Second, func(s time.Time) time.Time { return s.Add(5 * time.Second) }))
			}, "timeout: deadline exceeded, set by Reschedule to 5s after the work began"},
		} {
			if err := tc.run(); err == nil || err.Error() != tc.want {
				t.Errorf("%s: error %q, want %q", tc.name, err, tc.want)
			}
		}
	})
}

// MoveOnAfter with a deadline that has already passed runs fn with a
// context that is done, and reports that its deadline ended it.
func TestMoveOnAfterANegativeDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sawDone bool
		timedOut, err := timeout.MoveOnAfter(t.Context(), -time.Second, func(ctx context.Context) error {
			sawDone = ctx.Err() == context.DeadlineExceeded
			return ctx.Err()
		})
		if !timedOut || err != nil || !sawDone {
			t.Fatalf("MoveOnAfter(-1s) = %v, %v (fn saw its ctx done: %v); want true, nil, and fn called with a done ctx", timedOut, err, sawDone)
		}
	})
}

// On the real clock too (where time passes between Run's start and the
// deadline's), the error says the duration that was asked, to the
// nanosecond, and a zero or negative one says it had passed at once.
func TestTimeoutErrorSaysTheDurationAskedOnTheRealClock(t *testing.T) {
	wait := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	for d, want := range map[time.Duration]string{
		0:                "timeout: deadline of 0s exceeded: it had passed when the work began",
		-time.Second:     "timeout: deadline of -1s exceeded: it had passed when the work began",
		time.Millisecond: "timeout: deadline of 1ms exceeded",
	} {
		if err := timeout.New(d).Run(context.Background(), wait); err == nil || err.Error() != want {
			t.Errorf("New(%v).Run() = %v, want %q", d, err, want)
		}
	}
}
