// Package scope is the machinery of a trio cancel scope on top of context:
// a context that can be cancelled explicitly, by a deadline that can move
// while it runs, or by its parent unless shielded, and that records which of
// these ended it. Package cancel exports it as cancel.Scope; package timeout
// builds its reschedulable Timeout on it.
package scope

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/internal/noise"
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

// A Scope is created, run once, and then only inspected. Its zero value is a
// scope with no deadline, not shielded. It must not be copied once used.
type Scope struct {
	mu sync.Mutex

	st       state
	deadline time.Time     // own absolute deadline; zero for none
	timeout  time.Duration // relative deadline, counted from Run
	relative bool
	shield   bool

	trigger Trigger
	called  bool  // Cancel was called, or the deadline passed while running
	cause   error // the first cause given to Cancel
	caught  bool
	err     error // what ctx.Err() reports once cancelled

	parent context.Context
	base   detached
	inner  context.Context
	stop   context.CancelCauseFunc
	unlink func() bool
	timer  *time.Timer
	ctx    Ctx

	// callbacks counts the timer and parent callbacks that are scheduled or
	// running, so that Run can wait for the last of them before it returns.
	callbacks sync.WaitGroup
}

// SetTimeout sets a deadline relative to the start of Run, replacing any
// other deadline. Only before Run.
func (s *Scope) SetTimeout(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timeout, s.relative, s.deadline = d, true, time.Time{}
}

// SetDeadline sets the deadline; the zero time removes it. While running, a
// deadline at or before now cancels at once, a later one rearms the timer;
// once the scope is cancelled, it changes nothing but what Deadline reports.
func (s *Scope) SetDeadline(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deadline, s.relative = t, false
	if s.st == running && s.trigger == NotCancelled {
		s.armLocked(time.Now())
	}
}

// Deadline returns the scope's own deadline, if it has one.
func (s *Scope) Deadline() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deadline, !s.deadline.IsZero()
}

// SetShield turns the shield on or off. Turning it off while the parent is
// done cancels the scope at once; turning it on cannot revive a context that
// is already done.
func (s *Scope) SetShield(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shield = on
	if !on && s.st == running && s.trigger == NotCancelled && s.parent.Err() != nil {
		s.fireLocked(ByParent, s.parent.Err(), context.Cause(s.parent))
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
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cause == nil {
		s.cause = cause
	}
	s.called = true
	if s.st == running {
		s.fireLocked(ByCancel, context.Canceled, cause)
	}
}

// CancelCalled reports whether Cancel was called or the scope's deadline has
// passed (also before Run, for an absolute deadline).
func (s *Scope) CancelCalled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.called {
		return true
	}
	return s.st != exited && !s.deadline.IsZero() && !time.Now().Before(s.deadline)
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
	defer s.mu.Unlock()
	return s.trigger
}

// Started reports whether Run has begun; Exited whether it has returned.
func (s *Scope) Started() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.st != created }
func (s *Scope) Exited() bool  { s.mu.Lock(); defer s.mu.Unlock(); return s.st == exited }

// Run runs fn with the scope's context; see cancel.Scope.Run. It reports
// false, without calling fn, if the scope has already run.
func (s *Scope) Run(ctx context.Context, fn func(ctx context.Context) error) (error, bool) {
	s.mu.Lock()
	if s.st != created {
		s.mu.Unlock()
		return nil, false
	}
	s.st = running
	s.parent = ctx
	var now time.Time
	if s.relative || !s.deadline.IsZero() {
		now = time.Now()
	}
	if s.relative {
		s.deadline, s.relative = now.Add(s.timeout), false
	}
	// The scope's context keeps the parent's values but not its
	// cancellation, which is linked by hand so that the shield can cut it.
	s.base.parent = ctx
	s.inner, s.stop = context.WithCancelCause(&s.base)
	s.ctx = Ctx{Context: s.inner, s: s}
	switch {
	case s.called:
		s.fireLocked(ByCancel, context.Canceled, s.cause)
	case !s.shield && ctx.Err() != nil:
		s.fireLocked(ByParent, ctx.Err(), context.Cause(ctx))
	default:
		s.armLocked(now)
	}
	if s.trigger == NotCancelled && ctx.Done() != nil {
		s.callbacks.Add(1)
		s.unlink = context.AfterFunc(ctx, s.parentDone)
	}
	s.mu.Unlock()

	normal := false
	defer func() {
		if !normal {
			s.exit(nil) // a panic or runtime.Goexit goes on unwinding
		}
	}()
	err := fn(&s.ctx)
	normal = true
	return s.exit(err), true
}

// Reschedule moves the deadline of a running scope that its deadline has not
// cancelled yet, and reports whether it did, with the scope's state.
func (s *Scope) Reschedule(t time.Time) (started, finished, expired bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	started, finished, expired = s.st != created, s.st == exited, s.trigger == ByDeadline
	if started && !finished && !expired {
		s.deadline, s.relative = t, false
		if s.trigger == NotCancelled {
			s.armLocked(time.Now())
		}
	}
	return started, finished, expired
}

// exit ends the scope and classifies fn's error: the echo of the scope's own
// cancellation is absorbed (caught), unless the parent's cancellation is
// visible too, in which case the outer scope is the one to catch it.
func (s *Scope) exit(err error) error {
	s.mu.Lock()
	s.st = exited
	s.stopTimerLocked()
	unlink := s.unlink
	own := (s.trigger == ByCancel || s.trigger == ByDeadline) && (s.shield || s.parent.Err() == nil)
	s.mu.Unlock()
	if err != nil && own {
		var caught bool
		err, caught = strip(&s.ctx, err) // Ctx.Err takes s.mu
		s.mu.Lock()
		s.caught = caught
		s.mu.Unlock()
	}
	if unlink != nil && unlink() {
		s.callbacks.Done() // it will never run
	}
	s.callbacks.Wait() // one may be running: nothing of the scope's outlives Run
	s.stop(errExited)
	return err
}

// strip removes the echoes of ctx's cancellation from err, also from inside
// combined errors, and reports whether it removed any.
func strip(ctx context.Context, err error) (error, bool) {
	multi, ok := err.(interface{ Unwrap() []error })
	if !ok {
		if noise.Echo(ctx, err) {
			return nil, true
		}
		return err, false
	}
	var rest []error
	stripped := false
	for _, e := range multi.Unwrap() {
		r, st := strip(ctx, e)
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

// fireLocked cancels the scope's context, if nothing has yet.
func (s *Scope) fireLocked(t Trigger, err, cause error) {
	if s.trigger != NotCancelled {
		return
	}
	s.trigger, s.err = t, err
	if t != ByParent {
		s.called = true
	}
	s.stopTimerLocked()
	s.stop(cause)
}

// stopTimerLocked stops the deadline's timer; if that keeps its callback
// from running, the callback no longer counts.
func (s *Scope) stopTimerLocked() {
	if s.timer != nil && s.timer.Stop() {
		s.callbacks.Done()
	}
}

// armLocked sets the timer for the deadline, or fires if it has passed.
func (s *Scope) armLocked(now time.Time) {
	s.stopTimerLocked()
	switch {
	case s.deadline.IsZero():
	case !now.Before(s.deadline):
		s.deadlineLocked()
	case s.timer == nil:
		s.callbacks.Add(1)
		s.timer = time.AfterFunc(s.deadline.Sub(now), s.deadlinePassed)
	default:
		s.callbacks.Add(1)
		s.timer.Reset(s.deadline.Sub(now))
	}
}

// deadlinePassed runs on the timer's goroutine. The deadline may have moved
// since the timer was set, hence the check.
func (s *Scope) deadlinePassed() {
	defer s.callbacks.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == running && !s.deadline.IsZero() && !time.Now().Before(s.deadline) {
		s.deadlineLocked()
	}
}

// deadlineLocked fires the scope's deadline, which has passed, unless the
// parent's deadline is no later and reaches this scope: ties go to the outer
// scope, as in trio, and the parent's cancellation will arrive on its own.
func (s *Scope) deadlineLocked() {
	if !s.shield {
		if pd, ok := s.parent.Deadline(); ok && !pd.After(s.deadline) {
			return
		}
	}
	s.fireLocked(ByDeadline, context.DeadlineExceeded, context.DeadlineExceeded)
}

// parentDone runs when the parent context is done.
func (s *Scope) parentDone() {
	defer s.callbacks.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == running && !s.shield {
		s.fireLocked(ByParent, s.parent.Err(), context.Cause(s.parent))
	}
}

// Ctx is the context a scope gives to its function. Done, Value and Cause
// come from a context.WithCancelCause inside; Err and Deadline say what the
// scope knows: DeadlineExceeded when its deadline fired, the parent's error
// when the parent cancelled it, and the effective deadline (its own, or the
// parent's if earlier and not shielded).
type Ctx struct {
	context.Context
	s *Scope
}

func (c *Ctx) Err() error {
	if c.Context.Err() == nil {
		return nil
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.s.err == nil {
		return context.Canceled // released by exit
	}
	return c.s.err
}

func (c *Ctx) Deadline() (time.Time, bool) {
	c.s.mu.Lock()
	own, shield := c.s.deadline, c.s.shield
	c.s.mu.Unlock()
	if shield {
		return own, !own.IsZero()
	}
	parent, ok := c.s.parent.Deadline()
	if own.IsZero() || ok && parent.Before(own) {
		return parent, ok
	}
	return own, true
}

func (c *Ctx) String() string { return "cancel.Scope context" }

// detached carries the parent's values without its cancellation. Unlike
// context.WithoutCancel it lives inside the Scope, so it costs no allocation.
// Its Done is nil, so the context derived from it is not linked to the
// parent; Cause stops at that derived context, which is always the nearer.
type detached struct{ parent context.Context }

func (detached) Deadline() (time.Time, bool) { return time.Time{}, false }
func (detached) Done() <-chan struct{}       { return nil }
func (detached) Err() error                  { return nil }
func (d *detached) Value(key any) any        { return d.parent.Value(key) }
func (d *detached) String() string           { return "cancel.Scope detached parent" }
