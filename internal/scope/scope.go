// Package scope is the machinery of a trio cancel scope on top of context:
// a context that can be cancelled explicitly, by a deadline that can move
// while it runs, or by its parent unless shielded, and that records which of
// these ended it. Package cancel exports it as cancel.Scope; package timeout
// builds its reschedulable Timeout on it; a nursery's context is one.
//
// The scope's context is a context of its own, not one of the standard
// library's: its deadline can move, and a standard context's cannot. It
// behaves like one to everything derived from it: a context derived with
// context.WithCancel, WithTimeout or AfterFunc reports the scope's Err
// (context.DeadlineExceeded after the scope's deadline, not
// context.Canceled) and its Cause, because the scope hands the standard
// library its own done channel and an AfterFunc hook instead of an inner
// cancelCtx to attach to.
//
// It pays for what it is asked: the parent's Done is watched only once
// someone waits on the scope's own Done (until then, the scope looks at its
// parent whenever it is asked anything), and the channel, the carrier of the
// cause for context.Cause, and the hooks of derived contexts are made on
// first use.
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
	NotCancelled Trigger = iota
	ByCancel             // Scope.Cancel
	ByDeadline           // the scope's own deadline
	ByParent             // the parent context, while not shielded
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
	fired   bool // the context is done
	shield  bool
	fixed   bool        // begun by BeginFixed: no deadline or shield, ever
	hasDone atomic.Bool // done is set
	doneA   atomic.Bool // fired, for the readers that take no lock

	// err is what Err reports once the context is done. cause is what
	// Cause reports then; before Run, the first cause given to Cancel.
	err, cause error

	parent context.Context
	done   chan struct{} // made when first asked for, or closedChan
	ext    *ext          // made on first use
	tm     *timing       // the deadline, if the scope ever had one
}

// timing is the deadline of a scope.
type timing struct {
	deadline time.Time     // own absolute deadline; zero for none
	timeout  time.Duration // relative deadline, counted from Run
	relative bool
	timer    *time.Timer
}

type hook struct{ f func() }

// ext is the part of a Scope that only some scopes need.
type ext struct {
	// callbacks counts the timer and parent callbacks that are scheduled or
	// running, so that Run can wait for the last of them before it returns.
	callbacks sync.WaitGroup
	// unlink removes the watch on the parent's Done, which is set up only
	// once someone waits on the scope's Done.
	unlink func() bool
	// carrier is a standard context that holds the cause, for
	// context.Cause.
	carrier     context.Context
	stopCarrier context.CancelCauseFunc
	// hooks are the functions registered through Ctx.AfterFunc, by the
	// standard library for the contexts derived from this one.
	hooks map[*hook]struct{}
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

// syncLocked catches up with the parent's cancellation, which nothing
// watches until someone waits on Done: if the parent is done and reaches
// the scope, the scope is cancelled by it now. Every method that tells or
// changes the scope's state calls it first, so the parent's cancellation is
// seen in the order it happened.
func (s *Scope) syncLocked() []*hook {
	if s.st == running && !s.fired && !s.shield && s.parent.Err() != nil {
		return s.fireLocked(ByParent, s.parent.Err(), context.Cause(s.parent))
	}
	return nil
}

// watchLocked makes the parent's cancellation reach the scope by itself,
// for those that wait on Done.
func (s *Scope) watchLocked() {
	if s.st != running || s.fired || s.parent.Done() == nil {
		return
	}
	e := s.extLocked()
	if e.unlink == nil {
		// Through the standard library, which runs parentDone in a
		// goroutine of its own: a parent that is a scope may fire while
		// this scope holds its lock (syncLocked asks the parent's Err).
		e.callbacks.Add(1)
		e.unlink = context.AfterFunc(s.parent, s.parentDone)
	}
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
	s.mu.Lock()
	if s.tm == nil && t.IsZero() {
		s.mu.Unlock()
		return
	}
	tm := s.timingLocked()
	tm.deadline, tm.relative = t, false
	hooks := s.syncLocked()
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
	s.mu.Lock()
	hooks := s.syncLocked() // with the shield as it was
	s.shield = on
	if !on && s.st == running && !s.fired && s.parent.Err() != nil {
		hooks = s.fireLocked(ByParent, s.parent.Err(), context.Cause(s.parent))
	}
	s.mu.Unlock()
	runHooks(hooks)
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
	s.mu.Lock()
	if s.st == created && s.cause == nil {
		s.cause = cause
	}
	s.called = true
	hooks := s.syncLocked()
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
	s.mu.Lock()
	hooks := s.syncLocked()
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

// Begin starts the scope under parent without a function to run, for an
// owner that runs its own (a nursery): the scope's context is live from now
// until End. It reports false if the scope has already begun.
func (s *Scope) Begin(parent context.Context) bool {
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
	case !s.shield && parent.Err() != nil:
		s.fireLocked(ByParent, parent.Err(), context.Cause(parent))
	default:
		s.armLocked(now) // nothing is registered yet: no hooks to run
	}
	return true
}

// BeginFixed is Begin for an owner that never gives the scope a deadline or
// a shield (a nursery): its context's deadline is the parent's, and moves
// only if the parent's can.
func (s *Scope) BeginFixed(parent context.Context) bool {
	s.mu.Lock()
	s.fixed = true
	s.mu.Unlock()
	return s.Begin(parent)
}

// Lock and Unlock hold the scope's lock, for an owner that guards state of
// its own with it. The owner must not call the scope's methods while
// holding it.
func (s *Scope) Lock()   { s.mu.Lock() }
func (s *Scope) Unlock() { s.mu.Unlock() }

// Parent returns the context the scope began under.
func (s *Scope) Parent() context.Context { return s.parent }

// Context returns the scope's context.
func (s *Scope) Context() context.Context { return (*Ctx)(s) }

// State returns what the scope's context reports as Err and Cause, without
// making the carrier of the cause that context.Cause would.
func (s *Scope) State() (err, cause error) {
	if s.doneA.Load() {
		return s.err, s.cause
	}
	s.mu.Lock()
	hooks := s.syncLocked()
	err, cause = s.err, s.cause
	if !s.fired {
		cause = nil
	}
	s.mu.Unlock()
	runHooks(hooks)
	return err, cause
}

// Reschedule moves the deadline of a running scope that its deadline has not
// cancelled yet, and reports whether it did, with the scope's state.
func (s *Scope) Reschedule(t time.Time) (started, finished, expired bool) {
	s.mu.Lock()
	hooks := s.syncLocked()
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
	s.mu.Lock()
	hooks := s.syncLocked()
	self := s.trigger == ByCancel || s.trigger == ByDeadline
	perr := s.parent.Err()
	own := self && (s.shield || perr == nil)
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
		if echo.Match(err, ctxErr, cause) && !echo.Match(err, perr, context.Cause(s.parent)) {
			return echo.Rebase(err, ctxErr, cause, perr)
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
	s.EndWith(errExited)
}

// EndWith is End with the cause of the context's end, if nothing had ended
// it before.
func (s *Scope) EndWith(cause error) {
	s.mu.Lock()
	s.st = exited
	s.stopTimerLocked()
	if d := s.deadline0(); !s.called && !d.IsZero() && !time.Now().Before(d) {
		s.called = true // the deadline passed while running (trio's cancel_called)
	}
	e := s.ext
	s.mu.Unlock()
	if e != nil {
		if e.unlink != nil && e.unlink() {
			e.callbacks.Done() // it will never run
		}
		e.callbacks.Wait() // one may be running: nothing of the scope's outlives it
	}
	s.mu.Lock()
	var hooks []*hook
	if !s.fired {
		hooks = s.doneLocked(context.Canceled, cause) // release what derives from the context
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

// Fire cancels the scope's context with err and cause, as its owner's doing
// (ByCancel), if nothing has yet; it reports whether it did.
func (s *Scope) Fire(cause error) bool {
	if cause == nil {
		cause = context.Canceled
	}
	s.mu.Lock()
	hooks := s.syncLocked()
	fired := false
	if s.st == running && !s.fired {
		hooks, fired = s.fireLocked(ByCancel, context.Canceled, cause), true
	}
	s.mu.Unlock()
	runHooks(hooks)
	return fired
}

// fireLocked cancels the scope's context, if nothing has yet, and returns the
// hooks to run once s.mu is released.
func (s *Scope) fireLocked(t Trigger, err, cause error) []*hook {
	if s.fired {
		return nil
	}
	s.trigger = t
	if t != ByParent {
		s.called = true
	}
	s.stopTimerLocked()
	return s.doneLocked(err, cause)
}

// doneLocked makes the context done with err and cause, and returns the
// hooks to run once s.mu is released. The cause is in place before Done is
// closed, so that whoever sees Done closed finds it.
func (s *Scope) doneLocked(err, cause error) []*hook {
	s.fired, s.err, s.cause = true, err, cause
	s.doneA.Store(true) // after err and cause: a reader that sees it sees them
	if s.done != nil {
		close(s.done)
	} else {
		s.done = closedChan
		s.hasDone.Store(true)
	}
	e := s.ext
	if e == nil {
		return nil
	}
	if len(e.hooks) == 0 {
		return nil
	}
	hooks := make([]*hook, 0, len(e.hooks))
	for h := range e.hooks {
		hooks = append(hooks, h)
	}
	e.hooks = nil
	return hooks
}

// runHooks runs the AfterFunc hooks of a context that is now done, outside
// the scope's lock: they read its Err and Cause.
func runHooks(hooks []*hook) {
	for _, h := range hooks {
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

// armLocked sets the timer for the deadline, or fires if it has passed.
func (s *Scope) armLocked(now time.Time) []*hook {
	s.stopTimerLocked()
	d := s.deadline0()
	switch {
	case d.IsZero():
	case !now.Before(d):
		return s.deadlineLocked()
	default:
		s.startTimerLocked(d.Sub(now))
	}
	return nil
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
	s.mu.Lock()
	hooks := s.syncLocked()
	if d := s.deadline0(); s.st == running && !s.fired && !d.IsZero() && !time.Now().Before(d) {
		hooks = s.deadlineLocked()
	}
	s.mu.Unlock()
	runHooks(hooks)
}

// deadlineLocked fires the scope's deadline, which has passed, unless the
// parent's deadline is no later and reaches this scope: ties go to the outer
// scope, as in trio, and the parent's cancellation will arrive on its own.
// In case it does not (the parent's deadline moved in the same instant), the
// scope looks again a moment later.
func (s *Scope) deadlineLocked() []*hook {
	if !s.shield {
		if pd, ok := s.parent.Deadline(); ok && !pd.After(s.deadline0()) {
			if s.parent.Err() == nil {
				s.startTimerLocked(tieRecheck)
			} // else the parent's cancellation is caught up with by syncLocked
			return s.syncLocked()
		}
	}
	return s.fireLocked(ByDeadline, context.DeadlineExceeded, context.DeadlineExceeded)
}

// parentDone runs when the parent context is done.
func (s *Scope) parentDone() {
	defer s.ext.callbacks.Done()
	s.mu.Lock()
	hooks := s.syncLocked()
	s.mu.Unlock()
	runHooks(hooks)
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
	if s.hasDone.Load() {
		return s.done
	}
	s.mu.Lock()
	hooks := s.syncLocked()
	if s.done == nil {
		s.done = make(chan struct{})
		s.watchLocked()
		s.hasDone.Store(true)
	}
	d := s.done
	s.mu.Unlock()
	runHooks(hooks)
	return d
}

// Err is nil until the context is done, and then why it is.
func (c *Ctx) Err() error {
	s := (*Scope)(c)
	if s.doneA.Load() {
		return s.err // set once, before doneA: thousands of cancelled tasks may ask at once
	}
	if s.parent.Err() == nil {
		return nil // nothing to catch up with
	}
	s.mu.Lock()
	hooks := s.syncLocked()
	err := s.err
	s.mu.Unlock()
	runHooks(hooks)
	return err
}

// Value returns the parent's values. Asked for the standard library's own
// key by context.Cause, it returns the carrier of the scope's cause.
func (c *Ctx) Value(key any) any {
	s := (*Scope)(c)
	switch {
	case key == any(movableKey{}):
		if s.fixed {
			break // its deadline is the parent's
		}
		return true
	case isCancelCtxKey(key):
		return s.causeCarrier()
	}
	return s.parent.Value(key)
}

// movableKey is the key of the Value that marks a scope's context, and the
// contexts derived from it: their deadline can move.
type movableKey struct{}

// Movable reports whether ctx's deadline may move: whether it is, or derives
// from, a scope's context.
func Movable(ctx context.Context) bool {
	return ctx.Value(movableKey{}) != nil
}

// AfterFunc arranges for f to run once the context is done, in the goroutine
// that ends it (or in a goroutine of its own if it is done already: the
// standard library calls AfterFunc holding a lock that f takes); the
// returned stop reports whether it kept f from running. The standard library
// calls it to cancel the contexts derived from this one.
func (c *Ctx) AfterFunc(f func()) (stop func() bool) {
	h := &hook{f: f}
	s := (*Scope)(c)
	s.mu.Lock()
	hooks := s.syncLocked()
	if s.fired {
		s.mu.Unlock()
		runHooks(hooks)
		go f()
		return func() bool { return false }
	}
	s.watchLocked()
	e := s.extLocked()
	if e.hooks == nil {
		e.hooks = make(map[*hook]struct{})
	}
	e.hooks[h] = struct{}{}
	s.mu.Unlock()
	return func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, ok := s.ext.hooks[h]
		delete(s.ext.hooks, h)
		return ok
	}
}

func (c *Ctx) String() string {
	if (*Scope)(c).fixed {
		return "nursery context" // a nursery's, begun by BeginFixed
	}
	return "cancel.Scope context"
}

// causeCarrier returns a standard context holding the scope's cause, made
// on first use. Its Done is not the scope's, so that the standard library
// attaches derived contexts through AfterFunc rather than to it.
func (s *Scope) causeCarrier() context.Context {
	s.mu.Lock()
	hooks := s.syncLocked()
	if !s.fired {
		// No cause yet: a carrier that is never cancelled says so, and
		// costs nothing (the standard library asks for one whenever a
		// context is derived from this one).
		s.mu.Unlock()
		runHooks(hooks)
		return noCause
	}
	e := s.extLocked()
	if e.carrier == nil {
		e.carrier, e.stopCarrier = context.WithCancelCause(context.Background())
		e.stopCarrier(s.cause)
	}
	c := e.carrier
	s.mu.Unlock()
	runHooks(hooks)
	return c
}

// noCause is the carrier of the cause of a context that is not done: a
// standard context that is never cancelled, shared by every scope.
var noCause, _ = context.WithCancelCause(context.Background())

// probe answers, through Value, the standard library's private key for a
// cancelCtx with itself and nothing else: that is how Value recognises it.
var probe, _ = context.WithCancel(context.Background())

func isCancelCtxKey(key any) bool {
	return probe.Value(key) == any(probe)
}
