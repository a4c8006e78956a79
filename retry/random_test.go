//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/cancel"
	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/retry"
	"github.com/structured-go/structured/timeout"
)

// The randomized test: calls of Do and DoValue with random combinations of
// the options (attempts, backoffs with their zero values, jitters and
// spreads, MaxElapsed, AttemptTimeout, hints, a shared budget, hedging,
// WithLastError), whose attempts succeed, fail, fail
// permanently, panic, block until cancelled, cancel the caller's context,
// or run a nested retry of their own. Each plan is drawn from a seeded
// generator before it runs; what the attempts really did is recorded as
// they run, and the outcome of every call, nested ones included, is checked
// against it:
//
//   - no attempt is still running when Do returns or panics;
//   - Do calls fn at most Attempts times;
//   - a success returns the value of an attempt that succeeded; a failure
//     of DoValue returns the value of the last attempt, or of a failed
//     one under Hedge, or none if no attempt ran;
//   - a panic is one that an attempt raised (wrapped in a
//     *nursery.PanicError under Hedge);
//   - an error says exactly one reason, consistent with the plan, and
//     reaches the last attempt's error; the attempt errors it lists are
//     errors the attempts returned, each at most once, in order;
//   - a permanent error is returned unwrapped; with WithLastError, giving
//     up returns the last attempt's error itself;
//   - OnGiveUp is called once exactly when Do fails after an attempt, and
//     OnRetry once per retry.
func TestRandomCombinations(t *testing.T) {
	const seeds = 300
	for seed := range uint64(seeds) {
		synctest.Test(t, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			w := &world{t: t, budget: retry.NewBudget(8, 0.5)}
			p := w.plan(rng, 0)
			ctx, stop := context.WithTimeout(bg, 10*time.Minute) // every plan ends
			defer stop()
			// A panic that reaches the top is one that exec checked.
			defer func() { _ = recover() }()
			w.exec(ctx, p, fmt.Sprint("seed ", seed))
		})
	}
}

type kind int

const (
	succeed kind = iota
	fail
	failHinted
	failPermanent
	panics
	block
	cancelParent
	nested
	kinds
)

type step struct {
	kind    kind
	latency time.Duration
	inner   *plan
}

type plan struct {
	attempts       int
	backoff        retry.Backoff
	maxElapsed     time.Duration
	attemptTimeout time.Duration
	hedge          time.Duration // < 0: no hedging
	budget         bool
	value          bool // DoValue rather than Do
	lastError      bool
	cancelAfter    time.Duration
	steps          []step
}

type world struct {
	t      *testing.T
	budget *retry.Budget
}

func (w *world) plan(rng *rand.Rand, depth int) *plan {
	p := &plan{attempts: 1 + rng.IntN(5), hedge: -1, value: rng.IntN(2) == 0}
	switch rng.IntN(6) {
	case 0:
		p.backoff = retry.Constant(time.Duration(rng.IntN(50)) * time.Millisecond)
	case 1:
		p.backoff = retry.Exponential{Initial: time.Millisecond, Max: 40 * time.Millisecond, Jitter: retry.Jitter(rng.IntN(4))}
	case 2:
		p.backoff = retry.Linear{Initial: time.Millisecond, Step: 5 * time.Millisecond, Jitter: retry.Jitter(rng.IntN(3))}
	case 3:
		p.backoff = retry.Exponential{Initial: time.Millisecond, Multiplier: 1.5, Spread: rng.Float64()}
	case 4:
		p.backoff = []retry.Backoff{retry.Exponential{}, retry.Linear{}}[rng.IntN(2)] // the zero values
	}
	p.lastError = rng.IntN(4) == 0
	if rng.IntN(3) == 0 {
		p.maxElapsed = time.Duration(1+rng.IntN(100)) * time.Millisecond
	}
	if rng.IntN(3) == 0 {
		p.attemptTimeout = time.Duration(1+rng.IntN(30)) * time.Millisecond
	}
	if rng.IntN(3) == 0 {
		p.hedge = time.Duration(rng.IntN(20)) * time.Millisecond
	}
	p.budget = rng.IntN(3) == 0
	if rng.IntN(4) == 0 {
		p.cancelAfter = time.Duration(1+rng.IntN(100)) * time.Millisecond
	}
	for range p.attempts {
		s := step{kind: kind(rng.IntN(int(kinds))), latency: time.Duration(rng.IntN(20)) * time.Millisecond}
		if s.kind == nested {
			if depth >= 2 {
				s.kind = fail
			} else {
				s.inner = w.plan(rng, depth+1)
			}
		}
		if s.kind == block && p.attemptTimeout == 0 && p.cancelAfter == 0 {
			p.attemptTimeout = 10 * time.Millisecond // something must end it
		}
		p.steps = append(p.steps, s)
	}
	return p
}

// An outcome is what one attempt really did.
type outcome struct {
	err      error
	value    int
	panicked any
	done     bool
}

// exec runs p under ctx, checks its invariants, and returns what Do
// returned, or re-panics what it panicked with.
func (w *world) exec(parent context.Context, p *plan, name string) (int, error) {
	t := w.t
	ctx, stop := context.WithCancel(parent)
	defer stop()
	if p.cancelAfter > 0 {
		tm := time.AfterFunc(p.cancelAfter, stop)
		defer tm.Stop()
	}
	var (
		mu       sync.Mutex
		outcomes = map[int]*outcome{}
		calls    atomic.Int64
		live     atomic.Int64
		retries  atomic.Int64
		giveUps  []error
	)
	fn := func(actx context.Context) (v int, err error) {
		i := int(calls.Add(1))
		live.Add(1)
		o := &outcome{}
		mu.Lock()
		outcomes[i] = o
		mu.Unlock()
		defer func() {
			r := recover()
			mu.Lock()
			o.err, o.value, o.panicked, o.done = err, v, r, true
			mu.Unlock()
			live.Add(-1)
			if r != nil {
				panic(r)
			}
		}()
		s := p.steps[(i-1)%len(p.steps)]
		if s.kind != block && s.kind != nested && cancel.Sleep(actx, s.latency) != nil {
			return 0, actx.Err()
		}
		switch s.kind {
		case succeed:
			return i, nil
		case fail: // a failed attempt's value is -i, which DoValue must keep
			return -i, fmt.Errorf("%s: attempt %d failed", name, i)
		case failHinted:
			return -i, retry.After(s.latency*2, fmt.Errorf("%s: attempt %d failed with a hint", name, i))
		case failPermanent:
			return -i, retry.Permanent(fmt.Errorf("%s: attempt %d failed for good", name, i))
		case panics:
			panic(fmt.Sprintf("%s: attempt %d panicked", name, i))
		case block:
			<-actx.Done()
			return 0, actx.Err()
		case cancelParent:
			stop()
			return 0, fmt.Errorf("%s: attempt %d cancelled its caller", name, i)
		case nested:
			return w.exec(actx, s.inner, fmt.Sprintf("%s/%d", name, i))
		}
		panic("unreachable")
	}
	opts := []retry.Option{retry.Attempts(p.attempts),
		retry.OnRetry(func(int, error, time.Duration) { retries.Add(1) }),
		retry.OnGiveUp(func(_ int, err error) { giveUps = append(giveUps, err) })}
	if p.backoff != nil {
		opts = append(opts, retry.WithBackoff(p.backoff))
	}
	if p.maxElapsed > 0 {
		opts = append(opts, retry.MaxElapsed(p.maxElapsed))
	}
	if p.attemptTimeout > 0 {
		opts = append(opts, retry.AttemptTimeout(p.attemptTimeout))
	}
	if p.hedge >= 0 {
		opts = append(opts, retry.Hedge(p.hedge))
	}
	if p.budget {
		opts = append(opts, retry.WithBudget(w.budget))
	}
	if p.lastError {
		opts = append(opts, retry.WithLastError())
	}

	var (
		v        int
		err      error
		panicked any
	)
	func() {
		defer func() { panicked = recover() }()
		if p.value {
			v, err = retry.DoValue(ctx, fn, opts...)
		} else {
			err = retry.Do(ctx, func(ctx context.Context) error { _, err := fn(ctx); return err }, opts...)
		}
	}()

	// Everything below reads what the attempts recorded: they have all
	// returned, which is the first thing checked.
	n := int(calls.Load())
	if l := live.Load(); l != 0 {
		t.Errorf("%s: %d attempts still running after Do returned", name, l)
	}
	if n > p.attempts {
		t.Errorf("%s: %d calls, more than Attempts(%d)", name, n, p.attempts)
	}
	hedged := p.hedge >= 0 && p.attempts > 1
	returned := map[error]int{} // attempt errors → attempt number
	var panics []any
	for i, o := range outcomes {
		if !o.done {
			t.Errorf("%s: attempt %d never finished", name, i)
		}
		if o.err != nil {
			returned[o.err] = i
		}
		if o.panicked != nil {
			v := o.panicked
			if hedged {
				// A panic crossing nurseries keeps the value it began with.
				for pe, ok := v.(*nursery.PanicError); ok; pe, ok = v.(*nursery.PanicError) {
					v = pe.Value
				}
			}
			panics = append(panics, v)
		}
	}

	switch {
	case panicked != nil:
		raised := panicked
		if hedged {
			pe, ok := panicked.(*nursery.PanicError)
			if !ok {
				t.Errorf("%s: hedged Do panicked with %T %v, want a *nursery.PanicError", name, panicked, panicked)
				panic(panicked)
			}
			raised = pe.Value
		}
		if !slices.Contains(panics, raised) {
			t.Errorf("%s: Do panicked with %v, which no attempt raised (%v)", name, raised, panics)
		}
		if len(giveUps) != 0 {
			t.Errorf("%s: OnGiveUp called on a panic", name)
		}
		panic(panicked)

	case err == nil:
		if !p.value {
			break
		}
		ok := false
		for _, o := range outcomes {
			ok = ok || o.err == nil && o.panicked == nil && o.value == v
		}
		if !ok {
			t.Errorf("%s: DoValue returned %d, which is not the value of an attempt that succeeded", name, v)
		}
		if o := outcomes[n]; !hedged && (o.err != nil || o.value != v) {
			t.Errorf("%s: DoValue returned %d, want the last attempt's value %d", name, v, o.value)
		}
		if len(giveUps) != 0 {
			t.Errorf("%s: OnGiveUp called after a success", name)
		}

	default:
		if len(giveUps) != 1 || giveUps[0] != err {
			if !(n == 0 && len(giveUps) == 0) {
				t.Errorf("%s: OnGiveUp calls %v, want exactly one with %v", name, giveUps, err)
			}
		}
		if p.value {
			w.checkFailedValue(name, v, n, hedged, outcomes)
		}
		w.checkError(name, p, ctx, err, n, hedged, returned, int(retries.Load()))
	}
	return v, err
}

// checkFailedValue checks the value DoValue returned with an error.
func (w *world) checkFailedValue(name string, v, n int, hedged bool, outcomes map[int]*outcome) {
	switch {
	case n == 0:
		if v != 0 {
			w.t.Errorf("%s: DoValue returned %d with no attempt made", name, v)
		}
	case !hedged:
		if want := outcomes[n].value; v != want {
			w.t.Errorf("%s: DoValue returned %d with its error, want the last attempt's value %d", name, v, want)
		}
	default:
		ok := v == 0 // no attempt had returned when ctx ended
		for _, o := range outcomes {
			ok = ok || o.err != nil && o.value == v
		}
		if !ok {
			w.t.Errorf("%s: DoValue returned %d with its error, not the value of an attempt that failed", name, v)
		}
	}
}

func (w *world) checkError(name string, p *plan, ctx context.Context, err error, n int, hedged bool, returned map[error]int, retries int) {
	t := w.t
	// With WithLastError, giving up returns an attempt's error itself
	// (which may be the *Error of a nested retry).
	_, bare := returned[err]
	bare = bare || p.attemptTimeout > 0 && errors.Is(err, timeout.ErrTimeout)
	if p.lastError && bare && fmt.Sprintf("%T", err) != "*retry.permanentError" {
		if n == 0 {
			t.Errorf("%s: Do = %v, an attempt's error, with no attempt made", name, err)
		}
		return
	}
	var re *retry.Error
	isError := errors.As(err, &re) && re == err
	if !isError {
		// Not an *Error of this call: none of its reasons, unless they
		// are those of a nested retry inside a permanent error.
		var reasons []string
		for _, r := range []error{retry.ErrAttempts, retry.ErrMaxElapsed, retry.ErrBudget} {
			if errors.Is(err, r) && !errors.As(err, new(*retry.Error)) {
				reasons = append(reasons, r.Error())
			}
		}
		// ctx.Err() itself, or a permanent error unwrapped.
		switch {
		case err == context.Canceled || err == context.DeadlineExceeded:
			if ctx.Err() != err {
				t.Errorf("%s: Do = %v, but ctx.Err() = %v", name, err, ctx.Err())
			}
		default:
			if _, ok := returned[err]; ok {
				t.Errorf("%s: Do = %v, a permanent error still marked Permanent", name, err)
			}
			found := false
			for e := range returned {
				if errors.Unwrap(e) == err && fmt.Sprintf("%T", e) != fmt.Sprintf("%T", err) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: Do = %v (%T), neither ctx's error nor an attempt's permanent error unwrapped", name, err, err)
			}
		}
		if len(reasons) != 0 {
			t.Errorf("%s: Do = %v matches %v", name, err, reasons)
		}
		return
	}
	if !errors.Is(err, re.Reason) {
		t.Errorf("%s: Do = %v does not match its own Reason %v", name, err, re.Reason)
	}
	switch re.Reason {
	case retry.ErrAttempts:
		if n != p.attempts {
			t.Errorf("%s: ErrAttempts after %d of %d attempts", name, n, p.attempts)
		}
	case retry.ErrMaxElapsed:
		if p.maxElapsed == 0 {
			t.Errorf("%s: ErrMaxElapsed without MaxElapsed", name)
		}
	case retry.ErrBudget:
		if !p.budget {
			t.Errorf("%s: ErrBudget without a budget", name)
		}
	default:
		if ctx.Err() == nil || re.Reason != ctx.Err() {
			t.Errorf("%s: Do = %v gives the reason %v, but ctx.Err() = %v", name, err, re.Reason, ctx.Err())
		}
	}
	if re.Attempts != n {
		t.Errorf("%s: Error.Attempts = %d, want %d calls", name, re.Attempts, n)
	}
	list := re.Errors()
	if len(list) == 0 || len(list) > 8 || list[len(list)-1] != re.Err || !errors.Is(err, re.Err) {
		t.Errorf("%s: Errors() = %v, Err = %v: want 1 to 8 errors ending with Err", name, list, re.Err)
	}
	seen := map[error]bool{}
	last := 0
	for _, e := range list {
		i, ok := returned[e]
		if !ok && p.attemptTimeout > 0 && errors.Is(e, timeout.ErrTimeout) {
			// An attempt that its timeout ended reports the timeout.
			ok, i = true, last+1
		}
		if !ok || seen[e] {
			t.Errorf("%s: Errors() lists %v, not an attempt's error, or twice", name, e)
		}
		if !hedged && i <= last {
			t.Errorf("%s: Errors() out of order: attempt %d after %d", name, i, last)
		}
		seen[e], last = true, i
	}
	if !hedged && re.Reason == retry.ErrAttempts && n <= 8 && len(list) != n {
		t.Errorf("%s: Errors() lists %d of %d failed attempts", name, len(list), n)
	}
	// One OnRetry per retry; one more if ctx ended during the last sleep.
	if !hedged && retries != n-1 && !(retries == n && ctx.Err() != nil) {
		t.Errorf("%s: OnRetry called %d times for %d attempts", name, retries, n)
	}
}
