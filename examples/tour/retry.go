package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/structured-go/structured/retry"
)

// retryChapter shows retrying a flaky server, honouring its Retry-After,
// sparing a server that is down, and hedging against a slow replica.
func retryChapter(ctx context.Context, server string) error {
	// A server that fails twice, then answers.
	//
	//	@tenacity.retry(stop=stop_after_attempt(4), wait=wait_random_exponential(multiplier=0.1))
	//	async def fetch(path): ...
	fmt.Println("A flaky endpoint, retried with the defaults (4 attempts, exponential backoff, full jitter):")
	calls := 0
	body, err := retry.DoValue(ctx, func(ctx context.Context) (string, error) {
		calls++
		return fetch(ctx, server, "/flaky/a")
	}, retry.OnRetry(func(attempt int, err error, _ time.Duration) {
		fmt.Printf("  attempt %d: %v; retrying after a random delay\n", attempt, err)
	}))
	fmt.Printf("  attempt %d: %q, error: %v\n", calls, body, err)
	if err != nil || calls != 3 || body != "ok" {
		return errors.New("the flaky endpoint was not retried to success in 3 calls")
	}

	// A server that says when to come back: 503 with Retry-After: 1.
	fmt.Println("\nA busy endpoint that answers 503 with Retry-After: 1 (After, RetryAfter):")
	t0 := time.Now()
	var asked time.Duration
	body, err = retry.DoValue(ctx, func(ctx context.Context) (string, error) {
		return fetch(ctx, server, "/busy/a")
	}, retry.OnRetry(func(attempt int, err error, delay time.Duration) {
		asked = delay
		fmt.Printf("  attempt %d: %v; the server asked for %v, so the next attempt waits that long\n", attempt, err, delay)
	}))
	waited := time.Since(t0)
	fmt.Printf("  then: %q, error: %v\n", body, err)
	if err != nil || body != "ok" || asked != time.Second || waited < time.Second {
		return errors.New("the Retry-After hint was not honoured")
	}

	// A server that is down, and 20 requests that share a retry budget:
	// after a few failures the budget closes, and each request makes one
	// attempt instead of four.
	fmt.Println("\n20 requests to a server that is down, sharing a retry budget (WithBudget):")
	budget := retry.NewBudget(10, 0.1)
	var downCalls atomic.Int64
	failed := 0
	for range 20 {
		err := retry.Do(ctx, func(ctx context.Context) error {
			downCalls.Add(1)
			return get(ctx, server, "/fail/0")
		}, retry.WithBudget(budget), retry.WithBackoff(retry.Constant(unit)))
		if errors.Is(err, retry.ErrBudget) {
			failed++
		}
	}
	fmt.Printf("  %d calls for 20 requests (80 without the budget); %d requests stopped early with ErrBudget\n", downCalls.Load(), failed)
	if downCalls.Load() != 23 || failed != 19 {
		return errors.New("the budget did not stop the retries")
	}

	// Hedged requests: if the first replica has not answered after 5
	// units, ask another; the first answer wins and the other request is
	// cancelled before DoValue returns.
	fmt.Println("\nA hedged request: the first replica takes 50 units, a hedge goes to another after 5 (Hedge):")
	replicas := []string{"/50", "/2"}
	var attempt atomic.Int64
	t0 = time.Now()
	var slowErr error
	body, err = retry.DoValue(ctx, func(ctx context.Context) (string, error) {
		i := attempt.Add(1)
		b, err := fetch(ctx, server, replicas[i-1])
		if i == 1 {
			slowErr = err // written before DoValue returns: it waits for this attempt
		}
		return b, err
	}, retry.Hedge(5*unit), retry.Attempts(2))
	took := time.Since(t0)
	fmt.Printf("  answer: %q, error: %v\n", body, err)
	fmt.Printf("  the slow replica's request was cancelled, with the cause retry.ErrAnotherSucceeded: %v\n",
		errors.Is(slowErr, retry.ErrAnotherSucceeded))
	if err != nil || body != "slept 2" || !errors.Is(slowErr, retry.ErrAnotherSucceeded) || took >= 50*unit {
		return errors.New("the hedge did not beat the slow replica")
	}
	fmt.Println("  the hedge answered well before the slow replica would have")

	// The hedge's delay can follow the latencies seen: the 95th percentile
	// of the recent successful calls (HedgeAdaptive).
	fmt.Println("\nHedgeAdaptive: the hedge waits the 95th percentile of recent latencies, learned from 20 calls of 2 units:")
	latency := retry.NewLatency(0.95, 256, 50*unit)
	for range 20 {
		if _, err := retry.DoValue(ctx, func(ctx context.Context) (string, error) {
			return fetch(ctx, server, "/2")
		}, retry.HedgeAdaptive(latency), retry.Attempts(2)); err != nil {
			return err
		}
	}
	learned := latency.Percentile()
	fmt.Printf("  the hedge delay, 50 units at first, is now about %v\n", learned.Round(unit))
	if learned >= 10*unit {
		return fmt.Errorf("the learned hedge delay is %v, want about 2 units", learned)
	}
	return nil
}

// fetch GETs path and returns the body, or an error for any status but 200;
// a Retry-After header on the response becomes a hint for retry.
func fetch(ctx context.Context, server, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		err := &statusError{path: path, code: resp.StatusCode}
		if d, ok := retry.RetryAfter(resp); ok {
			return "", retry.After(d, err)
		}
		return "", err
	}
	return string(trimNewline(b)), nil
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
