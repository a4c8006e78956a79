// Package scope is the machinery of a trio cancel scope on top of context:
// a context that can be cancelled explicitly, by a deadline that can move
// while it runs, or by its parent unless shielded, and that records which of
// these ended it. Package cancel exports it as cancel.Scope; package timeout
// builds its reschedulable Timeout on it.
//
// # The context
//
// A standard context's deadline cannot move, and the standard library
// attaches a derived context without a goroutine only to a context of its
// own (found through Value, however many WithValue layers lie between) or to
// a direct parent with an AfterFunc method. So the scope's context, Ctx, is
// a front for a standard cancelCtx, exp, made on first use: Ctx's Done and
// Err are exp's, and Value answers the standard library's private key with
// exp, so that every context derived from Ctx, through WithValue layers or
// not, is a child of exp in the standard library's own tree, cancelled in
// the same call that cancels exp, with exp's Err and Cause. Ctx's Deadline
// is the scope's, which moves.
//
// exp itself hangs under a second face of the scope, hookCtx, whose
// AfterFunc method the standard library calls to attach it: when the scope
// fires, it runs that hook, which cancels exp with the scope's own Err
// (context.DeadlineExceeded for its deadline) and Cause. Done closed while
// Err is nil, or Err set while Done is open, cannot be seen: both are exp's.
//
// # Links
//
// A scope hears of its parent's cancellation through a Link when the parent
// is an Owner (another scope, or a nursery), so that cancellation reaches
// every scope below in the same call that cancels the parent, as it does
// for standard contexts; otherwise through context.AfterFunc, which runs in
// a goroutine of the standard library's.
//
// The scope never calls its parent's methods while holding its own lock:
// asking a parent for its Err may cancel it, which runs its links, and this
// scope's link takes this scope's lock.
package scope

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/internal/echo"
)

// Trigger says what cancelled a scope first.
type Trigger uint8

const (
	NotCancelled Trigger = iota // the scope is not cancelled
	ByCancel                    // Scope.Cancel
	ByDeadline                  // the scope's own deadline
	ByParent                    // the parent context, while not shielded
)

type state uint8

const (
	created state = iota
	running
	exited
)

// errExited is the cause of a scope's context once Run has returned.
var errExited = errors.New("cancel: scope exited")

// tieRecheck is how long a scope whose deadline passed waits before looking
// again, when the parent's deadline was no later and should have ended it
// (ties go to the outer scope) but has not: the parent's deadline may have
// moved meanwhile.
const tieRecheck = time.Millisecond

// A Scope is created, run once, and then only inspected. Its zero value is a
// scope with no deadline, not shielded. It must not be copied once used.
type Scope struct {
	mu sync.Mutex

	st      state
	trigger Trigger
	called  bool // Cancel was called, or the deadline passed while running
	caught  bool
	fired   bool // the scope is cancelled: hookCtx is done
	shield  bool
	firedA  atomic.Bool // fired, for the readers that take no lock
	afUsed  bool        // the slot af has been given out
	// pendingAF are the hooks registered while the scope fired, for
	// makeExp to run.
	pendingAF []func()

	// err is what the context reports as Err once done; cause what it
	// reports as Cause; before Run, cause is the first cause given to
	// Cancel.
	err, cause error

	parent  context.Context
	exp     context.Context         // the standard context behind Ctx, made on first use
	expStop context.CancelCauseFunc // cancels exp with a cause, for Cancel and End
	af      func()                  // the standard library's hook on hookCtx, which cancels exp
	expA    atomic.Pointer[context.Context]
	ext     *ext    // made on first use
	tm      *timing // the deadline, if the scope ever had one
}

// timing is the deadline of a scope.
type timing struct {
	deadline time.Time     // own absolute deadline; zero for none
	timeout  time.Duration // relative deadline, counted from Run
	relative bool
	timer    *time.Timer
}

// A hook is a function to run once the scope is cancelled.
type hook = Link

// ext is the part of a Scope that only some scopes need.
type ext struct {
	// callbacks counts the timer and parent callbacks that are scheduled or
	// running, so that Run can wait for the last of them before it returns.
	callbacks sync.WaitGroup
	// unlink removes the watch on the parent through the standard library;
	// owner and link are the watch through the parent's Links.
	unlink   func() bool
	owner    Owner
	link     *Link
	watching bool // watch has run or is running
	// carrier is a standard context that holds the cause, for exp made
	// after the scope was cancelled with a cause of its own.
	carrier context.Context
	// afterFuncs are the functions registered through hookCtx.AfterFunc
	// beyond the first (Scope.af): a second exp made in a race with the
	// first. They run before links, so that a child that hears of the
	// cancellation finds exp done.
	afterFuncs map[*hook]struct{}
	links      Links
}

func (s *Scope) extLocked() *ext {
	if s.ext == nil {
		s.ext = &ext{}
	}
	return s.ext
}

func (s *Scope) timingLocked() *timing {
	if s.tm == nil {
		s.tm = &timing{}
	}
	return s.tm
}

// deadline0 is the scope's own deadline, zero for none.
func (s *Scope) deadline0() time.Time {
	if s.tm == nil {
		return time.Time{}
	}
	return s.tm.deadline
}

// closedChan is a closed channel, the Done of a context that was done before
// anyone asked.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// parentState is what the parent reports, read before the scope's lock is
// taken (see the package doc): nil, nil while it is not done.
type parentState struct{ err, cause error }

func (s *Scope) readParent() parentState {
	s.mu.Lock() // the scope's methods may be called while Begin sets parent
	parent := s.parent
	s.mu.Unlock()
	if parent == nil {
		return parentState{}
	}
	err := parent.Err()
	if err == nil {
		return parentState{}
	}
	return parentState{err, context.Cause(parent)}
}

// syncLocked catches up with the parent's cancellation, read as p before
// the lock was taken: if the parent is done and reaches the scope, the
// scope is cancelled by it now. Every method that tells or changes the
// scope's state calls it first, so the parent's cancellation is seen in the
// order it happened, whether or not its link has run yet.
func (s *Scope) syncLocked(p parentState) toRun {
	if s.st == running && !s.fired && !s.shield && p.err != nil {
		return s.fireLocked(ByParent, p.err, p.cause)
	}
	return toRun{}
}

// watch makes the parent's cancellation reach the scope by itself, once
// someone waits on the scope's context: through the parent's Links if it is
// an Owner that runs them on every cancellation, else (or also) through the
// standard library. It is called without the lock, as it asks the parent
// and registers with it; a registration that ends up after End is undone
// here.
func (s *Scope) watch() {
	o := ownerOf(s.parent)
	never := s.parent.Done() == nil
	s.mu.Lock()
	if s.st != running || s.fired || s.shield || (o == nil && never) {
		s.mu.Unlock()
		return
	}
	e := s.extLocked()
	if e.watching {
		s.mu.Unlock()
		return
	}
	e.watching = true
	e.callbacks.Add(2) // the link and the AfterFunc, until each is known to be unneeded, run or removed
	s.mu.Unlock()

	var l *Link
	complete := false
	if o != nil {
		l = &Link{f: s.parentLinked}
		added, c := o.Link(l)
		if added {
			complete = c
		} else {
			l = nil
		}
	}
	if l == nil {
		e.callbacks.Done()
	}
	var unlink func() bool
	if complete || never {
		e.callbacks.Done()
	} else {
		unlink = context.AfterFunc(s.parent, s.parentDone)
	}

	s.mu.Lock()
	e.owner, e.link, e.unlink = o, l, unlink
	exited := s.st == exited
	s.mu.Unlock()
	if exited {
		s.unwatch(e)
	}
}

// unwatch removes the watch on the parent, for a scope that has exited.
func (s *Scope) unwatch(e *ext) {
	s.mu.Lock()
	l, unlink, o := e.link, e.unlink, e.owner
	e.link, e.unlink = nil, nil
	s.mu.Unlock()
	if unlink != nil && unlink() {
		e.callbacks.Done() // it will never run
	}
	if l != nil && o.Unlink(l) {
		e.callbacks.Done()
	}
}

// ownerOf is the Owner whose context ctx is, seen through any number of
// WithValue layers and no layer that can be cancelled on its own. Ask it
// without holding the lock: it calls ctx's methods.
func ownerOf(ctx context.Context) Owner {
	if ctx == nil {
		return nil
	}
	o, _ := ctx.Value(ownerKey{}).(Owner)
	if o == nil || o.Done() != ctx.Done() {
		return nil
	}
	return o
}

// SetTimeout sets a deadline relative to the start of Run, replacing any
// other deadline. Only before Run.
func (s *Scope) SetTimeout(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tm := s.timingLocked()
	tm.timeout, tm.relative, tm.deadline = d, true, time.Time{}
}

// SetDeadline sets the deadline; the zero time removes it. While running, a
// deadline at or before now cancels at once, a later one rearms the timer;
// once the scope is cancelled, it changes nothing but what Deadline reports.
func (s *Scope) SetDeadline(t time.Time) {
	p := s.readParent()
	s.mu.Lock()
	if s.tm == nil && t.IsZero() {
		s.mu.Unlock()
		return
	}
	tm := s.timingLocked()
	tm.deadline, tm.relative = t, false
	hooks := s.syncLocked(p)
	if s.st == running && !s.fired {
		hooks = s.armLocked(time.Now())
	}
	s.mu.Unlock()
	runHooks(hooks)
}

// Deadline returns the scope's own deadline, if it has one.
func (s *Scope) Deadline() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deadline0()
	return d, !d.IsZero()
}

// SetShield turns the shield on or off. Turning it off while the parent is
// done cancels the scope at once; turning it on cannot revive a context that
// is already done.
func (s *Scope) SetShield(on bool) {
	p := s.readParent()
	s.mu.Lock()
	hooks := s.syncLocked(p) // with the shield as it was
	s.shield = on
	watch := false
	if !on && s.st == running && !s.fired {
		if p.err != nil {
			hooks = s.fireLocked(ByParent, p.err, p.cause)
		} else {
			watch = s.exp != nil // from now on the parent reaches the scope
		}
	}
	s.mu.Unlock()
	runHooks(hooks)
	if watch {
		s.watch()
	}
}

// Shielded reports whether the shield is on.
func (s *Scope) Shielded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shield
}

// Cancel cancels the scope with cause (context.Canceled if nil). Before Run,
// Run will start cancelled; after Run, only CancelCalled changes.
func (s *Scope) Cancel(cause error) {
	if cause == nil {
		cause = context.Canceled
	}
	p := s.readParent()
	s.mu.Lock()
	if s.st == created && s.cause == nil {
		s.cause = cause
	}
	s.called = true
	hooks := s.syncLocked(p)
	if s.st == running && !s.fired {
		hooks = s.fireLocked(ByCancel, context.Canceled, cause)
	}
	s.mu.Unlock()
	runHooks(hooks)
}

// CancelCalled reports whether Cancel was called or the scope's deadline has
// passed (also before Run, for an absolute deadline). It does not change
// once Run has returned.
func (s *Scope) CancelCalled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.called {
		return true
	}
	d := s.deadline0()
	return s.st != exited && !d.IsZero() && !time.Now().Before(d)
}

// CancelledCaught reports whether Run absorbed the echo of the scope's own
// cancellation.
func (s *Scope) CancelledCaught() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.caught
}

// Trigger reports what cancelled the scope first.
func (s *Scope) Trigger() Trigger {
	p := s.readParent()
	s.mu.Lock()
	hooks := s.syncLocked(p)
	t := s.trigger
	s.mu.Unlock()
	runHooks(hooks)
	return t
}

// Run runs fn with the scope's context; see cancel.Scope.Run. It reports
// false, without calling fn, if the scope has already run.
func (s *Scope) Run(ctx context.Context, fn func(ctx context.Context) error) (error, bool) {
	if !s.Begin(ctx) {
		return nil, false
	}
	normal := false
	defer func() {
		if !normal {
			s.End() // a panic or runtime.Goexit goes on unwinding
		}
	}()
	err := fn((*Ctx)(s))
	normal = true
	return s.endWith(err), true
}

// Begin starts the scope under parent: its context is live from now until
// End. Run calls it before its function. It reports false if the scope has
// already begun.
func (s *Scope) Begin(parent context.Context) bool {
	p := parentState{}
	if err := parent.Err(); err != nil {
		p = parentState{err, context.Cause(parent)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st != created {
		return false
	}
	s.st = running
	s.parent = parent
	var now time.Time
	if tm := s.tm; tm != nil {
		if tm.relative || !tm.deadline.IsZero() {
			now = time.Now()
		}
		if tm.relative {
			tm.deadline, tm.relative = now.Add(tm.timeout), false
		}
	}
	switch {
	case s.called:
		s.fireLocked(ByCancel, context.Canceled, s.cause)
	case !s.shield && p.err != nil:
		s.fireLocked(ByParent, p.err, p.cause)
	default:
		s.armLocked(now) // nothing is registered yet: no hooks to run
	}
	return true
}

// Context returns the scope's context.
func (s *Scope) Context() context.Context { return (*Ctx)(s) }

// Reschedule moves the deadline of a running scope that its deadline has not
// cancelled yet, and reports whether it did, with the scope's state.
func (s *Scope) Reschedule(t time.Time) (started, finished, expired bool) {
	p := s.readParent()
	s.mu.Lock()
	hooks := s.syncLocked(p)
	started, finished, expired = s.st != created, s.st == exited, s.trigger == ByDeadline
	if started && !finished && !expired {
		tm := s.timingLocked()
		tm.deadline, tm.relative = t, false
		if !s.fired {
			hooks = s.armLocked(time.Now())
		}
	}
	s.mu.Unlock()
	runHooks(hooks)
	return started, finished, expired
}

// endWith ends the scope and classifies fn's error: the echo of the scope's
// own cancellation is absorbed (caught), unless the parent's cancellation is
// visible too, in which case the outer scope is the one to catch it.
func (s *Scope) endWith(err error) error {
	defer s.End()
	p := s.readParent()
	s.mu.Lock()
	hooks := s.syncLocked(p)
	self := s.trigger == ByCancel || s.trigger == ByDeadline
	own := self && (s.shield || p.err == nil)
	ctxErr, cause := s.err, s.cause
	s.mu.Unlock()
	runHooks(hooks)
	if err == nil || !self {
		return err
	}
	// From here on, the methods of err are called: End still runs if they
	// panic.
	if !own {
		// The parent was cancelled too: the outer scope catches the echo,
		// which must be one it recognises.
		if echo.Match(err, ctxErr, cause) && !echo.Match(err, p.err, p.cause) {
			return echo.Rebase(err, ctxErr, cause, p.err)
		}
		return err
	}
	err, caught := strip(err, ctxErr, cause)
	s.mu.Lock()
	s.caught = caught
	s.mu.Unlock()
	return err
}

// End ends the scope: nothing of it outlives it, and its context is done
// (with cause errExited, if nothing had ended it).
func (s *Scope) End() {
	s.mu.Lock()
	s.st = exited
	s.stopTimerLocked()
	if d := s.deadline0(); !s.called && !d.IsZero() && !time.Now().Before(d) {
		s.called = true // the deadline passed while running (trio's cancel_called)
	}
	e := s.ext
	s.mu.Unlock()
	if e != nil {
		s.unwatch(e)
		e.callbacks.Wait() // one may be running: nothing of the scope's outlives it
	}
	s.mu.Lock()
	var hooks toRun
	if !s.fired {
		hooks = s.doneLocked(context.Canceled, errExited) // release what derives from the context
	}
	s.mu.Unlock()
	runHooks(hooks)
}

// strip removes the echoes of the cancellation (ctxErr and cause) from err,
// also from inside combined errors, and reports whether it removed any.
func strip(err, ctxErr, cause error) (error, bool) {
	if echo.Match(err, ctxErr, cause) {
		return nil, true
	}
	multi, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return err, false
	}
	var rest []error
	stripped := false
	for _, e := range multi.Unwrap() {
		if e == nil {
			continue
		}
		r, st := strip(e, ctxErr, cause)
		stripped = stripped || st
		if r != nil {
			rest = append(rest, r)
		}
	}
	if !stripped {
		return err, false
	}
	return multierr.Combine(rest...), true
}

// fireLocked cancels the scope's context, if nothing has yet, and returns the
// hooks to run once s.mu is released.
func (s *Scope) fireLocked(t Trigger, err, cause error) toRun {
	if s.fired {
		return toRun{}
	}
	s.trigger = t
	if t != ByParent {
		s.called = true
	}
	s.stopTimerLocked()
	return s.doneLocked(err, cause)
}

// doneLocked makes the scope done with err and cause, and returns the hooks
// to run once s.mu is released: the one that cancels exp with the scope's
// cause first, if the scope cancelled itself, then the standard library's,
// then the links. The cause is in place before hookCtx's Done is closed, so
// that whoever sees it closed finds it.
func (s *Scope) doneLocked(err, cause error) toRun {
	s.fired, s.err, s.cause = true, err, cause
	s.firedA.Store(true)
	var r toRun
	if s.expStop != nil && s.trigger != ByParent && s.trigger != ByDeadline {
		// Cancel, or End: exp takes the cause from its own cancel func,
		// which needs no carrier of it; the standard library's hook, the
		// only one, would do the same at a higher cost.
		r.stop, r.cause = s.expStop, cause
	} else {
		r.af = s.af
	}
	s.af = nil
	if e := s.ext; e != nil {
		for h := range e.afterFuncs {
			r.more = append(r.more, h)
		}
		e.afterFuncs = nil
		r.more = append(r.more, e.links.takeLocked()...)
	}
	return r
}

// toRun is what a scope that is now done runs once its lock is released:
// exp's cancel func with the cause (Cancel, End), or the standard library's
// hook, which gives exp the scope's Err and Cause; then the rest of the
// hooks and the links.
type toRun struct {
	stop  context.CancelCauseFunc
	cause error
	af    func()
	more  []*hook
}

// runHooks runs the hooks of a context that is now done, outside the
// scope's lock: they read its Err and Cause, and take other locks.
func runHooks(r toRun) {
	if r.stop != nil {
		r.stop(r.cause)
	}
	if r.af != nil {
		r.af()
	}
	for _, h := range r.more {
		h.f()
	}
}

// stopTimerLocked stops the deadline's timer; if that keeps its callback
// from running, the callback no longer counts.
func (s *Scope) stopTimerLocked() {
	if s.tm != nil && s.tm.timer != nil && s.tm.timer.Stop() {
		s.ext.callbacks.Done()
	}
}

// armLocked sets the timer for the deadline, or, if it has passed, sets it
// to fire at once: the deadline's firing looks at the parent, which it
// cannot do under the lock.
func (s *Scope) armLocked(now time.Time) toRun {
	s.stopTimerLocked()
	d := s.deadline0()
	switch {
	case d.IsZero():
	case !now.Before(d):
		if s.shield {
			return s.fireLocked(ByDeadline, context.DeadlineExceeded, context.DeadlineExceeded)
		}
		if pd, ok := s.parent.Deadline(); !ok || pd.After(d) {
			// The parent's deadline is later: this one fires, now.
			return s.fireLocked(ByDeadline, context.DeadlineExceeded, context.DeadlineExceeded)
		}
		s.startTimerLocked(0) // a tie, or the parent first: decided outside the lock
	default:
		s.startTimerLocked(d.Sub(now))
	}
	return toRun{}
}

func (s *Scope) startTimerLocked(d time.Duration) {
	s.extLocked().callbacks.Add(1)
	tm := s.timingLocked()
	if tm.timer == nil {
		tm.timer = time.AfterFunc(d, s.deadlinePassed)
	} else {
		tm.timer.Reset(d)
	}
}

// deadlinePassed runs on the timer's goroutine. The deadline may have moved
// since the timer was set, hence the check.
func (s *Scope) deadlinePassed() {
	defer s.ext.callbacks.Done()
	p := s.readParent()
	pd, pok := s.parent.Deadline() // the timer runs only once Begin has set parent
	s.mu.Lock()
	hooks := s.syncLocked(p)
	if d := s.deadline0(); s.st == running && !s.fired && !d.IsZero() && !time.Now().Before(d) {
		hooks = s.deadlineLocked(p, pd, pok)
	}
	s.mu.Unlock()
	runHooks(hooks)
}

// deadlineLocked fires the scope's deadline, which has passed, unless the
// parent's deadline (pd, read with p before the lock) is no later and
// reaches this scope: ties go to the outer scope, as in trio, and the
// parent's cancellation will arrive on its own. In case it does not (the
// parent's deadline moved in the same instant), the scope looks again a
// moment later.
func (s *Scope) deadlineLocked(p parentState, pd time.Time, pok bool) toRun {
	if !s.shield && pok && !pd.After(s.deadline0()) {
		if p.err == nil {
			s.startTimerLocked(tieRecheck)
		}
		return toRun{} // syncLocked has caught up with the parent's cancellation
	}
	return s.fireLocked(ByDeadline, context.DeadlineExceeded, context.DeadlineExceeded)
}

// parentDone runs, in a goroutine of the standard library's, when the
// parent context is done.
func (s *Scope) parentDone() {
	defer s.ext.callbacks.Done()
	s.parentLinked0()
}

// parentLinked runs, through the parent's Links, in the call that cancels
// the parent.
func (s *Scope) parentLinked() {
	defer s.ext.callbacks.Done()
	s.parentLinked0()
}

func (s *Scope) parentLinked0() {
	p := s.readParent()
	s.mu.Lock()
	hooks := s.syncLocked(p)
	s.mu.Unlock()
	runHooks(hooks)
}

// makeExp makes exp, the standard context behind Ctx, if it is not made
// yet, and returns it. Someone may wait on it from now on: the scope
// watches its parent.
func (s *Scope) makeExp() context.Context {
	if e := s.expA.Load(); e != nil {
		return *e
	}
	// The standard library calls hookCtx's Done, Value and AfterFunc,
	// which take the lock.
	exp, stop := context.WithCancelCause((*hookCtx)(s))
	s.mu.Lock()
	pending := s.pendingAF
	s.pendingAF = nil
	s.mu.Unlock()
	for _, f := range pending {
		f() // exp, attached as the scope fired, is cancelled before anyone sees it
	}
	s.mu.Lock()
	if s.exp != nil { // made meanwhile by another caller: use that one
		exp0 := s.exp
		s.mu.Unlock()
		stop(nil)
		return exp0
	}
	s.exp, s.expStop = exp, stop
	s.expA.Store(&s.exp)
	s.mu.Unlock()
	s.watch()
	return exp
}

// Ctx is the context a scope gives to its function: Err says what the scope
// knows (context.DeadlineExceeded when its deadline fired, context.Canceled
// after Cancel, the parent's error when the parent ended it), Cause why, and
// Deadline is the effective deadline (its own, or the parent's if earlier and
// not shielded). Values come from the parent, shielded or not.
type Ctx Scope

// Deadline is the effective deadline.
func (c *Ctx) Deadline() (time.Time, bool) {
	s := (*Scope)(c)
	s.mu.Lock()
	own, shield := s.deadline0(), s.shield
	s.mu.Unlock()
	if shield {
		return own, !own.IsZero()
	}
	parent, ok := s.parent.Deadline()
	if own.IsZero() || ok && parent.Before(own) {
		return parent, ok
	}
	return own, true
}

// Done is closed when the scope's context is done.
func (c *Ctx) Done() <-chan struct{} {
	s := (*Scope)(c)
	exp := s.makeExp()
	s.catchUp()
	return exp.Done()
}

// Err is nil until Done is closed, and then why it is.
func (c *Ctx) Err() error {
	s := (*Scope)(c)
	if e := s.expA.Load(); e != nil {
		if err := (*e).Err(); err != nil {
			return err
		}
	} else if !s.firedA.Load() && s.parent.Err() == nil {
		return nil // not done, and nothing to catch up with
	}
	exp := s.makeExp()
	s.catchUp()
	return exp.Err()
}

// catchUp cancels the scope now if its parent is done and its watch has not
// reached it yet.
func (s *Scope) catchUp() {
	if s.firedA.Load() || s.parent.Err() == nil { // asked through Ctx: Begin has set parent
		return
	}
	p := s.readParent()
	s.mu.Lock()
	hooks := s.syncLocked(p)
	s.mu.Unlock()
	runHooks(hooks)
}

// Value returns the parent's values. Asked for the standard library's own
// key, it returns exp, to which the standard library then attaches derived
// contexts.
func (c *Ctx) Value(key any) any {
	s := (*Scope)(c)
	switch {
	case key == any(movableKey{}):
		return true
	case key == any(ownerKey{}):
		return s
	case isCancelCtxKey(key):
		return s.makeExp().Value(key)
	}
	return s.parent.Value(key)
}

// String names the context, as the standard library's contexts do.
func (c *Ctx) String() string { return "cancel.Scope context" }

// Link adds l to the functions the scope runs when its context is
// cancelled, whatever cancels it; see Owner.
func (s *Scope) Link(l *Link) (added, complete bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fired || s.st != running {
		return false, false
	}
	return s.extLocked().links.addLocked(l), true
}

// Unlink removes l; see Owner.
func (s *Scope) Unlink(l *Link) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ext != nil && s.ext.links.removeLocked(l)
}

// Done is the Done of the scope's context, for Owner.
func (s *Scope) Done() <-chan struct{} { return (*Ctx)(s).Done() }

// hookCtx is the face of the scope to which exp is attached: done when the
// scope is, with its Err; its Value answers the standard library's key with
// what gives exp the scope's cause.
type hookCtx Scope

func (h *hookCtx) Deadline() (time.Time, bool) { return (*Ctx)(h).Deadline() }

// Done is what the standard library looks at when it attaches exp: closed
// if the scope is done (exp is then made done), and otherwise a channel
// that is never closed, which tells it to attach exp through AfterFunc.
// Nobody waits on it.
func (h *hookCtx) Done() <-chan struct{} {
	s := (*Scope)(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fired {
		return closedChan
	}
	return neverDone
}

// neverDone is a channel that is never closed.
var neverDone = make(chan struct{})

func (h *hookCtx) Err() error {
	s := (*Scope)(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.fired {
		return nil
	}
	return s.err
}

// Value answers the key of context.Cause: the parent's carrier when the
// parent cancelled the scope, nothing when the deadline did (the cause is
// then the error, context.DeadlineExceeded), and a carrier of the cause
// otherwise.
func (h *hookCtx) Value(key any) any {
	s := (*Scope)(h)
	if !isCancelCtxKey(key) {
		return s.parent.Value(key)
	}
	s.mu.Lock()
	fired, t, cause := s.fired, s.trigger, s.cause
	s.mu.Unlock()
	switch {
	case !fired || t == ByDeadline:
		return nil
	case t == ByParent:
		return s.parent.Value(key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.extLocked()
	if e.carrier == nil {
		var stop context.CancelCauseFunc
		e.carrier, stop = context.WithCancelCause(context.Background())
		stop(cause)
	}
	return e.carrier.Value(key)
}

// AfterFunc arranges for f to run once the scope is cancelled, in the
// goroutine that cancels it (or in a goroutine of its own if it is done
// already: the standard library calls AfterFunc holding a lock that f
// takes); the returned stop reports whether it kept f from running.
func (h *hookCtx) AfterFunc(f func()) (stop func() bool) {
	s := (*Scope)(h)
	s.mu.Lock()
	if s.fired {
		// The scope fired while the standard library was attaching exp,
		// which it does holding a lock that f takes: makeExp runs f as
		// soon as the standard library is done, before it hands exp out.
		s.pendingAF = append(s.pendingAF, f)
		s.mu.Unlock()
		return stopNothing
	}
	if s.af == nil && !s.afUsed {
		// The common case: the one exp. The standard library calls the
		// stop it gets back only when exp's own cancel func cancels it,
		// which happens only once the scope is done and has let go of
		// the hook (doneLocked): nothing is left to stop, and the stop
		// needs no closure.
		s.af, s.afUsed = f, true
		s.mu.Unlock()
		return stopNothing
	}
	k := &hook{f: f}
	e := s.extLocked()
	if e.afterFuncs == nil {
		e.afterFuncs = make(map[*hook]struct{}, 1)
	}
	e.afterFuncs[k] = struct{}{}
	s.mu.Unlock()
	return func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, ok := s.ext.afterFuncs[k]
		delete(s.ext.afterFuncs, k)
		return ok
	}
}

// stopNothing is the stop of a hook that is gone by the time it is called.
func stopNothing() bool { return false }

func (h *hookCtx) String() string { return "cancel.Scope" }

// movableKey is the key of the Value that marks a scope's context, and the
// contexts derived from it: their deadline can move.
type movableKey struct{}

// Movable reports whether ctx's deadline may move: whether it is, or derives
// from, a scope's context.
func Movable(ctx context.Context) bool {
	return ctx.Value(movableKey{}) != nil
}

// probe answers, through Value, the standard library's private key for a
// cancelCtx with itself and nothing else: that is how Value recognises it.
var probe, _ = context.WithCancel(context.Background())

func isCancelCtxKey(key any) bool {
	return probe.Value(key) == any(probe)
}

// IsCancelCtxKey reports whether key is the standard library's private key
// for its cancelCtx, which context.Cause and the attachment of derived
// contexts ask Value for.
func IsCancelCtxKey(key any) bool { return isCancelCtxKey(key) }
