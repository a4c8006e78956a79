package redislimit_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/ratelimit/redislimit"
)

// manualClock is a limiter's local clock that moves only when the test
// says.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock { return &manualClock{now: time.Now()} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// redisMicros is a plausible Redis clock for a fake's answers: µs since
// the scripts' epoch.
func redisMicros() int64 { return time.Now().UnixMicro() - 1577836800*1_000_000 }

// gcraRefusal is gcraSrc's refusal of n tokens at 10/s (T = 100ms) whose
// bucket is empty for emptyUs more µs.
func gcraRefusal(n int, emptyUs int64) []any {
	return []any{int64(0), emptyUs + int64(n)*100_000, emptyUs, "", redisMicros()}
}

// gcraGrant is gcraSrc's grant at once, at 10/s with burst 1, on a full
// bucket.
func gcraGrant() []any {
	now := redisMicros()
	return []any{int64(1), int64(0), int64(0), strconv.FormatInt(now+100_000, 10), now}
}

// One reply saying the bucket is empty for 11.6 days makes the pre-check
// refuse without Redis for TrustFor at most; then the limiter asks again,
// and learns that the bucket is fine. No reply makes it refuse for longer
// than the reply's age allows, whatever the value.
func TestAnOversizedEmptyUntilIsTrustedForTrustForAtMost(t *testing.T) {
	var hostile atomic.Bool
	hostile.Store(true)
	f := startFake(t, func(script string, args []string) any {
		if hostile.Load() {
			return gcraRefusal(1, 1_000_000_000_000) // 11.6 days
		}
		return gcraGrant()
	})
	clock := newManualClock()
	l := redislimit.NewLimiter(f.client(t), "hostile", 10, 1)
	redislimit.SetClock(l, clock.Now)
	if ok, err := l.Allow(t.Context()); ok || err != nil {
		t.Fatalf("Allow refused by the fake = %v, %v; want false, nil", ok, err)
	}
	asked := f.count("gcra")
	hostile.Store(false) // Redis is fine again
	clock.Add(redislimit.TrustFor - time.Millisecond)
	if ok, err := l.Allow(t.Context()); ok || err != nil || f.count("gcra") != asked {
		t.Fatalf("Allow %v after the answer = %v, %v with %d more calls; want false without asking",
			redislimit.TrustFor-time.Millisecond, ok, err, f.count("gcra")-asked)
	}
	clock.Add(time.Millisecond)
	if ok, err := l.Allow(t.Context()); !ok || err != nil || f.count("gcra") != asked+1 {
		t.Fatalf("Allow %v after the answer = %v, %v with %d more calls; want true, asked once",
			redislimit.TrustFor, ok, err, f.count("gcra")-asked)
	}
	// A Wait facing the same reply with a deadline fails at once, and a
	// Wait without one looks again within ReserveWithin instead of
	// sleeping 11.6 days.
	hostile.Store(true)
	w := redislimit.NewLimiter(f.client(t), "hostile-wait", 10, 1, redislimit.ReserveWithin(20*time.Millisecond))
	ctx, stop := context.WithTimeout(t.Context(), time.Second)
	defer stop()
	before := f.count("gcra")
	go func() {
		for f.count("gcra") < before+3 {
			time.Sleep(time.Millisecond)
		}
		hostile.Store(false)
	}()
	if err := w.Wait(ctx); err != nil {
		t.Fatalf("Wait once the fake answers sanely = %v, want nil", err)
	}
}

// Every reply that cannot be right, for every policy: an error wrapping
// ErrBadReply (not ErrUnavailable) that OnFailure hears and Stats counts;
// FailOpen does not allow on it, FailLocal answers from its local limiter.
// An error reply, by contrast, is Redis unavailable: FailOpen allows.
func TestRepliesThatCannotBeRightAreFailuresThePolicySees(t *testing.T) {
	now := redisMicros()
	tat := strconv.FormatInt(now+100_000, 10)
	replies := []struct {
		name  string
		reply any
	}{
		{"an integer", int64(1)},
		{"nil", nil},
		{"three values", []any{int64(1), int64(0), int64(0)}},
		{"granted 7", []any{int64(7), int64(0), int64(0), tat, now}},
		{"a string for granted", []any{"1", int64(0), int64(0), tat, now}},
		{"a negative wait", []any{int64(1), int64(-5), int64(0), tat, now}},
		{"a grant later than asked", []any{int64(1), int64(5_000_000), int64(5_000_000), tat, now}},
		{"fuller than the burst", []any{int64(1), int64(0), int64(-1_000_000_000), tat, now}},
		{"a TAT that does not match", []any{int64(1), int64(0), int64(0), "123", now}},
		{"Redis's clock at 0", []any{int64(1), int64(0), int64(0), tat, int64(0)}},
		{"a refusal within the time asked", []any{int64(0), int64(0), int64(-100_000), "", now}},
		{"a refusal whose wait does not match", []any{int64(0), int64(900_000_000), int64(5), "", now}},
		{"a nested array", []any{[]any{int64(1)}, int64(0), int64(0), tat, now}},
		{"garbage on the wire", raw("$5\r\nhello\r\n")},
	}
	for _, r := range replies {
		t.Run(r.name, func(t *testing.T) {
			f := startFake(t, func(string, []string) any { return r.reply })
			for _, p := range []struct {
				name   string
				opt    redislimit.Option
				wantOK bool
			}{
				{"FailClosed", redislimit.FailClosed(), false},
				{"FailOpen", redislimit.FailOpen(), false},
				{"FailLocal", redislimit.FailLocal(1), true},
			} {
				var heard []error
				l := redislimit.NewLimiter(f.client(t), "garbage", 10, 1, p.opt,
					redislimit.OnFailure(func(err error) { heard = append(heard, err) }))
				ok, err := l.Allow(t.Context())
				if ok != p.wantOK {
					t.Errorf("%s: Allow on %s = %v, %v; want %v", p.name, r.name, ok, err, p.wantOK)
				}
				if p.wantOK && err != nil || !p.wantOK && !errors.Is(err, redislimit.ErrBadReply) {
					t.Errorf("%s: Allow on %s: err = %v; want ErrBadReply unless the local limiter answers", p.name, r.name, err)
				}
				if errors.Is(err, redislimit.ErrUnavailable) {
					t.Errorf("%s: Allow on %s: err %v wraps ErrUnavailable", p.name, r.name, err)
				}
				if len(heard) != 1 || !errors.Is(heard[0], redislimit.ErrBadReply) {
					t.Errorf("%s: OnFailure heard %v, want one error wrapping ErrBadReply", p.name, heard)
				}
				if s := l.Stats(); s.Failures != 1 {
					t.Errorf("%s: Stats %+v, want 1 failure", p.name, s)
				}
				// Within the 100ms after the failure, the policy answers
				// without asking: FailOpen still does not allow.
				if p.name == "FailOpen" {
					if err := l.Wait(t.Context()); !errors.Is(err, redislimit.ErrBadReply) {
						t.Errorf("FailOpen: Wait after %s = %v, want ErrBadReply", r.name, err)
					}
					if _, err := l.Reserve(t.Context()); !errors.Is(err, redislimit.ErrBadReply) {
						t.Errorf("FailOpen: Reserve after %s = %v, want ErrBadReply", r.name, err)
					}
				}
			}
		})
	}
	t.Run("replies that are right", func(t *testing.T) {
		// The bucket empties within the next µs: wait 1, empty 0.
		for _, reply := range [][]any{
			{int64(1), int64(1), int64(0), strconv.FormatFloat(float64(now)+100_000.44, 'f', -1, 64), now},
			{int64(1), int64(0), int64(-1), strconv.FormatFloat(float64(now)+99_999.5, 'f', -1, 64), now},
			{int64(1), int64(3), int64(2), strconv.FormatFloat(float64(now)+100_002.5, 'f', -1, 64), now},
		} {
			f := startFake(t, func(string, []string) any { return reply })
			l := redislimit.NewLimiter(f.client(t), "right", 10, 1)
			if err := l.Wait(t.Context()); err != nil {
				t.Errorf("Wait on %v = %v, want nil", reply, err)
			}
		}
	})
	t.Run("an error reply", func(t *testing.T) {
		f := startFake(t, func(string, []string) any { return respError("ERR the proxy lost its backend") })
		l := redislimit.NewLimiter(f.client(t), "error-reply", 10, 1, redislimit.FailOpen())
		if ok, err := l.Allow(t.Context()); !ok || err != nil {
			t.Fatalf("FailOpen Allow on an error reply = %v, %v; want true: Redis is unavailable", ok, err)
		}
		c := redislimit.NewLimiter(f.client(t), "error-reply", 10, 1)
		_, err := c.Allow(t.Context())
		if !errors.Is(err, redislimit.ErrUnavailable) || errors.Is(err, redislimit.ErrBadReply) {
			t.Fatalf("FailClosed Allow on an error reply = %v; want ErrUnavailable, not ErrBadReply", err)
		}
	})
}

// A poll hint of zero (or less) does not make a Semaphore's waiter ask more
// often than every MinPoll: 300ms of waiting makes at most 300ms/MinPoll
// calls, not tens of thousands.
func TestAZeroHintDoesNotMakeTheSemaphoreSpin(t *testing.T) {
	var calls atomic.Int64
	f := startFake(t, func(script string, args []string) any {
		calls.Add(1)
		switch script {
		case "acquire":
			return []any{int64(0), int64(0), int64(0), int64(1)} // first in line; a lease expires now
		case "poll": // group, capacity, TTL, patience, g, g ids that left, the waiters
			gone, _ := strconv.Atoi(args[4])
			out := []any{int64(0)}
			for range len(args) - 5 - gone {
				out = append(out, int64(0), int64(0))
			}
			return out
		}
		return int64(1)
	})
	sem := redislimit.NewSemaphore(f.client(t), "spin", 1)
	const wait = 300 * time.Millisecond
	ctx, stop := context.WithTimeout(t.Context(), wait)
	defer stop()
	if _, err := sem.Acquire(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Acquire on a fake that never grants = %v, want context.DeadlineExceeded", err)
	}
	most := int64(wait/redislimit.MinPoll) + 3 // the first call, the leaving, rounding
	if n := calls.Load(); n > most {
		t.Fatalf("%d script calls in %v with a hint of 0, more than one every %v (%d)", n, wait, redislimit.MinPoll, most)
	}
	t.Logf("%d script calls in %v with a hint of 0", calls.Load(), wait)
}

// A Semaphore's replies that cannot be right fail the call with
// ErrBadReply: a lease longer than the TTL, a place out of range, a renewal
// that is neither 0 nor 1.
func TestSemaphoreRepliesThatCannotBeRight(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply func(script string, args []string) any
		call  func(ctx context.Context, s *redislimit.Semaphore) error
	}{
		{"a lease of a day", func(string, []string) any { return []any{int64(1), int64(86_400_000_000)} },
			func(ctx context.Context, s *redislimit.Semaphore) error { _, err := s.Acquire(ctx); return err }},
		{"a place of -7", func(string, []string) any { return []any{int64(0), int64(-7), int64(0), int64(1)} },
			func(ctx context.Context, s *redislimit.Semaphore) error { _, err := s.Acquire(ctx); return err }},
		{"a poll of the wrong length", func(script string, _ []string) any {
			if script == "acquire" {
				return []any{int64(0), int64(0), int64(-1), int64(1)}
			}
			return []any{int64(-1)}
		}, func(ctx context.Context, s *redislimit.Semaphore) error { _, err := s.Acquire(ctx); return err }},
		{"a renewal of 5", func(script string, _ []string) any {
			if script == "acquire" {
				return []any{int64(1), int64(1_000_000)}
			}
			return int64(5)
		}, func(ctx context.Context, s *redislimit.Semaphore) error {
			l, err := s.Acquire(ctx)
			if err != nil {
				return err
			}
			return l.Renew(ctx)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, tc.reply)
			var heard atomic.Int64
			s := redislimit.NewSemaphore(f.client(t), "garbage", 2,
				redislimit.OnFailure(func(err error) {
					if errors.Is(err, redislimit.ErrBadReply) {
						heard.Add(1)
					}
				}))
			ctx, stop := context.WithTimeout(t.Context(), time.Second)
			defer stop()
			if err := tc.call(ctx, s); !errors.Is(err, redislimit.ErrBadReply) || errors.Is(err, redislimit.ErrUnavailable) {
				t.Fatalf("with %s: %v; want ErrBadReply, not ErrUnavailable", tc.name, err)
			}
			if heard.Load() != 1 {
				t.Fatalf("OnFailure heard %d bad replies, want 1", heard.Load())
			}
		})
	}
}

// The limit itself is not loosened by what a bad reply leaves behind: a
// FailLocal limiter at 10/s, burst 1, fed only garbage, grants from its
// local limiter at its rate, not more.
func TestGarbageUnderFailLocalKeepsTheLocalRate(t *testing.T) {
	f := startFake(t, func(string, []string) any { return []any{int64(1), int64(0), int64(0), "x", int64(1)} })
	l := redislimit.NewLimiter(f.client(t), "garbage-local", 10, 1, redislimit.FailLocal(1))
	var granted int
	for range 50 {
		if ok, err := l.Allow(t.Context()); err != nil {
			t.Fatal(err)
		} else if ok {
			granted++
		}
	}
	if granted != 1 {
		t.Fatalf("50 Allows at once under FailLocal on garbage granted %d, want the local burst, 1", granted)
	}
	ctx, stop := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer stop()
	if err := l.Wait(ctx); !errors.Is(err, ratelimit.ErrExceedsDeadline) {
		t.Fatalf("Wait with 10ms left for a local token 100ms away = %v, want ErrExceedsDeadline", err)
	}
}
