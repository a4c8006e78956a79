//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/retry"
)

// A Breaker and a Throttle used the way users combine them: the tasks of
// nested nurseries call one flaky downstream, which goes down and comes
// back, through both, directly and from retry.Do with a budget; calls are
// slow or fast, fail, time out, are cancelled, panic. Checked every
// iteration:
//
//   - no call reaches the downstream while the breaker is open;
//   - the states follow closed → open → half-open → closed or open, as
//     OnStateChange reports them;
//   - every refusal wraps ErrOpen or ErrThrottled, and a breaker's names
//     the failure that opened it;
//   - every real error of a task reaches Run exactly once, a panic arrives
//     as a *nursery.PanicError, and no task outlives Run.
func TestBreakerAndThrottleRandomizedKeepTheirPromises(t *testing.T) {
	opened, panics := 0, 0
	for seed := range uint64(80) {
		synctest.Test(t, func(t *testing.T) {
			o, p := guardRound(t, seed)
			if o {
				opened++
			}
			if p {
				panics++
			}
		})
	}
	if opened < 20 || panics == 0 {
		t.Errorf("the breaker opened in %d iterations of 80 and %d panicked: too few to test those paths", opened, panics)
	}
}

type taskFailed struct{ id int }

func (e *taskFailed) Error() string { return "task failed" }

func guardRound(t *testing.T, seed uint64) (opened, panicked bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0xb4ea))
	start := time.Now()

	// The downstream is down in [downFrom, downTo).
	downFrom := time.Duration(rng.IntN(500)) * time.Millisecond
	downTo := downFrom + time.Duration(rng.IntN(2000))*time.Millisecond

	var (
		mu          sync.Mutex
		changes     []string
		openSince   = time.Duration(-1) // when the breaker last opened; -1 if not open
		violations  []string
		calls       atomic.Int64
		running     atomic.Int64
		realErrs    = map[error]bool{}
		badRefusals atomic.Int64
	)
	opts := []retry.BreakerOption{
		retry.ConsecutiveFailures(rng.IntN(5)),
		retry.FailureRatio(0.3+0.5*rng.Float64(), 5+rng.IntN(20)),
		retry.OpenFor(time.Duration(50+rng.IntN(500)) * time.Millisecond),
		retry.OnStateChange(func(from, to retry.BreakerState) {
			mu.Lock()
			defer mu.Unlock()
			changes = append(changes, from.String()+"→"+to.String())
			if to == retry.BreakerOpen {
				openSince = time.Since(start)
				opened = true
			} else {
				openSince = -1
			}
		}),
	}
	probes := 1 + rng.IntN(4)
	opts = append(opts, retry.HalfOpen(probes, 1+rng.IntN(probes)))
	if rng.IntN(2) == 0 {
		opts = append(opts, retry.SlowCall(time.Duration(20+rng.IntN(100))*time.Millisecond))
	}
	if rng.IntN(2) == 0 {
		opts = append(opts, retry.WindowCalls(10+rng.IntN(40)))
	}
	b := retry.NewBreaker(opts...)
	var th *retry.Throttle
	if rng.IntN(2) == 0 {
		th = retry.NewThrottle(1+rng.Float64()*2, time.Duration(200+rng.IntN(2000))*time.Millisecond)
	}
	budget := retry.NewBudget(10, 0.2)

	// downstream is one call: it fails while down, and otherwise
	// sometimes; it takes up to 60ms.
	downstream := func(ctx context.Context, latency time.Duration, failing bool) error {
		now := time.Since(start)
		mu.Lock()
		if openSince >= 0 && now > openSince {
			violations = append(violations, "a call reached the downstream while the breaker was open")
		}
		mu.Unlock()
		calls.Add(1)
		select {
		case <-time.After(latency):
		case <-ctx.Done():
			return ctx.Err()
		}
		if now >= downFrom && now < downTo || failing {
			return errDown
		}
		return nil
	}
	checkRefusal := func(err error) {
		switch {
		case errors.Is(err, retry.ErrOpen):
			if !strings.Contains(err.Error(), "opened by: ") {
				badRefusals.Add(1)
			}
		case errors.Is(err, retry.ErrThrottled):
		}
	}

	const tasks = 16
	panicker := -1
	if rng.IntN(3) == 0 {
		panicker = rng.IntN(tasks)
	}
	type plan struct {
		way, calls int
		latency    time.Duration
		failEvery  int
		fail       bool
		pauses     *rand.Rand // the task's own: tasks run at once
	}
	plans := make([]plan, tasks)
	for i := range plans {
		plans[i] = plan{rng.IntN(4), 5 + rng.IntN(30), time.Duration(1+rng.IntN(60)) * time.Millisecond, 2 + rng.IntN(8), rng.IntN(5) == 0,
			rand.New(rand.NewPCG(seed, uint64(i)))}
	}
	collectAll := rng.IntN(2) == 0

	task := func(ctx context.Context, i int) error {
		running.Add(1)
		defer running.Add(-1)
		p := plans[i]
		for k := range p.calls {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failing := k%p.failEvery == 0
			fn := func(ctx context.Context) error { return downstream(ctx, p.latency, failing) }
			for i == panicker && k == p.calls/2 && ctx.Err() == nil {
				// Through the breaker, once it lets the call through.
				err := b.Do(ctx, func(context.Context) error { panic("downstream panicked") })
				checkRefusal(err)
				time.Sleep(10 * time.Millisecond)
			}
			var err error
			switch p.way {
			case 0: // the breaker alone
				err = b.Do(ctx, fn)
			case 1: // retry.Do through both
				ropts := []retry.Option{retry.WithBreaker(b), retry.WithBudget(budget), retry.Attempts(3),
					retry.MaxHint(100 * time.Millisecond), retry.WithBackoff(retry.Constant(5 * time.Millisecond))}
				if th != nil {
					ropts = append(ropts, retry.WithThrottle(th))
				}
				err = retry.Do(ctx, fn, ropts...)
			case 2: // a deadline shorter than some calls
				dctx, stop := context.WithTimeout(ctx, 30*time.Millisecond)
				err = b.Do(dctx, fn)
				stop()
			case 3: // the throttle, then the breaker, from a nested nursery
				err = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
					n.Go(func(ctx context.Context) error {
						if th == nil {
							return b.Do(ctx, fn)
						}
						return th.Do(ctx, func(ctx context.Context) error { return b.Do(ctx, fn) })
					})
					return nil
				})
			}
			checkRefusal(err)
			time.Sleep(time.Duration(p.pauses.IntN(20)) * time.Millisecond)
		}
		if p.fail {
			err := &taskFailed{i}
			mu.Lock()
			realErrs[err] = true
			mu.Unlock()
			return err
		}
		return nil
	}
	var runErr error
	func() {
		defer func() {
			if r := recover(); r != nil {
				var pe *nursery.PanicError
				if err, ok := r.(error); !ok || !errors.As(err, &pe) {
					t.Errorf("seed %d: Run panicked with %v, want a *nursery.PanicError", seed, r)
				}
				panicked = true
			}
		}()
		var nopts []nursery.Option
		if collectAll {
			nopts = append(nopts, nursery.WithCollectAll())
		}
		runErr = nursery.Run(bg, func(ctx context.Context, n *nursery.Nursery) error {
			for i := range tasks {
				n.Go(func(ctx context.Context) error { return task(ctx, i) })
			}
			return nil
		}, nopts...)
	}()

	mu.Lock()
	defer mu.Unlock()
	for _, v := range violations {
		t.Errorf("seed %d: %s", seed, v)
	}
	prev := "closed"
	for _, c := range changes {
		from, to, _ := strings.Cut(c, "→")
		ok := from == prev && (from == "closed" && to == "open" || from == "open" && to == "half-open" ||
			from == "half-open" && (to == "closed" || to == "open"))
		if !ok {
			t.Errorf("seed %d: the change %s after %s in %v", seed, c, prev, changes)
			break
		}
		prev = to
	}
	if n := badRefusals.Load(); n != 0 {
		t.Errorf("seed %d: %d refusals of the breaker did not name the failure that opened it", seed, n)
	}
	if !panicked {
		got := map[error]int{}
		for _, err := range multierr.Errors(runErr) {
			got[err]++
		}
		for err, n := range got {
			if !realErrs[err] || n != 1 {
				t.Errorf("seed %d: Run returned %v %d times; want each real error once and nothing else", seed, err, n)
			}
		}
		for err := range realErrs {
			if got[err] != 1 {
				t.Errorf("seed %d: %v reached Run %d times, want once", seed, err, got[err])
			}
		}
	}
	if n := running.Load(); n != 0 {
		t.Errorf("seed %d: %d tasks still running after Run", seed, n)
	}
	return opened, panicked
}
