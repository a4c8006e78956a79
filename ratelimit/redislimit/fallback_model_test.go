package redislimit_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/structured-go/structured/ratelimit"
	"github.com/structured-go/structured/ratelimit/internal/bucketmodel"
	"github.com/structured-go/structured/ratelimit/redislimit"
)

// downRedis is a Redis that cannot be reached: every script fails at once.
type downRedis struct{ simRedis }

var errRefused = errors.New("dial tcp: connect: connection refused")

func (*downRedis) EvalSha(context.Context, string, []string, ...any) *redis.Cmd {
	return redis.NewCmdResult(nil, errRefused)
}

func (*downRedis) Eval(context.Context, string, []string, ...any) *redis.Cmd {
	return redis.NewCmdResult(nil, errRefused)
}

// The differential test of FailLocal's fallback, as package ratelimit's
// own for its Limiter: a Limiter under FailLocal(replicas) whose Redis is
// down answers every call from its local limiter, and is driven, in virtual
// time, beside the model of internal/bucketmodel at limit/replicas with a
// burst of burst/replicas (at least 1), with the same random calls at the
// same instants: Allow, Wait with and without deadlines, Reserve, cancels
// of reservations and of waits in any order, idle gaps from nothing to
// many refill periods. After every step they agree on every grant,
// refusal, delay and error, and on the local limiter's tokens; and every
// window of the run keeps the local bound.
func TestFailLocalFallbackAgreesWithTheModel(t *testing.T) {
	for seed := range uint64(40) {
		synctest.Test(t, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 21))
			// The local limit a whole number a second, for which the
			// Limiter's arithmetic is exact, as package ratelimit's test
			// has it: the two must agree to the nanosecond.
			replicas := 1 + rng.IntN(3)
			localLimit := []float64{1, 2, 3, 10, 100, 1000}[rng.IntN(6)]
			limit := localLimit * float64(replicas)
			burst := []int{1, 2, 3, 5, 8, 12}[rng.IntN(6)]
			localBurst := max(1, burst/replicas)
			l := redislimit.NewLimiter(&downRedis{}, "down", ratelimit.Limit(limit), burst, redislimit.FailLocal(replicas))
			f := &fallbackHarness{t: t, seed: seed, rng: rng, start: time.Now(), l: l,
				m: bucketmodel.New(localLimit, localBurst), limit: localLimit, burst: burst, localBurst: localBurst}
			f.run(200)
		})
	}
}

type fallbackHarness struct {
	t                 *testing.T
	seed              uint64
	rng               *rand.Rand
	start             time.Time
	l                 *redislimit.Limiter
	m                 *bucketmodel.Bucket
	limit             float64
	burst, localBurst int

	grants  []fallbackGrant
	resvs   []fallbackResv // those that may still be cancelled
	made    []fallbackResv // every one, to count its grant
	waiters []*fallbackWaiter
	step    int
	what    string
}

type fallbackGrant struct {
	at time.Duration
	n  int
}

type fallbackResv struct {
	r *redislimit.Reservation
	m *bucketmodel.Reservation
}

type fallbackWaiter struct {
	n        int
	m        *bucketmodel.Reservation
	deadline time.Duration // -1: none
	stop     context.CancelFunc
	done     chan error
	at       time.Duration
	finished bool
}

func (f *fallbackHarness) now() time.Duration { return time.Since(f.start) }

func (f *fallbackHarness) fatalf(format string, args ...any) {
	f.t.Helper()
	f.t.Fatalf("seed %d, step %d (%s), at %v, local limit %v, burst %d (local %d): %s",
		f.seed, f.step, f.what, f.now(), f.limit, f.burst, f.localBurst, fmt.Sprintf(format, args...))
}

func (f *fallbackHarness) run(steps int) {
	for f.step = range steps {
		f.idle()
		f.act()
		want, _ := f.m.Tokens(f.now()).Float64()
		if got := redislimit.LocalTokens(f.l); got != want {
			f.fatalf("the local limiter holds %v tokens, the model %v", got, want)
		}
	}
	f.what = "the end"
	for {
		next, ok := f.nextEvent()
		if !ok {
			break
		}
		f.sleepUntil(next)
	}
	for _, p := range f.made {
		if p.m.OK && !p.m.Cancelled && p.m.N > 0 {
			f.grants = append(f.grants, fallbackGrant{p.m.Act, p.m.N})
		}
	}
	slices.SortFunc(f.grants, func(a, b fallbackGrant) int { return cmp.Compare(a.at, b.at) })
	for i := range f.grants {
		sum := 0
		for j := i; j < len(f.grants); j++ {
			sum += f.grants[j].n
			d := f.grants[j].at - f.grants[i].at + 1
			most := new(big.Rat).Add(big.NewRat(int64(f.localBurst), 1),
				new(big.Rat).Mul(new(big.Rat).SetFloat64(f.limit), big.NewRat(int64(d), int64(time.Second))))
			if big.NewRat(int64(sum), 1).Cmp(most) > 0 {
				f.fatalf("%d tokens granted in [%v, %v], more than the local bound", sum, f.grants[i].at, f.grants[j].at)
			}
		}
	}
	if s := f.l.Stats(); s.Failures != s.Calls {
		f.fatalf("Stats %+v: every call is answered by the policy", s)
	}
}

func (f *fallbackHarness) idle() {
	period := time.Duration(float64(time.Second) / f.limit)
	var gap time.Duration
	switch f.rng.IntN(6) {
	case 0, 1:
	case 2:
		gap = time.Duration(f.rng.Int64N(int64(period)))
	case 3:
		gap = period + time.Duration(f.rng.Int64N(int64(period)))/8
	case 4:
		gap = time.Duration(f.rng.Int64N(4 * int64(period)))
	case 5:
		gap = time.Duration(1+f.rng.IntN(20)) * period * time.Duration(f.localBurst)
	}
	f.what = fmt.Sprintf("idle %v", gap)
	target := f.now() + gap
	for {
		next, ok := f.nextEvent()
		if !ok || next > target {
			break
		}
		f.sleepUntil(next)
	}
	f.sleepUntil(target)
}

func (f *fallbackHarness) nextEvent() (time.Duration, bool) {
	var next time.Duration
	found := false
	for _, w := range f.waiters {
		if w.finished {
			continue
		}
		at := w.m.Act
		if w.deadline >= 0 && w.deadline < at {
			at = w.deadline
		}
		if !found || at < next {
			next, found = at, true
		}
	}
	return next, found
}

// sleepUntil moves virtual time to at and checks the waiters that return.
func (f *fallbackHarness) sleepUntil(at time.Duration) {
	if d := at - f.now(); d > 0 {
		time.Sleep(d)
	}
	synctest.Wait()
	for _, w := range f.waiters {
		if w.finished {
			continue
		}
		select {
		case err := <-w.done:
			w.finished = true
			w.stop()
			if err != nil {
				f.fatalf("a WaitN(%d) the model says acts at %v returned %v at %v", w.n, w.m.Act, err, w.at)
			}
			if w.at != w.m.Act {
				f.fatalf("a WaitN(%d) returned at %v, the model says at %v", w.n, w.at, w.m.Act)
			}
			f.grants = append(f.grants, fallbackGrant{w.at, w.n})
		default:
			if f.now() >= w.m.Act {
				f.fatalf("a WaitN(%d) the model says acts at %v still waits at %v", w.n, w.m.Act, f.now())
			}
		}
	}
}

func (f *fallbackHarness) act() {
	n := f.rng.IntN(f.burst + 2)
	if f.rng.IntN(4) > 0 {
		n = min(n, 1+f.rng.IntN(2))
	}
	now := f.now()
	ctx := context.Background()
	switch c := f.rng.IntN(12); {
	case c < 4:
		f.what = fmt.Sprintf("AllowN(%d)", n)
		got, err := f.l.AllowN(ctx, n)
		want := n == 0 || n <= f.burst && f.m.AllowN(now, n)
		if err != nil || got != want {
			f.fatalf("AllowN = %v, %v; the model says %v", got, err, want)
		}
		if got && n > 0 {
			f.grants = append(f.grants, fallbackGrant{now, n})
		}
	case c < 7:
		f.startWait(n)
	case c < 8:
		live := slices.DeleteFunc(slices.Clone(f.waiters), func(w *fallbackWaiter) bool { return w.finished })
		if len(live) == 0 {
			return
		}
		w := live[f.rng.IntN(len(live))]
		f.what = fmt.Sprintf("cancel of WaitN(%d) acting at %v", w.n, w.m.Act)
		w.stop()
		synctest.Wait()
		if err := <-w.done; err != context.Canceled {
			f.fatalf("a cancelled WaitN = %v, want context.Canceled", err)
		}
		w.finished = true
		f.m.Cancel(now, w.m)
		w.m.Cancelled = true
	case c < 10:
		f.what = fmt.Sprintf("ReserveN(%d)", n)
		r, err := f.l.ReserveN(ctx, n)
		if err != nil {
			f.fatalf("ReserveN = %v", err)
		}
		if n > f.burst {
			if r.OK() {
				f.fatalf("ReserveN(%d) beyond the burst is OK", n)
			}
			return
		}
		mr := f.m.ReserveN(now, n, 1<<62)
		if n == 0 {
			mr = &bucketmodel.Reservation{N: 0, OK: true, Act: now}
		}
		if r.OK() != mr.OK || mr.OK && r.Delay() != mr.Act-now {
			f.fatalf("ReserveN: OK %v, Delay %v; the model says OK %v, acting at %v", r.OK(), r.Delay(), mr.OK, mr.Act)
		}
		f.resvs = append(f.resvs, fallbackResv{r, mr})
		f.made = append(f.made, fallbackResv{r, mr})
	default:
		if len(f.resvs) == 0 {
			return
		}
		i := f.rng.IntN(len(f.resvs))
		p := f.resvs[i]
		f.what = fmt.Sprintf("Cancel of ReserveN(%d) acting at %v", p.m.N, p.m.Act)
		if _, err := p.r.Cancel(ctx); err != nil {
			f.fatalf("Cancel = %v", err)
		}
		f.m.Cancel(now, p.m)
		f.resvs = slices.Delete(f.resvs, i, i+1)
	}
	now = f.now()
	for _, p := range f.resvs {
		want := ratelimit.InfDuration
		if p.m.OK {
			want = max(p.m.Act-now, 0)
		}
		if got := p.r.Delay(); got != want {
			f.fatalf("a ReserveN(%d) has Delay() %v, the model says %v", p.m.N, got, want)
		}
	}
}

func (f *fallbackHarness) startWait(n int) {
	now := f.now()
	w := &fallbackWaiter{n: n, deadline: -1, done: make(chan error, 1)}
	ctx, stop := context.WithCancel(context.Background())
	maxWait := time.Duration(1 << 62)
	if f.rng.IntN(2) == 0 {
		w.deadline = now + 1 + time.Duration(f.rng.Int64N(int64(3*time.Second)))
		maxWait = w.deadline - now
		ctx, stop = context.WithDeadline(context.Background(), f.start.Add(w.deadline))
	}
	w.stop = stop
	f.what = fmt.Sprintf("WaitN(%d, deadline %v)", n, w.deadline)
	go func() {
		err := f.l.WaitN(ctx, n)
		w.at = f.now()
		w.done <- err
	}()
	synctest.Wait()
	if n > f.burst {
		if err := <-w.done; !errors.Is(err, ratelimit.ErrExceedsBurst) {
			f.fatalf("WaitN beyond the burst = %v, want ErrExceedsBurst", err)
		}
		stop()
		return
	}
	if n == 0 {
		if err := <-w.done; err != nil {
			f.fatalf("WaitN(0) = %v", err)
		}
		stop()
		return
	}
	w.m = f.m.WaitN(now, n, maxWait)
	select {
	case err := <-w.done:
		stop()
		switch {
		case !w.m.OK && n > f.localBurst:
			if !errors.Is(err, ratelimit.ErrExceedsBurst) {
				f.fatalf("WaitN = %v beyond the local burst, want ErrExceedsBurst", err)
			}
		case !w.m.OK:
			if !errors.Is(err, ratelimit.ErrExceedsDeadline) {
				f.fatalf("WaitN = %v, the model says not in time: want ErrExceedsDeadline", err)
			}
		case err != nil || w.m.Act != now:
			f.fatalf("WaitN returned %v at once; the model says it acts at %v", err, w.m.Act)
		default:
			f.grants = append(f.grants, fallbackGrant{now, n})
		}
	default:
		if !w.m.OK || w.m.Act == now {
			f.fatalf("WaitN waits; the model says OK %v, acting at %v", w.m.OK, w.m.Act)
		}
		f.waiters = append(f.waiters, w)
	}
}
