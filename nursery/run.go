package nursery

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/internal/noise"
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

	// live counts the body and the tasks that have not returned yet. When it
	// drops to zero it becomes closedBit, at which point idle is released.
	// Go adds one before it starts a goroutine, so a nursery cannot close
	// while a Go call from inside it is under way.
	live atomic.Int64
	idle sync.WaitGroup

	sem        chan struct{} // one token per running task; nil without a limit
	collectAll bool

	// echoed records that some task returned only the echo of a
	// cancellation; Run then reports the parent's error if the parent is done.
	echoed atomic.Bool

	mu    sync.Mutex
	errs  error       // real errors in the order they happened (multierr)
	panic *PanicError // the first panic, if any
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
// each, and multierr.Errors lists them. Errors that only echo the nursery's own
// cancellation, such as ctx.Err() or context.Cause(ctx) returned by tasks that
// were cancelled, are not real errors and are dropped. If ctx itself was
// cancelled and the tasks returned only such echoes, Run returns ctx.Err()
// once.
//
// If body or a task panics, the nursery is cancelled, Run waits for the rest,
// and then panics in its own goroutine with a *PanicError that carries the
// first panic's value and stack, and every real error as Suppressed.
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
		if o.limit > 0 {
			n.sem = make(chan struct{}, o.limit)
		}
		n.collectAll = o.collectAll
		if o.signals != nil {
			return n.runSignalled(ctx, body, o.signals)
		}
	}
	return n.runBody(ctx, body)
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
	err := body(n.ctx, n)
	normal = true
	if err != nil && n.fail(n.ctx, err, "") && n.collectAll {
		n.cancel(err) // the body's error ends the nursery, also in collect-all mode
	}
	n.done()
	n.idle.Wait()
	n.cancel(ErrClosed)
	return n.result()
}

// bodyUnwound handles a body that panicked (r != nil) or called
// runtime.Goexit (r == nil): the tasks are cancelled and joined before the
// goroutine goes on unwinding.
func (n *Nursery) bodyUnwound(r any) {
	if r != nil {
		n.recordPanic(newPanicError(r, "", true, debug.Stack()))
	} else {
		n.recordGoexit("", true)
	}
	n.done()
	n.idle.Wait()
	n.cancel(ErrClosed)
	if n.panic != nil {
		panic(n.finalPanic())
	}
	// The body called runtime.Goexit and no task panicked: let it go on.
}

// result is Run's outcome once every task has returned.
func (n *Nursery) result() error {
	if n.panic != nil {
		panic(n.finalPanic())
	}
	if n.errs != nil {
		return n.errs
	}
	if n.echoed.Load() {
		return n.parent.Err()
	}
	return nil
}

func (n *Nursery) finalPanic() *PanicError {
	p := n.panic
	p.Suppressed = multierr.Errors(n.errs)
	return p
}

// Go starts fn in a new goroutine owned by the nursery, and returns.
//
// fn receives the nursery's context. If fn returns a real error, the nursery
// is cancelled (unless WithCollectAll was given) and Run returns the error.
//
// With WithLimit(k), Go waits until fewer than k tasks are running. If the
// nursery is cancelled while Go waits, Go returns at once, and fn runs, with
// its context already cancelled, as soon as a slot frees: a cancelled nursery
// never blocks the goroutine that feeds it.
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
		go n.runWhenFree(fn)
		return
	}
	go n.run(fn)
}

// Cancel cancels the nursery: the ctx of body and of every task is cancelled
// with cause (ErrCancelled if cause is nil). Cancel does not wait for the
// tasks to return; Run does. Cancelling is not a failure: Run returns nil
// unless a real error happened. Cancel is idempotent, only the first cause is
// kept, and calling it after Run has returned does nothing.
func (n *Nursery) Cancel(cause error) {
	if cause == nil {
		cause = ErrCancelled
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
func (n *Nursery) tryEnter() bool {
	if n.ctx == nil {
		panic("nursery: Start called on a Nursery that Run did not create")
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

func (n *Nursery) runWhenFree(fn func(context.Context) error) {
	n.sem <- struct{}{}
	n.run(fn)
}

// run is the body of a plain task's goroutine. It is kept apart from runSpec
// so that a plain Go costs one allocation of 24 bytes, as a bare go statement
// with a closure does.
func (n *Nursery) run(fn func(context.Context) error) {
	normal := false
	defer func() {
		if !normal {
			n.unwound(recover(), "")
		}
		n.leave()
	}()
	err := fn(n.ctx)
	normal = true
	if err != nil && !n.knownEcho(err) {
		n.fail(n.ctx, err, "")
	}
}

// knownEcho is the fast path of fail for the commonest echo, ctx.Err() of a
// cancelled nursery once an echo was already recorded: when thousands of
// tasks return it at once, each skips the call.
func (n *Nursery) knownEcho(err error) bool {
	if err != context.Canceled || !n.echoed.Load() {
		return false
	}
	select {
	case <-n.ctx.Done():
		return true
	default:
		return false
	}
}

// unwound records a task that panicked (r != nil) or called runtime.Goexit.
// It must be called from the deferred function, so that the stack of the
// panic is still there to be captured.
func (n *Nursery) unwound(r any, name string) {
	if r != nil {
		n.recordPanic(newPanicError(r, name, false, debug.Stack()))
	} else {
		n.recordGoexit(name, false)
	}
}

// fail records err, returned by work that ran under ctx. An echo of a
// cancellation is dropped; a real error is kept and, if it is the first and
// the nursery is not in collect-all mode, cancels the nursery. It reports
// whether err was real.
func (n *Nursery) fail(ctx context.Context, err error, name string) bool {
	if noise.Echo(ctx, err) {
		if !n.echoed.Load() {
			n.echoed.Store(true)
		}
		return false
	}
	if name != "" {
		err = fmt.Errorf("task %q: %w", name, err)
	}
	n.mu.Lock()
	first := n.errs == nil
	n.errs = multierr.Append(n.errs, err)
	n.mu.Unlock()
	if first && !n.collectAll {
		n.cancel(err)
	}
	return true
}

// recordPanic keeps the first panic and cancels the nursery, also in
// collect-all mode: a panic is a bug, not a result. Later panics are kept as
// errors and end up in the first one's Suppressed.
func (n *Nursery) recordPanic(p *PanicError) {
	n.mu.Lock()
	if n.panic == nil {
		n.panic = p
	} else {
		n.errs = multierr.Append(n.errs, p)
	}
	n.mu.Unlock()
	n.cancel(p)
}

// recordGoexit records a task or body that called runtime.Goexit (t.FailNow
// does) as a real error, and cancels the nursery as a panic would.
func (n *Nursery) recordGoexit(name string, body bool) {
	err := goexitError(name, body)
	n.mu.Lock()
	n.errs = multierr.Append(n.errs, err)
	n.mu.Unlock()
	n.cancel(err)
}

func goexitError(name string, body bool) error {
	return fmt.Errorf("%s: %w", where(name, body), ErrGoexit)
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
