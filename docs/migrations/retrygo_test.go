package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	retrygo "github.com/avast/retry-go/v4"

	"github.com/structured-go/structured/retry"
)

// A webhookClient posts events to a subscriber's endpoint and logs.
type webhookClient struct {
	post func(ctx context.Context, event string) error
	logf func(format string, args ...any)
}

var errRejected = errors.New("422: the subscriber rejected the event")

// sendWebhookRetryGo sends an event with avast/retry-go.
func sendWebhookRetryGo(ctx context.Context, c *webhookClient, event string) error {
	return retrygo.Do(func() error {
		return c.post(ctx, event)
	},
		retrygo.Context(ctx),
		retrygo.Attempts(5),
		retrygo.Delay(time.Millisecond),
		retrygo.MaxDelay(10*time.Millisecond),
		retrygo.DelayType(retrygo.BackOffDelay),
		retrygo.LastErrorOnly(true),
		retrygo.RetryIf(func(err error) bool { return !errors.Is(err, errRejected) }),
		retrygo.OnRetry(func(n uint, err error) { c.logf("attempt %d failed: %v", n+1, err) }),
	)
}

// sendWebhook sends an event with retry.
func sendWebhook(ctx context.Context, c *webhookClient, event string) error {
	return retry.Do(ctx, func(ctx context.Context) error {
		return c.post(ctx, event)
	},
		retry.Attempts(5),
		retry.WithBackoff(retry.Exponential{Initial: time.Millisecond, Max: 10 * time.Millisecond}),
		retry.WithLastError(),
		retry.RetryIf(func(err error) bool { return !errors.Is(err, errRejected) }),
		retry.OnRetry(func(attempt int, err error, _ time.Duration) { c.logf("attempt %d failed: %v", attempt, err) }),
		retry.OnGiveUp(func(attempts int, err error) {
			if !errors.Is(err, errRejected) {
				c.logf("attempt %d failed: %v", attempts, err)
			}
		}),
	)
}

// The same webhook before and after: the same attempts, logs and bare
// error when the endpoint stays down, and no retry when it rejects.
func Example_retryGoWebhook() {
	errDown := errors.New("503: endpoint down")
	for _, send := range []struct {
		name string
		fn   func(context.Context, *webhookClient, string) error
	}{{"retry-go", sendWebhookRetryGo}, {"retry", sendWebhook}} {
		posts := 0
		c := &webhookClient{
			post: func(ctx context.Context, event string) error { posts++; return errDown },
			logf: func(format string, args ...any) { fmt.Printf(send.name+": "+format+"\n", args...) },
		}
		err := send.fn(context.Background(), c, "invoice.paid")
		fmt.Println(send.name+":", err == errDown, "after", posts, "posts")
		posts = 0
		c.post = func(ctx context.Context, event string) error { posts++; return errRejected }
		err = send.fn(context.Background(), c, "invoice.paid")
		fmt.Println(send.name+":", err == errRejected, "after", posts, "post")
	}
	// Output:
	// retry-go: attempt 1 failed: 503: endpoint down
	// retry-go: attempt 2 failed: 503: endpoint down
	// retry-go: attempt 3 failed: 503: endpoint down
	// retry-go: attempt 4 failed: 503: endpoint down
	// retry-go: attempt 5 failed: 503: endpoint down
	// retry-go: true after 5 posts
	// retry-go: true after 1 post
	// retry: attempt 1 failed: 503: endpoint down
	// retry: attempt 2 failed: 503: endpoint down
	// retry: attempt 3 failed: 503: endpoint down
	// retry: attempt 4 failed: 503: endpoint down
	// retry: attempt 5 failed: 503: endpoint down
	// retry: true after 5 posts
	// retry: true after 1 post
}

// Without LastErrorOnly, retry-go returns every attempt's error in a list;
// retry's *Error says why it stopped and keeps the first and the latest.
func Example_retryGoErrors() {
	attempt := 0
	fail := func() error { attempt++; return fmt.Errorf("attempt %d: timeout", attempt) }

	err := retrygo.Do(fail, retrygo.Attempts(3), retrygo.Delay(0))
	fmt.Printf("retry-go: %q\n", err)

	attempt = 0
	err = retry.Do(context.Background(), func(ctx context.Context) error { return fail() },
		retry.Attempts(3), retry.WithBackoff(retry.Constant(0)))
	var re *retry.Error
	errors.As(err, &re)
	fmt.Printf("retry: %q %v\n", err, re.Errors())
	// Output:
	// retry-go: "All attempts fail:\n#1: attempt 1: timeout\n#2: attempt 2: timeout\n#3: attempt 3: timeout"
	// retry: "retry: attempts exhausted after 3 attempts: attempt 3: timeout" [attempt 1: timeout attempt 2: timeout attempt 3: timeout]
}
