package nursery

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"sync/atomic"

	"go.uber.org/multierr"
)

// closedBit marks, in Nursery.live, a nursery whose tasks have all returned.
// It is far above any count of live tasks.
const closedBit = 1 << 62

// A Nursery owns the tasks started in it. It exists only while the body
// passed to Run is running or any of its tasks is; Run waits for all of them.
//
// The body and every task may call the methods of the Nursery, from any
// goroutine, as long as the nursery is open. A Nursery is not valid unless
// Run made it: the zero value must not be used.
type Nursery struct {
	// c is the nursery's context (see nctx): cancelled by Cancel, by the
	// first failure, by the parent, and when Run returns.
	c      nctx
	parent context.Context

	// mu guards inner, stop and cause, the fields from first on, and what
	// st holds.
	mu sync.Mutex

	// inner is the standard context behind c, made on first use, and stop
	// its cancel func; innerMade says they are set. cancelled says the
	// nursery cancelled itself (Cancel, a failure, the end of Run), with
	// cause.
	inner     context.Context
	stop      context.CancelCauseFunc
	innerMade atomic.Bool
	cancelled atomic.Bool
	cause     error

	// live counts the body, the tasks that have not returned yet, and the
	// goroutine that feeds queued tasks to a full limit. When it drops to
	// zero it becomes closedBit, at which point idle is released. Go adds
	// one before it starts a goroutine, so a nursery cannot close while a Go
	// call from inside it is under way.
	live atomic.Int64
	idle sync.WaitGroup

	cfg *config // the options; nil without

	// canceledEcho records that a plain task returned context.Canceled, the
	// nursery's ctx.Err(), as an echo: later tasks returning it skip the
	// bookkeeping (there can be thousands of them at once).
	canceledEcho atomic.Bool

	// hasLinks says that st.lk is made: a cancel scope nested in the
	// nursery's context has linked itself to it (see relayState).
	hasLinks atomic.Bool

	// The first real error lives here, so that a nursery that fails once
	// allocates nothing for it; the rest, and whatever else only some
	// nurseries need, in st.
	firstHanded, firstCause bool
	echoed                  bool // some task returned only the echo of a cancellation
	first                   error
	st                      *state
}

// state is the part of a Nursery that only some nurseries need, made on
// first use under the lock.
type state struct {
	firstRaw  error   // the first error as its task returned it, if named
	firstAlts []error // what first was before replacements
	errs      []entry // the real errors after the first, in order
	panic     *PanicError
	echo      error // the first echo of the parent's cancellation, preferring one with words of its own
	echoOwn   bool  // echo has words of its own
	queue     taskQueue
	lk        *linkState
}

func (n *Nursery) stateLocked() *state {
	if n.st == nil {
		n.st = &state{}
	}
	return n.st
}

// panicked returns the first panic, if any.
func (n *Nursery) panicked() *PanicError {
	if n.st == nil {
		return nil
	}
	return n.st.panic
}

// An entry is one real error after the first, as Run will report it.
type entry struct {
	err error // as Run reports it: named, or replaced by an error wrapping it
	// raw is what the task returned (err without its name), and alts what
	// err was before a replacement: an error identical to any of these is
	// the same failure coming back.
	raw  error
	alts []error
	// handed is set if the error was also handed to user code (by
	// Task.Wait), and cause if it cancelled the nursery: only then can it
	// come back from another task or the body.
	handed, cause bool
}

// An origin says where an outcome came from.
type origin struct {
	name   string
	body   bool
	handed bool // the outcome is handed to user code as well (Task.Wait)
}

// Run runs body in the calling goroutine with a new Nursery, and returns only
// after body and every task started in the nursery have returned.
//
// The ctx passed to body and to every task is derived from ctx. It is
// cancelled when ctx is, when body returns a real error, when a task does
// (unless WithCollectAll is given), when any of them panics, and when Cancel
// is called; context.Cause reports which.
//
// Run returns nil if nothing failed. If exactly one real error occurred, Run
// returns that error unchanged, as errgroup does, so == and errors.Is work on
// it. If several occurred, Run returns one error that combines them all in the
// order they happened (see go.uber.org/multierr): errors.Is and errors.As reach
// each, and multierr.Errors lists them.
//
// Errors that only echo the nursery's own cancellation are not real errors
// and are dropped: an error that is, or wraps nothing but, the nursery's
// ctx.Err() or context.Cause(ctx), returned by a task or the body once that
// ctx is done. The test is one of identity: a context.DeadlineExceeded from
// a context the task made for itself is real while the nursery was
// cancelled (its ctx.Err() is context.Canceled). A task's own cancellation
// that it returns as context.Canceled cannot be told from the nursery's; if
// it matters, cancel with a cause of your own (context.WithCancelCause) and
// return that.
//
// The same failure is reported once: an error that a task returned and Wait
// handed to the body, or that cancelled the nursery, is dropped when it comes
// back unchanged from another task or the body; if the body wraps it
// ("flushing: %w"), the wrapped error takes its place.
//
// If ctx itself was cancelled and the tasks returned only echoes, Run returns
// the first echo of ctx's cancellation unchanged, preferring one that says
// more than the bare context error (such as `Get "...": context canceled`),
// and context.Canceled itself if the tasks returned bare ctx.Err(); it
// matches errors.Is(err, ctx.Err()) either way. context.Cause(ctx) says why
// ctx was cancelled.
//
// If body or a task panics, the nursery is cancelled, Run waits for the rest,
// and then panics in its own goroutine with a *PanicError that carries the
// first panic's value and stack, and every real error as Suppressed.
//
// The return of every task, and of body, happens before Run returns.
//
// Run panics at once if ctx or body is nil.
func Run(ctx context.Context, body func(ctx context.Context, n *Nursery) error, opts ...Option) error {
	if ctx == nil {
		panic("nursery: Run called with a nil context")
	}
	if body == nil {
		panic("nursery: Run called with a nil body")
	}
	n := &Nursery{}
	if len(opts) > 0 {
		n.cfg = parseOptions(opts, "Run") // kept out of line: the common call allocates nothing for options
	}
	site := n.siteOf(body)
	if n.cfg != nil && n.cfg.signals != nil {
		return n.runSignalled(ctx, body, n.cfg.signals, site)
	}
	return n.runBody(ctx, body, site)
}

// siteOf returns, if n may be tracked, the entry of body, which says where
// the nursery was started (for a function literal, where Run is called); 0
// otherwise, at the cost of one atomic load when nothing is tracked.
func (n *Nursery) siteOf(body any) uintptr {
	if trackedNow.active.Load() == 0 && !trackedNow.all.Load() && (n.cfg == nil || !n.cfg.track) {
		return 0
	}
	return funcPC(body)
}

// runBody is Run, once the options are applied.
func (n *Nursery) runBody(ctx context.Context, body func(ctx context.Context, n *Nursery) error, site uintptr) error {
	if observedNow.active.Load() != 0 || trace.IsEnabled() || n.cfg != nil && n.cfg.observer != nil {
		ctx = n.observe(ctx, body) // observers, and runtime/trace: see observer.go
	}
	n.begin(ctx)
	n.live.Store(1) // the body
	n.idle.Add(1)
	var stuck *stuckWatch
	if site != 0 {
		n.track(ctx, site)
		if n.cfg != nil && n.cfg.stuck != nil {
			stuck = n.watchStuck()
		}
	}
	if n.cfg != nil {
		n.cfg.perTask = n.cfg.tr != nil || n.cfg.limited() || n.observesTasks()
	}

	normal := false
	defer func() {
		if !normal {
			n.bodyUnwound(recover(), stuck)
		}
	}()
	err, labelled := n.callBody(body)
	if err != nil {
		n.cancelWith(n.fail(n.taskCtx(), err, origin{body: true}))
	}
	normal = true
	if tr := n.trackerOf(); tr != nil {
		n.bodyReturned(tr, stuck) // Run waits from now on
	}
	n.done()
	if labelled != nil {
		waitLabelled(&n.idle, labelled, n.taskCtx())
	} else {
		n.idle.Wait()
	}
	n.finish(stuck)
	if n.cfg != nil && n.cfg.obs != nil {
		return n.observed(n.result)
	}
	return n.result()
}

// finish ends the nursery once every task has returned: its context is
// done, and nothing of it is left in the tree.
func (n *Nursery) finish(stuck *stuckWatch) {
	if stuck != nil {
		stuck.stop()
	}
	n.end()
	if n.cfg != nil && n.cfg.tr != nil {
		n.untrack()
	}
}

// callBody calls body, under the pprof label of the nursery's name if it has
// one; it returns the labelled context then, for the wait that follows.
func (n *Nursery) callBody(body func(ctx context.Context, n *Nursery) error) (err error, labelled context.Context) {
	if n.cfg == nil || n.cfg.name == "" {
		return body(n.taskCtx(), n), nil
	}
	pprof.Do(n.taskCtx(), pprof.Labels("nursery", n.cfg.name), func(ctx context.Context) {
		labelled = ctx
		err = body(ctx, n)
	})
	return err, labelled
}

// bodyUnwound handles a body that panicked (r != nil) or called
// runtime.Goexit (r == nil): the tasks are cancelled and joined before the
// goroutine goes on unwinding.
func (n *Nursery) bodyUnwound(r any, stuck *stuckWatch) {
	var goexit error
	if r != nil {
		p := newPanicError(r, origin{body: true})
		n.cancel(n.recordPanic(p, origin{body: true}))
	} else {
		goexit = goexitError(origin{body: true})
		n.cancel(goexit)
	}
	n.done()
	n.idle.Wait()
	n.finish(stuck)
	if n.panicked() != nil {
		if goexit != nil {
			n.appendLocked(goexit, goexit, false, false) // not lost behind the panic
		}
		p := n.finalPanic()
		n.endObserved(p)
		panic(p)
	}
	if errs := n.errors(); len(errs) > 0 {
		// Run cannot return them, and the goroutine is going away: rather
		// than lose the tasks' errors, turn the Goexit into a panic that
		// carries them.
		p := &PanicError{Value: goexit, body: true, goexit: true, Suppressed: errs}
		n.endObserved(p)
		panic(p)
	}
	n.endObserved(goexit)
	// The body called runtime.Goexit and nothing failed: let it go on.
}

// result is Run's outcome once every task has returned.
func (n *Nursery) result() error {
	if n.panicked() != nil {
		panic(n.finalPanic())
	}
	switch {
	case n.first == nil:
	case n.st == nil || len(n.st.errs) == 0 || n.cfg != nil && n.cfg.firstError:
		return n.first
	default:
		return multierr.Combine(n.errors()...)
	}
	if n.echoed || n.canceledEcho.Load() {
		return n.parentEcho()
	}
	return nil
}

// parentEcho is the error that reports the parent's cancellation: the first
// echo of it that a task returned, or the parent's own error; nil if the
// parent is not done.
//
// An echo that is the parent's cause and does not match its error (a
// CancelCauseFunc given errors.New("user pressed stop")) keeps its words and
// is wrapped so that errors.Is(err, ctx.Err()) holds, as Run promises.
func (n *Nursery) parentEcho() error {
	err := n.parent.Err()
	if err != nil && n.st != nil && n.st.echo != nil {
		if !errors.Is(n.st.echo, err) {
			return &causeEcho{cause: n.st.echo, ctxErr: err}
		}
		return n.st.echo
	}
	return err
}

// A causeEcho is the cause of a parent's cancellation, reported by Run as
// the echo of that cancellation: its words, and errors.Is matches both the
// cause and the parent's context error.
type causeEcho struct {
	cause, ctxErr error
}

func (e *causeEcho) Error() string        { return e.cause.Error() }
func (e *causeEcho) Unwrap() error        { return e.cause }
func (e *causeEcho) Is(target error) bool { return target == e.ctxErr }

// errors returns the real errors, in order.
func (n *Nursery) errors() []error {
	if n.first == nil {
		return nil
	}
	errs := []error{n.first}
	if n.st != nil {
		for _, e := range n.st.errs {
			errs = append(errs, e.err)
		}
	}
	return errs
}

// finalPanic is the value Run panics with: the first panic, with every real
// error as Suppressed. It is a copy: the first panic may have been handed to
// user code by Task.Wait, and must not change under its feet.
func (n *Nursery) finalPanic() *PanicError {
	first := n.st.panic
	p := *first
	p.Suppressed = append(append([]error(nil), first.Suppressed...), n.errors()...)
	return &p
}

// Go starts fn in a new goroutine owned by the nursery, and returns.
//
// fn receives the nursery's context. If fn returns a real error, the nursery
// is cancelled (unless WithCollectAll was given) and Run returns the error.
//
// With WithLimit(k), Go waits until fewer than k tasks are running. If the
// nursery is cancelled while Go waits, Go returns at once, and fn runs, with
// its context already cancelled, as soon as a slot frees: a cancelled nursery
// never blocks the goroutine that feeds it. Such tasks wait in a queue, not
// in goroutines of their own.
//
// Go may be called by the body, by any task, or by any goroutine that holds n,
// until Run has returned. Called while the nursery is cancelling, Go still
// runs fn, with a context that is already done, so cleanup code can rely on
// it. Called after Run has returned, Go panics with an error that wraps
// ErrClosed, and fn never runs. Go panics if fn is nil.
func (n *Nursery) Go(fn func(ctx context.Context) error, opts ...TaskOption) {
	if fn == nil {
		panic("nursery: Go called with a nil function")
	}
	if len(opts) != 0 {
		s := n.newSpec(n.taskCtx(), fn, opts)
		s.user = fn
		n.enter("Go")
		n.launch(s)
		return
	}
	n.enter("Go")
	if n.cfg != nil && n.cfg.perTask {
		n.goConfigured(fn) // out of line: limits, tracking, observers
		return
	}
	go n.run(fn)
}

// goConfigured is Go for a nursery with options: under a limit, tracked,
// observed or traced.
func (n *Nursery) goConfigured(fn func(ctx context.Context) error) {
	q := queued{fn: fn}
	if o := n.cfg.obs; o != nil {
		if o.watching {
			n.goObserved(fn) // see observer.go
			return
		}
		q.traced = o.traced != nil
	}
	if tr := n.cfg.tr; tr != nil {
		q.rec = tr.open("", fn, false)
	}
	if n.cfg.limited() && !n.acquire(q) {
		return // queued, or refused
	}
	n.start(q)
}

// start starts q's goroutine, with its slot if it needs one.
func (n *Nursery) start(q queued) {
	switch {
	case q.s != nil:
		go n.runSpec(q.s)
	case q.traced:
		go n.runTraced(q.fn, q.rec)
	case q.rec != nil:
		go n.runTracked(q.fn, q.rec)
	default:
		go n.run(q.fn)
	}
}

// Cancel cancels the nursery: the ctx of body and of every task is cancelled
// with cause (context.Canceled if cause is nil, as for a
// context.CancelCauseFunc). Cancel does not wait for the tasks to return;
// Run does. Cancelling is not a failure: Run returns nil unless a real error
// happened. Cancel is idempotent, only the first cause is kept, and calling
// it after Run has returned does nothing.
func (n *Nursery) Cancel(cause error) {
	if n.parent == nil {
		panic("nursery: Cancel called on a Nursery that Run did not create")
	}
	n.cancel(cause)
}

// ctx is the nursery's context.
func (n *Nursery) ctx() context.Context { return &n.c }

// enter counts one more task, or panics if the nursery has finished.
func (n *Nursery) enter(what string) {
	if n.parent == nil {
		panic("nursery: " + what + " called on a Nursery that Run did not create")
	}
	if n.live.Add(1)&closedBit != 0 {
		panic(fmt.Errorf("nursery: %s called after Run returned: %w", what, ErrClosed))
	}
}

// tryEnter is enter for callers that report a closed nursery as an error.
func (n *Nursery) tryEnter(what string) bool {
	if n.parent == nil {
		panic("nursery: " + what + " called on a Nursery that Run did not create")
	}
	return n.live.Add(1)&closedBit == 0
}

// done counts a task (or the body) out; the last one out closes the nursery.
func (n *Nursery) done() {
	if n.live.Add(-1) == 0 && n.live.CompareAndSwap(0, closedBit) {
		n.idle.Done()
	}
}

// run is the goroutine of a plain task. It is kept apart from runSpec so that
// a plain Go costs one allocation of 24 bytes, as a bare go statement with a
// closure does; both end through unwound and fail.
func (n *Nursery) run(fn func(context.Context) error) {
	normal := false
	defer func() {
		if !normal {
			p, goexit := unwound(recover(), origin{})
			n.cancel(n.recordUnwound(p, goexit, origin{}))
		}
		n.leave()
	}()
	ctx := n.ctx()
	if err := fn(ctx); err != nil && !n.knownEcho(err) {
		n.cancelWith(n.fail(ctx, err, origin{})) // inside the recover: it may call the error's methods
	}
	normal = true
}
