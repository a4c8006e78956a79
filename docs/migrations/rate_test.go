package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/structured-go/structured/ratelimit"
)

// An API client that may make 100 calls a second in all, and each user 1 a
// second with bursts of 3. It refuses a user beyond their rate at once, and
// logs the first refusal and then one a minute; it waits for the client's
// rate; and it reserves batches. docs/migrating-from-x-time-rate.md shows
// the diff from clientXRate to client.
type apiClient struct {
	call   func(ctx context.Context, user string) error
	batch  func(n int) (time.Duration, bool)
	sent   int
	logged []string
}

var errUserThrottled = errors.New("throttled: too many calls from this user")

// clientXRate is the client written for golang.org/x/time/rate.
func clientXRate() *apiClient {
	limiter := rate.NewLimiter(rate.Every(10*time.Millisecond), 5)
	var mu sync.Mutex
	perUser := map[string]*rate.Limiter{}
	logSome := rate.Sometimes{First: 1, Interval: time.Minute}
	c := &apiClient{}
	c.call = func(ctx context.Context, user string) error {
		mu.Lock()
		lim, ok := perUser[user]
		if !ok {
			lim = rate.NewLimiter(1, 3) // kept for ever: memory grows with every user
			perUser[user] = lim
		}
		mu.Unlock()
		if !lim.AllowN(time.Now(), 1) {
			logSome.Do(func() { c.logged = append(c.logged, "throttled "+user) })
			return errUserThrottled
		}
		if err := limiter.Wait(ctx); err != nil {
			return err
		}
		c.sent++ // stands for the request
		return nil
	}
	c.batch = func(n int) (time.Duration, bool) {
		r := limiter.ReserveN(time.Now(), n)
		if !r.OK() {
			return 0, false
		}
		return r.Delay(), true
	}
	return c
}

// client is the same client, ported to ratelimit.
func client() *apiClient {
	limiter := ratelimit.NewLimiter(ratelimit.Every(10*time.Millisecond), 5)
	perUser := ratelimit.NewKeyed[string](1, 3)
	logSome := ratelimit.Sometimes{First: 1, Interval: time.Minute}
	c := &apiClient{}
	c.call = func(ctx context.Context, user string) error {
		if !perUser.AllowN(user, 1) {
			logSome.Do(func() { c.logged = append(c.logged, "throttled "+user) })
			return errUserThrottled
		}
		if err := limiter.Wait(ctx); err != nil {
			return err
		}
		c.sent++ // stands for the request
		return nil
	}
	c.batch = func(n int) (time.Duration, bool) {
		r := limiter.ReserveN(n)
		if !r.OK() {
			return 0, false
		}
		return r.Delay(), true
	}
	return c
}

// The client before and after: the same calls, the same refusals.
func Example_ratePort() {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		c    *apiClient
	}{{"x/time/rate", clientXRate()}, {"ratelimit", client()}} {
		var errs []error
		for range 5 {
			errs = append(errs, c.c.call(ctx, "ann"))
		}
		_, ok := c.c.batch(6) // more than the burst of 5
		fmt.Println(c.name, errs[2], errs[3], "| sent:", c.c.sent, "logged:", c.c.logged, "batch of 6:", ok)
	}
	// Output:
	// x/time/rate <nil> throttled: too many calls from this user | sent: 3 logged: [throttled ann] batch of 6: false
	// ratelimit <nil> throttled: too many calls from this user | sent: 3 logged: [throttled ann] batch of 6: false
}

// The errors keep x/time/rate's words, behind one prefix, and wrap a
// sentinel that errors.Is matches.
func Example_rateErrors() {
	ctx, stop := context.WithTimeout(context.Background(), time.Second)
	defer stop()
	before, after := rate.NewLimiter(1, 2), ratelimit.NewLimiter(1, 2)
	fmt.Println(before.WaitN(ctx, 3))
	fmt.Println(after.WaitN(ctx, 3))
	before.AllowN(time.Now(), 2)
	after.AllowN(2)
	fmt.Println(before.WaitN(ctx, 2)) // the tokens come in 2s, the deadline in 1s
	err := after.WaitN(ctx, 2)
	words, _, _ := strings.Cut(err.Error(), ": the tokens come in") // then how soon each comes
	fmt.Println(words)
	fmt.Println(errors.Is(err, ratelimit.ErrExceedsDeadline))
	// Output:
	// rate: Wait(n=3) exceeds limiter's burst 2
	// ratelimit: Limiter.WaitN(n=3) exceeds limiter's burst 2
	// rate: Wait(n=2) would exceed context deadline
	// ratelimit: Limiter.WaitN(n=2) would exceed context deadline
	// true
}

// A time before the latest: x/time/rate goes back to it, and counts the
// time from there again, which grants a token more; a ratelimit.Limiter's
// clock stays where it is.
func Example_rateClockGoesBack() {
	t0 := time.Now()
	t1 := t0.Add(100 * time.Millisecond)
	before, after := rate.NewLimiter(10, 2), ratelimit.NewLimiter(10, 2)
	fmt.Println("x/time/rate:", before.AllowN(t1, 1), before.AllowN(t0, 1), before.AllowN(t1, 1))
	fmt.Println("ratelimit:  ", after.AllowNAt(t1, 1), after.AllowNAt(t0, 1), after.AllowNAt(t1, 1))
	// Output:
	// x/time/rate: true true true
	// ratelimit:   true true false
}
