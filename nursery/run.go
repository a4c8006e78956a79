package nursery

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/internal/echo"
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
	ctx    context.Context
	cancel context.CancelCauseFunc
	parent context.Context

	// live counts the body, the tasks that have not returned yet, and the
	// goroutine that feeds queued tasks to a full limit. When it drops to
	// zero it becomes closedBit, at which point idle is released. Go adds
	// one before it starts a goroutine, so a nursery cannot close while a Go
	// call from inside it is under way.
	live atomic.Int64
	idle sync.WaitGroup

	sem        chan struct{} // one token per running task; nil without a limit
	collectAll bool

	// canceledEcho records that a plain task returned context.Canceled, the
	// nursery's ctx.Err(), as an echo: later tasks returning it skip the
	// bookkeeping (there can be thousands of them at once).
	canceledEcho atomic.Bool

	mu      sync.Mutex
	errs    []entry     // real errors in the order they happened
	panic   *PanicError // the first panic, if any
	echoed  bool        // some task returned only the echo of a cancellation
	echo    error       // the first echo of the parent's cancellation, preferring one with words of its own
	echoOwn bool        // echo has words of its own
	queue   taskQueue   // tasks waiting for a slot after cancellation
}

// An entry is one real error, as Run will report it.
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
		o := parseOptions(opts)
		n.configure(&o)
		if o.signals != nil {
			return n.runSignalled(ctx, body, o.signals)
		}
	}
	return n.runBody(ctx, body)
}

// configure applies the options that shape the nursery itself.
func (n *Nursery) configure(o *options) {
	if o.limit > 0 {
		n.sem = make(chan struct{}, o.limit)
	}
	n.collectAll = o.collectAll
}

// runBody is Run, once the options are applied.
func (n *Nursery) runBody(ctx context.Context, body func(ctx context.Context, n *Nursery) error) error {
	n.parent = ctx
	n.ctx, n.cancel = context.WithCancelCause(ctx)
	n.live.Store(1) // the body
	n.idle.Add(1)

	normal := false
	defer func() {
		if !normal {
			n.bodyUnwound(recover())
		}
	}()
	if err := body(n.ctx, n); err != nil {
		n.cancelWith(n.fail(n.ctx, err, origin{body: true}))
	}
	normal = true
	n.done()
	n.idle.Wait()
	n.cancel(ErrClosed)
	return n.result()
}

// bodyUnwound handles a body that panicked (r != nil) or called
// runtime.Goexit (r == nil): the tasks are cancelled and joined before the
// goroutine goes on unwinding.
func (n *Nursery) bodyUnwound(r any) {
	var goexit error
	if r != nil {
		p := newPanicError(r, origin{body: true})
		n.recordPanic(p, origin{body: true})
		n.cancel(p)
	} else {
		goexit = goexitError(origin{body: true})
		n.cancel(goexit)
	}
	n.done()
	n.idle.Wait()
	n.cancel(ErrClosed)
	if n.panic != nil {
		if goexit != nil {
			n.errs = append(n.errs, entry{err: goexit, raw: goexit}) // not lost behind the panic
		}
		panic(n.finalPanic())
	}
	if len(n.errs) > 0 {
		// Run cannot return them, and the goroutine is going away: rather
		// than lose the tasks' errors, turn the Goexit into a panic that
		// carries them.
		panic(&PanicError{Value: goexit, body: true, goexit: true, Suppressed: n.errors()})
	}
	// The body called runtime.Goexit and nothing failed: let it go on.
}

// result is Run's outcome once every task has returned.
func (n *Nursery) result() error {
	if n.panic != nil {
		panic(n.finalPanic())
	}
	switch len(n.errs) {
	case 0:
	case 1:
		return n.errs[0].err
	default:
		return multierr.Combine(n.errors()...)
	}
	if n.echoed {
		return n.parentEcho()
	}
	return nil
}

// parentEcho is the error that reports the parent's cancellation: the first
// echo of it that a task returned, or the parent's own error; nil if the
// parent is not done.
func (n *Nursery) parentEcho() error {
	err := n.parent.Err()
	if err != nil && n.echo != nil {
		return n.echo
	}
	return err
}

// errors returns the real errors, in order.
func (n *Nursery) errors() []error {
	errs := make([]error, len(n.errs))
	for i, e := range n.errs {
		errs[i] = e.err
	}
	return errs
}

// finalPanic is the value Run panics with: the first panic, with every real
// error as Suppressed. It is a copy: the first panic may have been handed to
// user code by Task.Wait, and must not change under its feet.
func (n *Nursery) finalPanic() *PanicError {
	p := *n.panic
	p.Suppressed = append(append([]error(nil), n.panic.Suppressed...), n.errors()...)
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
		s := n.newSpec(n.ctx, fn, opts)
		n.enter("Go")
		n.launch(s)
		return
	}
	n.enter("Go")
	if n.sem != nil && !n.acquire() {
		n.enqueue(queued{fn: fn})
		return
	}
	go n.run(fn)
}

// Cancel cancels the nursery: the ctx of body and of every task is cancelled
// with cause (context.Canceled if cause is nil, as for a
// context.CancelCauseFunc). Cancel does not wait for the tasks to return;
// Run does. Cancelling is not a failure: Run returns nil unless a real error
// happened. Cancel is idempotent, only the first cause is kept, and calling
// it after Run has returned does nothing.
func (n *Nursery) Cancel(cause error) {
	if n.cancel == nil {
		panic("nursery: Cancel called on a Nursery that Run did not create")
	}
	n.cancel(cause)
}

// enter counts one more task, or panics if the nursery has finished.
func (n *Nursery) enter(what string) {
	if n.ctx == nil {
		panic("nursery: " + what + " called on a Nursery that Run did not create")
	}
	if n.live.Add(1)&closedBit != 0 {
		panic(fmt.Errorf("nursery: %s called after Run returned: %w", what, ErrClosed))
	}
}

// tryEnter is enter for callers that report a closed nursery as an error.
func (n *Nursery) tryEnter(what string) bool {
	if n.ctx == nil {
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

// acquire takes a slot under the limit. It reports false, without a slot, if
// the nursery was cancelled while it waited.
func (n *Nursery) acquire() bool {
	select {
	case n.sem <- struct{}{}:
		return true
	default:
	}
	// Full. Let the running tasks run once before blocking: short tasks
	// often free a slot meanwhile, which saves parking in the select below
	// (it costs twice a plain channel send, as it also watches ctx).
	runtime.Gosched()
	select {
	case n.sem <- struct{}{}:
		return true
	default:
	}
	select {
	case n.sem <- struct{}{}:
		return true
	case <-n.ctx.Done():
		return false
	}
}

// leave releases the slot and counts the task out.
func (n *Nursery) leave() {
	if n.sem != nil {
		<-n.sem
	}
	n.done()
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
	if err := fn(n.ctx); err != nil && !n.knownEcho(err) {
		n.cancelWith(n.fail(n.ctx, err, origin{})) // inside the recover: it may call the error's methods
	}
	normal = true
}

// knownEcho is the fast path of fail for the commonest echo: context.Canceled
// returned by a plain task once another has returned it as an echo. When
// thousands of cancelled tasks return it at once, each skips the
// bookkeeping.
func (n *Nursery) knownEcho(err error) bool {
	return err == context.Canceled && n.canceledEcho.Load()
}

// unwound describes a task that panicked (r != nil) or called
// runtime.Goexit: the *PanicError, or the error that stands for the Goexit.
// It must be called from the deferred function, so that the stack of the
// panic is still there to be captured.
func unwound(r any, o origin) (*PanicError, error) {
	if r != nil {
		return newPanicError(r, o), nil
	}
	return nil, goexitError(o)
}

// recordUnwound records what unwound described, and returns the cause to
// cancel the nursery with (see fail): a task that did not return is a
// failure, also in collect-all mode.
func (n *Nursery) recordUnwound(p *PanicError, goexit error, o origin) error {
	if p != nil {
		n.recordPanic(p, o)
		return p
	}
	n.mu.Lock()
	n.errs = append(n.errs, entry{err: goexit, raw: goexit, handed: o.handed, cause: true})
	n.mu.Unlock()
	return goexit
}

// cancelWith cancels the nursery with cause, if there is one.
func (n *Nursery) cancelWith(cause error) {
	if cause != nil {
		n.cancel(cause)
	}
}

// recordPanic keeps the first panic; the caller cancels the nursery with it,
// also in collect-all mode: a panic is a bug, not a result. Later panics are
// kept as errors and end up in the first one's Suppressed.
func (n *Nursery) recordPanic(p *PanicError, o origin) {
	n.mu.Lock()
	if n.panic == nil {
		n.panic = p
	} else {
		n.errs = append(n.errs, entry{err: p, raw: p, handed: o.handed})
	}
	n.mu.Unlock()
}

// fail records err, returned by work that ran under ctx, from o. It drops
// the echo of a cancellation and a failure already recorded; it keeps a real
// error and, if it is the first and the nursery is not in collect-all mode
// (or if it comes from the body), returns it as the cause to cancel the
// nursery with. The caller cancels, after it has handed the outcome on (to
// Task.Wait): whoever sees the task done must find its failure recorded,
// and must not see the cancellation first.
//
// fail calls err's methods (Unwrap, and Error for a named task), which are
// user code: its callers run it where a panic is recovered, before the task
// is counted out. It calls none of them while holding n.mu.
func (n *Nursery) fail(ctx context.Context, err error, o origin) (cause error) {
	var buf [8]error
	nodes := echo.Nodes(buf[:0], err, 64)
	isEcho := echo.Of(ctx, err)
	var parentEcho, own bool
	if isEcho {
		if perr := n.parent.Err(); perr != nil {
			pcause := context.Cause(n.parent)
			parentEcho = echo.Match(err, perr, pcause)
			own = !echo.Same(err, perr) && !echo.Same(err, pcause)
		}
	}
	reported := err
	if o.name != "" {
		reported = fmt.Errorf("task %q: %w", o.name, err)
	}

	n.mu.Lock()
	cause, drop := n.judgeLocked(err, reported, nodes, isEcho, o)
	if drop && isEcho {
		n.echoed = true
		if parentEcho && (n.echo == nil || own && !n.echoOwn) {
			n.echo, n.echoOwn = err, own
		}
		if ctx == n.ctx && err == context.Canceled {
			// A later bare context.Canceled can change nothing: it is an
			// echo too, and at best equal to the parent's error, which
			// Run reports anyway. Let those skip the bookkeeping.
			n.canceledEcho.Store(true)
		}
	}
	n.mu.Unlock()
	return cause
}

// judgeLocked decides what err (reported as reported) is: the same as a
// failure already recorded, a wrapped form of one (which replaces it), an
// echo, or a new real error. It reports whether err is dropped, and the
// error to cancel the nursery with, if any.
func (n *Nursery) judgeLocked(err, reported error, nodes []error, isEcho bool, o origin) (cause error, drop bool) {
	if n.panic != nil && echo.Contains(nodes, n.panic) {
		return nil, true // the panic, handed out by Task.Wait and coming back
	}
	for i := range n.errs {
		e := &n.errs[i]
		if !e.handed && !e.cause {
			continue // nobody else saw it: an equal error is a failure of its own
		}
		if echo.Same(err, e.err) || echo.Same(err, e.raw) || containsSame(e.alts, err) {
			return nil, true // the same failure, back again
		}
		if echo.Contains(nodes, e.err) || echo.Contains(nodes, e.raw) {
			if !e.handed && !o.body {
				return nil, true // a task wrapping the nursery's cause: an echo
			}
			// The body, or a task that waited on this one, says more about
			// the same failure: its words replace the recorded ones.
			e.alts = append(e.alts, e.err)
			e.err = reported
			return nil, true
		}
	}
	if isEcho {
		return nil, true
	}
	first := len(n.errs) == 0
	e := entry{err: reported, raw: err, handed: o.handed}
	if first && !n.collectAll || o.body {
		e.cause = true
		cause = reported
	}
	n.errs = append(n.errs, e)
	return cause, false
}

func containsSame(errs []error, err error) bool {
	for _, e := range errs {
		if echo.Same(e, err) {
			return true
		}
	}
	return false
}

func goexitError(o origin) error {
	return fmt.Errorf("%s: %w", where(o.name, o.body), ErrGoexit)
}

// where names the place a failure came from, for messages.
func where(name string, body bool) string {
	switch {
	case body:
		return "the body of Run"
	case name != "":
		return fmt.Sprintf("task %q", name)
	default:
		return "a task"
	}
}
