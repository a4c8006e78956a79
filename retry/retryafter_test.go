//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/retry"
)

// hinted returns a function whose attempts fail with a hint of hint, until
// the n-th, which succeeds; it records when each attempt happened.
func hinted(n int, hint time.Duration, at *[]time.Duration, start time.Time) func(context.Context) error {
	calls := 0
	return func(context.Context) error {
		calls++
		*at = append(*at, time.Since(start))
		if calls >= n {
			return nil
		}
		return retry.After(hint, errFlaky)
	}
}

func TestAfterSleepsAtLeastTheHint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var at []time.Duration
		err := retry.Do(bg, hinted(3, 5*time.Second, &at, start), retry.WithBackoff(retry.Constant(time.Second)))
		if err != nil || fmt.Sprint(at) != "[0s 5s 10s]" {
			t.Fatalf("Do = %v, attempts at %v, want nil at [0s 5s 10s]: the hint is longer than the backoff", err, at)
		}
	})
}

func TestAfterShorterThanTheBackoffSleepsTheBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var at []time.Duration
		err := retry.Do(bg, hinted(3, time.Second, &at, start), retry.WithBackoff(retry.Constant(3*time.Second)))
		if err != nil || fmt.Sprint(at) != "[0s 3s 6s]" {
			t.Fatalf("Do = %v, attempts at %v, want nil at [0s 3s 6s]", err, at)
		}
	})
}

func TestMaxHintCapsTheHint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var at []time.Duration
		err := retry.Do(bg, hinted(3, time.Hour, &at, start), retry.WithBackoff(retry.Constant(0)), retry.MaxHint(2*time.Second))
		if err != nil || fmt.Sprint(at) != "[0s 2s 4s]" {
			t.Fatalf("Do = %v, attempts at %v, want nil at [0s 2s 4s]", err, at)
		}
		// The default cap is a minute.
		at, start = nil, time.Now()
		_ = retry.Do(bg, hinted(2, time.Hour, &at, start), retry.WithBackoff(retry.Constant(0)))
		if fmt.Sprint(at) != "[0s 1m0s]" {
			t.Fatalf("attempts at %v, want [0s 1m0s] with the default MaxHint", at)
		}
		// MaxHint(0) ignores hints.
		at, start = nil, time.Now()
		_ = retry.Do(bg, hinted(2, time.Hour, &at, start), retry.WithBackoff(retry.Constant(0)), retry.MaxHint(0))
		if fmt.Sprint(at) != "[0s 0s]" {
			t.Fatalf("attempts at %v, want [0s 0s] with MaxHint(0)", at)
		}
	})
}

// A hint past MaxElapsed does not give up early: Do sleeps until MaxElapsed
// and tries once more (backoff v5 returns at once instead).
func TestHintPastMaxElapsedTriesOnceMoreAtTheLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var at []time.Duration
		err := retry.Do(bg, hinted(100, 30*time.Second, &at, start), retry.Attempts(100),
			retry.WithBackoff(retry.Constant(time.Second)), retry.MaxElapsed(10*time.Second))
		if fmt.Sprint(at) != "[0s 10s]" {
			t.Fatalf("attempts at %v, want [0s 10s]: one last try at MaxElapsed", at)
		}
		if !errors.Is(err, retry.ErrMaxElapsed) || !errors.Is(err, errFlaky) || time.Since(start) != 10*time.Second {
			t.Fatalf("Do = %v after %v, want ErrMaxElapsed at 10s", err, time.Since(start))
		}
		// And the last try can succeed.
		at, start = nil, time.Now()
		err = retry.Do(bg, hinted(2, 30*time.Second, &at, start), retry.MaxElapsed(10*time.Second))
		if err != nil || fmt.Sprint(at) != "[0s 10s]" {
			t.Fatalf("Do = %v, attempts at %v, want success at [0s 10s]", err, at)
		}
	})
}

// The hint does not make an error retryable.
func TestAfterDoesNotOverridePermanentOrRetryIf(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		err := retry.Do(bg, func(context.Context) error {
			calls++
			return retry.After(time.Second, retry.Permanent(errLast))
		})
		if calls != 1 || !errors.Is(err, errLast) {
			t.Fatalf("Do(After(Permanent)) = %v after %d calls, want errLast after 1", err, calls)
		}
		calls = 0
		err = retry.Do(bg, func(context.Context) error {
			calls++
			return retry.After(time.Second, errLast)
		}, retry.RetryIf(func(error) bool { return false }))
		if calls != 1 || !errors.Is(err, errLast) || err.Error() != errLast.Error() {
			t.Fatalf("Do(After, RetryIf(false)) = %v after %d calls, want errLast's text after 1", err, calls)
		}
	})
}

func TestAfterIsTransparent(t *testing.T) {
	err := retry.After(time.Second, fmt.Errorf("GET /: %w", &statusError{503}))
	var se *statusError
	if err.Error() != "GET /: status 503" || !errors.As(err, &se) || se.code != 503 {
		t.Fatalf("After(1s, err) = %q, want err's text and chain", err)
	}
	if d := retry.After(-time.Second, errLast); d.Error() != errLast.Error() {
		t.Fatalf("After(-1s, err) = %v", d)
	}
}

func response(h map[string]string) *http.Response {
	r := &http.Response{Header: http.Header{}}
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return r
}

func TestRetryAfterReadsSecondsAndDates(t *testing.T) {
	date := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	httpDate := func(t time.Time) string { return t.Format(http.TimeFormat) }
	cases := []struct {
		name   string
		resp   *http.Response
		want   time.Duration
		wantOK bool
	}{
		{"nil response", nil, 0, false},
		{"no header", response(nil), 0, false},
		{"seconds", response(map[string]string{"Retry-After": "120"}), 2 * time.Minute, true},
		{"zero", response(map[string]string{"Retry-After": "0"}), 0, true},
		{"spaces", response(map[string]string{"Retry-After": " 7 "}), 7 * time.Second, true},
		{"huge", response(map[string]string{"Retry-After": "99999999999999999999999"}), 1<<63 - 1, true},
		{"large", response(map[string]string{"Retry-After": "9999999999999"}), 1<<63 - 1, true},
		{"negative", response(map[string]string{"Retry-After": "-5"}), 0, false},
		{"fraction", response(map[string]string{"Retry-After": "1.5"}), 0, false},
		{"garbage", response(map[string]string{"Retry-After": "soon"}), 0, false},
		{"date with Date", response(map[string]string{"Retry-After": httpDate(date.Add(90 * time.Second)), "Date": httpDate(date)}), 90 * time.Second, true},
		{"date in the past", response(map[string]string{"Retry-After": httpDate(date), "Date": httpDate(date.Add(time.Hour))}), 0, true},
		{"RFC 850 date", response(map[string]string{"Retry-After": "Sunday, 22-Nov-26 10:00:30 GMT", "Date": httpDate(date)}), 30 * time.Second, true},
	}
	for _, c := range cases {
		got, ok := retry.RetryAfter(c.resp)
		if got != c.want || ok != c.wantOK {
			t.Errorf("%s: RetryAfter = %v, %v, want %v, %v", c.name, got, ok, c.want, c.wantOK)
		}
	}
}

// Without a Date header the date is measured from now (virtual time here).
func TestRetryAfterDateWithoutDateHeaderIsFromNow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		when := time.Now().Add(45 * time.Second).UTC().Format(http.TimeFormat)
		got, ok := retry.RetryAfter(response(map[string]string{"Retry-After": when}))
		// HTTP dates have whole seconds: the answer is within a second of 45s.
		if !ok || got > 45*time.Second || got <= 44*time.Second {
			t.Fatalf("RetryAfter(now+45s) = %v, %v, want about 45s", got, ok)
		}
	})
}

// A real HTTP round trip on loopback: 503 with Retry-After, then 200.
func TestRetryAfterFromARealServer(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	var hints []time.Duration
	err := retry.Do(bg, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			d, ok := retry.RetryAfter(resp)
			if !ok {
				return errors.New("503 without Retry-After")
			}
			hints = append(hints, d)
			return retry.After(d, errors.New(resp.Status))
		}
		return nil
	}, retry.WithBackoff(retry.Constant(0)))
	if err != nil || calls != 2 || fmt.Sprint(hints) != "[0s]" {
		t.Fatalf("Do = %v after %d calls with hints %v, want nil after 2 with [0s]", err, calls, hints)
	}
}

// The one last try is for a hint that reaches past MaxElapsed. A short hint
// beside a backoff that reaches past it changes nothing: Do gives up at
// once, as it would without the hint.
func TestShortHintDoesNotBuyALastTry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var at []time.Duration
		err := retry.Do(bg, hinted(100, time.Millisecond, &at, start), retry.Attempts(100),
			retry.WithBackoff(retry.Constant(time.Hour)), retry.MaxElapsed(2*time.Second))
		if fmt.Sprint(at) != "[0s]" || time.Since(start) != 0 {
			t.Fatalf("attempts at %v, Do returned after %v; want one attempt, at once: the backoff, not the hint, passes MaxElapsed", at, time.Since(start))
		}
		if !errors.Is(err, retry.ErrMaxElapsed) || !errors.Is(err, errFlaky) {
			t.Fatalf("Do = %v, want ErrMaxElapsed and the attempt's error", err)
		}
		// Under Hedge too, once no attempt is running.
		at, start = nil, time.Now()
		err = retry.Do(bg, hinted(100, time.Millisecond, &at, start), retry.Attempts(100), retry.Hedge(time.Hour),
			retry.WithBackoff(retry.Constant(time.Hour)), retry.MaxElapsed(2*time.Second))
		if fmt.Sprint(at) != "[0s]" || !errors.Is(err, retry.ErrMaxElapsed) {
			t.Fatalf("with Hedge: attempts at %v, Do = %v; want one attempt and ErrMaxElapsed", at, err)
		}
	})
}
