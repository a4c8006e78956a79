package docs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/ratelimit"
)

// One Limiter shared by every task that calls the same server: the rate
// holds for all of them together.
func Example_rateShared() {
	lim := ratelimit.NewLimiter(ratelimit.Every(time.Millisecond), 1) // 1000 a second
	var sent atomic.Int32
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 10 {
			n.Go(func(ctx context.Context) error {
				if err := lim.Wait(ctx); err != nil {
					return err // ctx.Err() unchanged, if ctx ended first
				}
				sent.Add(1) // stands for the request
				return nil
			})
		}
		return nil
	})
	fmt.Println(sent.Load(), "requests,", err)
	// Output: 10 requests, <nil>
}

// The end of ctx ends a Wait, with ctx.Err() unchanged.
func Example_rateCancelled() {
	lim := ratelimit.NewLimiter(ratelimit.Every(time.Hour), 1)
	lim.Allow() // the one token is gone: the next comes in an hour
	ctx, stop := context.WithCancel(context.Background())
	stop()
	fmt.Println(lim.Wait(ctx) == context.Canceled)
	// Output: true
}

// The trap: a limiter per task. Each has a full bucket of its own, so ten
// tasks make ten times the rate.
func Example_rateTrapLimiterPerTask() {
	var allowed atomic.Int32
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 10 {
			n.Go(func(ctx context.Context) error {
				lim := ratelimit.NewLimiter(1, 1) // "1 a second", ten times over
				if lim.Allow() {
					allowed.Add(1)
				}
				return nil
			})
		}
		return nil
	})
	fmt.Println("allowed in the same instant:", allowed.Load())
	// Output: allowed in the same instant: 10
}

// The port of docs/migrating-from-x-time-rate.md: a client of an API that
// allows 100 calls a second in all and 1 a second per user, written for
// golang.org/x/time/rate, after the port. The diff on the page turns the
// code before into this; TestMigrationDiffsShowTheCodeCIRuns checks that
// its lines, those it keeps and those it adds, are these.
type apiClient struct {
	limiter *ratelimit.Limiter
	perUser *ratelimit.Keyed[string]
	logSome ratelimit.Sometimes
	sent    atomic.Int32
	logged  []string
}

var errUserThrottled = errors.New("throttled: too many calls from this user")

func newAPIClient() *apiClient {
	return &apiClient{
		limiter: ratelimit.NewLimiter(ratelimit.Every(10*time.Millisecond), 5),
		perUser: ratelimit.NewKeyed[string](1, 3),
		logSome: ratelimit.Sometimes{First: 1, Interval: time.Minute},
	}
}

// Call refuses a user beyond their own rate at once, and waits for the
// client's.
func (c *apiClient) Call(ctx context.Context, user string) error {
	if !c.perUser.AllowN(user, 1) {
		c.logSome.Do(func() { c.logged = append(c.logged, "throttled "+user) })
		return errUserThrottled
	}
	if err := c.limiter.Wait(ctx); err != nil {
		return err
	}
	c.sent.Add(1) // stands for the request
	return nil
}

// Batch reserves n calls and says how long to wait before making them, or
// false if n is more than the client may ever make at once.
func (c *apiClient) Batch(n int) (time.Duration, bool) {
	r := c.limiter.ReserveN(n)
	if !r.OK() {
		return 0, false
	}
	return r.Delay(), true
}

func Example_migrateRatePort() {
	c := newAPIClient()
	ctx := context.Background()
	for range 5 {
		err := c.Call(ctx, "ann")
		fmt.Println("ann:", err)
	}
	if _, ok := c.Batch(6); !ok {
		fmt.Println("a batch of 6: more than the burst of 5")
	}
	fmt.Println("sent:", c.sent.Load(), "logged:", c.logged)
	// Output:
	// ann: <nil>
	// ann: <nil>
	// ann: <nil>
	// ann: throttled: too many calls from this user
	// ann: throttled: too many calls from this user
	// a batch of 6: more than the burst of 5
	// sent: 3 logged: [throttled ann]
}

// The errors keep x/time/rate's words, behind one prefix, and wrap a
// sentinel errors.Is matches.
func Example_migrateRateErrors() {
	lim := ratelimit.NewLimiter(1, 2)
	err := lim.WaitN(context.Background(), 3)
	fmt.Println(err)
	fmt.Println(errors.Is(err, ratelimit.ErrExceedsBurst))

	lim.AllowN(2)
	ctx, stop := context.WithTimeout(context.Background(), time.Hour)
	defer stop()
	err = lim.WaitN(ctx, 2) // the tokens come in 2s: within the hour
	fmt.Println(err)
	ctx, stop = context.WithTimeout(context.Background(), time.Second)
	defer stop()
	err = lim.WaitN(ctx, 2) // now in 4s: past the deadline
	fmt.Println(strings.Contains(err.Error(), "would exceed context deadline"), errors.Is(err, ratelimit.ErrExceedsDeadline))
	// Output:
	// ratelimit: Limiter.WaitN(n=3) exceeds limiter's burst 2
	// true
	// <nil>
	// true true
}

// A program with a time of its own: AllowN(t, n) becomes AllowNAt(t, n),
// and a time before the latest counts as the latest.
func Example_migrateRateCallersTime() {
	lim := ratelimit.NewLimiter(10, 1)
	t0 := time.Now()
	t1 := t0.Add(100 * time.Millisecond)
	fmt.Println(lim.AllowNAt(t0, 1), lim.AllowNAt(t1, 1)) // x/time/rate: lim.AllowN(t0, 1), lim.AllowN(t1, 1)
	fmt.Println(lim.AllowNAt(t0, 1))                      // t0 counts as t1: no token for the time between, twice
	// Output:
	// true true
	// false
}

// The port of docs/migrating-from-x-sync-semaphore.md, x/sync/semaphore's
// own worker pool: the code is the same, the import is not.
func Example_migrateSemaphore() {
	ctx := context.Background()
	results := make([]int, 8)

	// Before: golang.org/x/sync/semaphore.
	sem := semaphore.NewWeighted(int64(runtime.GOMAXPROCS(0)))
	for i := range results {
		if err := sem.Acquire(ctx, 1); err != nil {
			fmt.Println(err)
			break
		}
		go func() {
			defer sem.Release(1)
			results[i] = i * i
		}()
	}
	if err := sem.Acquire(ctx, int64(runtime.GOMAXPROCS(0))); err != nil { // wait for the workers
		fmt.Println(err)
	}
	fmt.Println("x/sync:   ", results)

	// After: the same lines, with ratelimit's NewWeighted.
	clear(results)
	{
		sem := ratelimit.NewWeighted(int64(runtime.GOMAXPROCS(0)))
		for i := range results {
			if err := sem.Acquire(ctx, 1); err != nil {
				fmt.Println(err)
				break
			}
			go func() {
				defer sem.Release(1)
				results[i] = i * i
			}()
		}
		if err := sem.Acquire(ctx, int64(runtime.GOMAXPROCS(0))); err != nil { // wait for the workers
			fmt.Println(err)
		}
	}
	fmt.Println("ratelimit:", results)
	// Output:
	// x/sync:    [0 1 4 9 16 25 36 49]
	// ratelimit: [0 1 4 9 16 25 36 49]
}

// A request larger than the capacity: x/sync/semaphore waits until ctx
// ends; ratelimit fails at once.
func Example_migrateSemaphoreTooBig() {
	ctx, stop := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer stop()
	before := semaphore.NewWeighted(2)
	fmt.Println("x/sync:   ", before.Acquire(ctx, 3)) // after 10ms

	after := ratelimit.NewWeighted(2)
	err := after.Acquire(context.Background(), 3) // at once, even without a deadline
	fmt.Println("ratelimit:", errors.Is(err, ratelimit.ErrExceedsCapacity), err)
	// Output:
	// x/sync:    context deadline exceeded
	// ratelimit: true ratelimit: Semaphore.Acquire(n=3) exceeds the semaphore's capacity of 2
}

// The diffs of the migration guides are the code CI runs: each ```diff
// block preceded by a marker <!-- diff of: FILE DECL --> must, once its
// removed lines are dropped, appear in that declaration line for line, as
// the Go blocks do (see docscheck_test.go).
func TestMigrationDiffsShowTheCodeCIRuns(t *testing.T) {
	marker := regexp.MustCompile(`^<!--\s*diff of:\s*(\S+)(?:\s+(\S+))?\s*-->$`)
	l := &loader{cache: map[string]*pkgIndex{}}
	checked := 0
	for _, page := range []string{"migrating-from-x-time-rate.md", "migrating-from-x-sync-semaphore.md"} {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := parseBlocks(page, string(text))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(text), "\n")
		for _, b := range blocks {
			if b.lang != "diff" {
				continue
			}
			prev := ""
			for i := b.line - 2; i >= 0 && prev == ""; i-- {
				prev = strings.TrimSpace(lines[i])
			}
			m := marker.FindStringSubmatch(prev)
			if m == nil {
				continue // a diff of imports, or of code not in this module
			}
			var kept []string
			for _, l := range b.lines {
				switch {
				case strings.HasPrefix(l, "-"):
				case strings.HasPrefix(l, "+"), strings.HasPrefix(l, " "):
					kept = append(kept, l[1:])
				case l == "":
					kept = append(kept, "")
				default:
					t.Errorf("%s: a diff line starts with neither -, + nor a space: %q", b, l)
				}
			}
			idx, err := l.load(m[1])
			if err != nil {
				t.Fatal(err)
			}
			gob := block{doc: b.doc, line: b.line, lang: "go", lines: kept, marked: true, source: m[1], name: m[2]}
			if err := checkBlock(gob, idx); err != nil {
				t.Error(err)
			}
			checked++
		}
	}
	if checked < 2 {
		t.Errorf("%d diffs of code checked, want one on each migration guide at least", checked)
	}
}
