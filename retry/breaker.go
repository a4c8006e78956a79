package retry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ErrOpen is wrapped by the error of a call that a Breaker turned away:
// the breaker is open, or half-open with all its probes taken. The error
// names the failure that opened the breaker, and carries the time left
// until it lets a probe through as a server's hint (see After), so that
// Do with WithBreaker waits that long before its next attempt.
var ErrOpen = errors.New("retry: circuit breaker open")

// A BreakerState is the state of a Breaker.
type BreakerState int

const (
	// BreakerClosed: calls go through; failures are counted.
	BreakerClosed BreakerState = iota
	// BreakerOpen: calls are turned away with ErrOpen, until the open
	// time has passed.
	BreakerOpen
	// BreakerHalfOpen: a few calls (the probes) go through; their outcome
	// closes the breaker or opens it again.
	BreakerHalfOpen
)

// String names the state: "closed", "open" or "half-open".
func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("BreakerState(%d)", int(s))
}

// A Breaker is a circuit breaker: it stops calling a downstream that keeps
// failing, for a while, and then lets a few probe calls through to see
// whether it has recovered. Share one Breaker between all the calls to one
// downstream; it is safe for concurrent use.
//
// Closed, it lets every call through and counts the failures. It opens when
// ConsecutiveFailures calls in a row fail (5 unless set), or when, among the
// calls of its sliding window (Window, 10 seconds unless set; or
// WindowCalls), at least FailureRatio's minimum have been made and the
// share of failures reaches its ratio (half of at least 20 calls unless
// set). A call slower than SlowCall's duration counts as a failure, if it
// is set. Open, it turns every call away at once with an error that wraps
// ErrOpen, names the failure that opened it and says how long it stays
// open (OpenFor, 5 seconds unless set). Then it is half-open: it lets
// HalfOpen's probes through (3 unless set) and closes when enough of them
// succeed (all 3 unless set), or opens again as soon as too many fail for
// that. Other calls are turned away meanwhile.
//
// Which errors are failures: every error but the caller's own
// cancellation (an error matching context.Canceled once ctx is done) and
// the refusals of another Breaker or a Throttle (ErrOpen, ErrThrottled:
// the call never reached the downstream); the end of a context's deadline
// is a failure (the downstream was too slow). FailureIf narrows that down,
// to server errors for instance. A panic in the call is not counted. A
// probe whose caller gave up gives its place to another.
//
// The move from open to half-open is made by the first call, or State,
// after the open time; no timer runs meanwhile. OnStateChange reports
// every change, in order.
type Breaker struct {
	cfg breakerConfig

	epoch       time.Time // the times below are since epoch
	mu          sync.Mutex
	state       BreakerState
	gen         uint64 // bumped at each change of state: outcomes of older calls are dropped
	until       time.Duration
	cause       error // the failure that opened the breaker
	consecutive int
	window      breakerWindow
	probes      int // half-open: probes admitted, and the outcomes so far
	succeeded   int
	failed      int
	inflight    map[*inflightCall]struct{} // with CancelOnOpen

	events      []stateChange // changes not yet reported
	dispatching bool
}

type stateChange struct{ from, to BreakerState }

// NewBreaker returns a closed Breaker. It panics if an option is nil.
func NewBreaker(opts ...BreakerOption) *Breaker {
	c := breakerConfig{
		consecutive: 5,
		ratio:       0.5,
		minCalls:    20,
		window:      10 * time.Second,
		openFor:     5 * time.Second,
		probes:      3,
		successes:   3,
	}
	for _, o := range opts {
		if o == nil {
			panic("retry: NewBreaker called with a nil BreakerOption")
		}
		o.applyBreaker(&c)
	}
	b := &Breaker{cfg: c, epoch: time.Now()}
	b.window.init(c.window, c.windowCalls)
	return b
}

// State returns the breaker's state. An open breaker whose open time has
// passed is half-open, and reported so.
func (b *Breaker) State() BreakerState {
	b.mu.Lock()
	b.tick(b.now())
	s := b.state
	b.mu.Unlock()
	b.report()
	return s
}

// Do calls fn if the breaker lets the call through, counts its outcome, and
// returns its error. If the breaker turns the call away, Do returns an
// error wrapping ErrOpen without calling fn. If ctx is already done, Do
// returns ctx.Err() without calling fn. A panic in fn goes up through Do
// unchanged, and is not counted. Do panics if ctx or fn is nil.
//
// Under CancelOnOpen, fn's ctx is cancelled when the breaker opens while fn
// runs, and Do then returns the error that says why.
func (b *Breaker) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	return guardDo(ctx, "Breaker", b, nil, fn)
}

// guardDo is the Do of a Breaker and of a Throttle.
func guardDo(ctx context.Context, who string, b *Breaker, t *Throttle, fn func(ctx context.Context) error) error {
	if ctx == nil {
		panic("retry: " + who + ".Do called with a nil context")
	}
	if fn == nil {
		panic("retry: " + who + ".Do called with a nil function")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := guard(ctx, b, t, errFunc(fn), func(ctx context.Context, f errFunc) (struct{}, error) {
		return f.call(ctx)
	})
	return err
}

// A guardCall is one call let through a Breaker.
type guardCall struct {
	gen   uint64
	probe bool
	start time.Duration // with SlowCall
	entry *inflightCall // with CancelOnOpen
}

// An inflightCall is a call that the breaker cancels if it opens.
type inflightCall struct{ cancel context.CancelCauseFunc }

// now returns the time since b was made: time.Since is cheaper than
// time.Now, and a closed breaker reads the clock once per call.
func (b *Breaker) now() time.Duration { return time.Since(b.epoch) }

// enter decides whether a call may go through now. If it may, it returns
// the call's ticket, and under CancelOnOpen a context the breaker cancels
// if it opens; if not, an error wrapping ErrOpen, with a hint. It does not
// report the change it may have made (to half-open): its caller calls
// report once it can give the ticket back should OnStateChange panic.
func (b *Breaker) enter(ctx context.Context) (guardCall, context.Context, error) {
	var now time.Duration
	if b.cfg.slow > 0 {
		now = b.now()
	}
	b.mu.Lock()
	if b.state != BreakerClosed {
		if now == 0 {
			now = b.now()
		}
		b.tick(now)
	}
	var err error
	call := guardCall{gen: b.gen, start: now}
	switch b.state {
	case BreakerOpen:
		err = After(b.until-now, &openError{remaining: b.until - now, cause: b.cause})
	case BreakerHalfOpen:
		if b.probes >= b.cfg.probes {
			err = &openError{halfOpen: true, cause: b.cause}
		} else {
			b.probes++
			call.probe = true
		}
	}
	if err == nil && b.cfg.cancelOnOpen {
		call.entry = &inflightCall{}
		ctx, call.entry.cancel = context.WithCancelCause(ctx)
		if b.inflight == nil {
			b.inflight = map[*inflightCall]struct{}{}
		}
		b.inflight[call.entry] = struct{}{}
	}
	b.mu.Unlock()
	if err != nil {
		return guardCall{}, nil, err
	}
	return call, ctx, nil
}

// exit counts the outcome of a call that enter let through: err is its
// error, ctx the caller's context (to tell its cancellation apart), and
// ignore says the call panicked. It does not report the change it may have
// made: its caller calls report.
func (b *Breaker) exit(call guardCall, ctx context.Context, err error, ignore bool) {
	// FailureIf is the caller's: it runs before the lock is taken, and if
	// it panics, the call gives its place back, as a call that panicked
	// does, and the panic goes on.
	failureIf := true
	if err != nil && !ignore && b.cfg.failureIf != nil {
		normal := false
		defer func() {
			if !normal {
				b.exit(call, ctx, err, true)
			}
		}()
		failureIf = b.cfg.failureIf(err)
		normal = true
	}
	now := b.now()
	b.mu.Lock()
	if call.entry != nil {
		delete(b.inflight, call.entry)
		call.entry.cancel(nil)
	}
	if ignore || err != nil && (ctx.Err() != nil && errors.Is(err, context.Canceled) || refused(err)) {
		// Says nothing of the downstream (the caller gave up, or
		// another breaker or throttle refused the call before it
		// reached it); a probe gives its place.
		if call.probe && call.gen == b.gen {
			b.probes--
		}
		b.mu.Unlock()
		return
	}
	failure := err != nil && failureIf
	if !failure && b.cfg.slow > 0 {
		if d := now - call.start; d > b.cfg.slow {
			failure = true
			err = fmt.Errorf("slow call: took %v, more than %v", d.Round(time.Millisecond), b.cfg.slow)
		}
	}
	if call.gen == b.gen {
		b.count(now, failure, err, call.probe)
	}
	b.mu.Unlock()
}

// count takes the outcome of a call of the current state. It must be
// called with mu held.
func (b *Breaker) count(now time.Duration, failure bool, err error, probe bool) {
	switch b.state {
	case BreakerClosed:
		b.window.add(now, failure)
		if !failure {
			b.consecutive = 0
			return
		}
		b.consecutive++
		calls, failures := b.window.counts(now)
		if b.cfg.consecutive > 0 && b.consecutive >= b.cfg.consecutive ||
			b.cfg.ratio > 0 && calls >= b.cfg.minCalls && float64(failures) >= b.cfg.ratio*float64(calls) {
			b.open(now, err)
		}
	case BreakerHalfOpen:
		if !probe {
			return
		}
		if failure {
			b.failed++
			if b.failed > b.cfg.probes-b.cfg.successes {
				b.open(now, err)
			}
			return
		}
		b.succeeded++
		if b.succeeded >= b.cfg.successes {
			b.set(BreakerClosed)
		}
	}
}

// tick moves an open breaker whose time has passed to half-open. It must
// be called with mu held.
func (b *Breaker) tick(now time.Duration) {
	if b.state == BreakerOpen && now >= b.until {
		b.set(BreakerHalfOpen)
	}
}

// open opens the breaker because of err, and cancels the calls in flight
// under CancelOnOpen. It must be called with mu held.
func (b *Breaker) open(now time.Duration, err error) {
	b.cause = err
	b.until = now + b.cfg.openFor
	b.set(BreakerOpen)
	if len(b.inflight) > 0 {
		cause := &openError{remaining: b.cfg.openFor, cause: err}
		for call := range b.inflight {
			call.cancel(cause)
			delete(b.inflight, call)
		}
	}
}

// set changes the state, resets what the new state counts, and queues the
// change for OnStateChange. It must be called with mu held.
func (b *Breaker) set(to BreakerState) {
	from := b.state
	b.state = to
	b.gen++
	b.consecutive = 0
	b.probes, b.succeeded, b.failed = 0, 0, 0
	if to == BreakerClosed {
		b.window.reset()
	}
	if b.cfg.onChange != nil {
		b.events = append(b.events, stateChange{from, to})
	}
}

// report calls OnStateChange for the changes queued, in order, from one
// goroutine at a time and without holding mu. If OnStateChange panics (or
// calls runtime.Goexit), the panic goes on up, and the changes still
// queued are reported by the next call to report.
func (b *Breaker) report() {
	if b.cfg.onChange == nil {
		return
	}
	b.mu.Lock()
	if b.dispatching {
		b.mu.Unlock()
		return // the goroutine dispatching will report them
	}
	b.dispatching = true
	done := false
	defer func() {
		if !done { // OnStateChange panicked, with mu unlocked
			b.mu.Lock()
			b.dispatching = false
			b.mu.Unlock()
		}
	}()
	for len(b.events) > 0 {
		e := b.events[0]
		b.events = b.events[1:]
		b.mu.Unlock()
		b.cfg.onChange(e.from, e.to)
		b.mu.Lock()
	}
	// Under the lock that saw no more events: a change queued after this
	// finds dispatching false, and its goroutine reports it.
	b.dispatching = false
	done = true
	b.mu.Unlock()
}

// openError is the refusal of an open (or half-open) breaker.
type openError struct {
	halfOpen  bool
	remaining time.Duration
	cause     error
}

func (e *openError) Error() string {
	var s strings.Builder
	if e.halfOpen {
		s.WriteString("retry: circuit breaker half-open, its probes in flight")
	} else {
		fmt.Fprintf(&s, "retry: circuit breaker open for %v more", e.remaining.Round(time.Millisecond))
	}
	if e.cause != nil {
		s.WriteString(": opened by: ")
		s.WriteString(e.cause.Error())
	}
	return s.String()
}

func (e *openError) Unwrap() error { return ErrOpen }

// A breakerWindow counts the calls and failures of the last window of
// time, or of the last n calls.
type breakerWindow struct {
	time     tally  // calls, failures; unless ring
	ring     []bool // the last n outcomes (true for a failure), with WindowCalls
	next     int
	filled   int
	failures int
}

func (w *breakerWindow) init(d time.Duration, calls int) {
	if calls > 0 {
		w.ring = make([]bool, calls)
		return
	}
	w.time.init(d)
}

func (w *breakerWindow) reset() {
	w.time.reset()
	clear(w.ring)
	w.next, w.filled, w.failures = 0, 0, 0
}

func (w *breakerWindow) add(now time.Duration, failure bool) {
	if w.ring == nil {
		w.time.add(now, 0, 1)
		if failure {
			w.time.add(now, 1, 1)
		}
		return
	}
	if w.filled == len(w.ring) && w.ring[w.next] {
		w.failures--
	}
	w.ring[w.next] = failure
	if failure {
		w.failures++
	}
	w.next = (w.next + 1) % len(w.ring)
	w.filled = min(w.filled+1, len(w.ring))
}

func (w *breakerWindow) counts(now time.Duration) (calls, failures int) {
	if w.ring == nil {
		return w.time.sums(now)
	}
	return w.filled, w.failures
}

// A tally counts two things over a sliding window of time, in ten steps.
type tally struct {
	span    time.Duration // of a bucket
	buckets [10][2]int
	first   time.Duration // start of buckets[head], since the owner's epoch
	started bool
	head    int
}

func (t *tally) init(window time.Duration) { t.span = max(window/10, 1) }

func (t *tally) reset() { *t = tally{span: t.span} }

// advance drops the buckets older than the window.
func (t *tally) advance(now time.Duration) {
	if !t.started {
		t.first, t.started = now, true
		return
	}
	for n := 0; now-t.first >= t.span && n < len(t.buckets); n++ {
		t.head = (t.head + 1) % len(t.buckets)
		t.buckets[t.head] = [2]int{}
		t.first += t.span
	}
	if now-t.first >= t.span { // idle for a whole window
		t.first = now
	}
}

// add adds n to the i-th count, now; the count of the current step does
// not go below 0.
func (t *tally) add(now time.Duration, i, n int) {
	t.advance(now)
	t.buckets[t.head][i] = max(t.buckets[t.head][i]+n, 0)
}

// sums returns the two counts over the window.
func (t *tally) sums(now time.Duration) (a, b int) {
	t.advance(now)
	for _, c := range t.buckets {
		a += c[0]
		b += c[1]
	}
	return a, b
}

// guard makes one call through a Throttle and a Breaker (either may be
// nil), as Do's attempts and their own Do methods do: the throttle may
// refuse it, then the breaker may; if both let it through, call runs it
// and both count its outcome. The breaker's changes are reported (and
// OnStateChange may panic) only once the bookkeeping of the call is done,
// or would be undone by the deferred function if the report panicked.
func guard[T any, F any](ctx context.Context, b *Breaker, t *Throttle, f F, call func(context.Context, F) (T, error)) (T, error) {
	var zero T
	if t != nil {
		if err := t.enter(); err != nil {
			return zero, err
		}
	}
	var ticket guardCall
	inner := ctx
	if b != nil {
		var err error
		if ticket, inner, err = b.enter(ctx); err != nil {
			if t != nil {
				t.forget()
			}
			b.report()
			return zero, err
		}
	}
	ended := false
	defer func() {
		if !ended { // call or OnStateChange panicked: nothing to count
			if b != nil {
				b.exit(ticket, ctx, nil, true)
			}
			if t != nil {
				t.forget()
			}
		}
	}()
	if b != nil {
		b.report() // the move to half-open that enter may have made
	}
	v, err := call(inner, f)
	ended = true
	if err != nil && inner != ctx && ctx.Err() == nil {
		var open *openError
		if errors.As(context.Cause(inner), &open) {
			err = open // the breaker opened while the call ran, and cancelled it
		}
	}
	if b != nil {
		b.exit(ticket, ctx, err, false)
	}
	if t != nil {
		t.exit(ctx, err)
	}
	if b != nil {
		b.report()
	}
	return v, err
}
