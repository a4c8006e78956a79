package cancel

import (
	"context"
	"errors"
	"time"

	"github.com/structured-go/structured/internal/scope"
)

var (
	// ErrRunTwice is returned by Run when the scope has already run, or is
	// running: a Scope runs once.
	ErrRunTwice = errors.New("cancel: Run called twice; a Scope runs once")

	// ErrScopeReused is ErrRunTwice.
	//
	// Deprecated: use ErrRunTwice, the name shared with timeout.ErrRunTwice.
	ErrScopeReused = ErrRunTwice
)

// A Scope is a trio cancel scope: it runs a function with a context that ends
// when the scope is cancelled, when its own deadline passes, or when the
// parent context ends, unless the scope is shielded. Unlike a context, the
// deadline and the shield can change while the function runs, and the scope
// remembers why it ended: after Run, CancelCalled and CancelledCaught say
// whether it was cancelled and whether its cancellation is what ended fn.
//
// A Scope runs once. Its methods are safe for concurrent use, also while Run
// is running: Cancel may be called from any goroutine.
//
// The zero Scope is ready to use: no deadline, not shielded, as New() makes
// it. A Scope must not be copied once used.
type Scope struct {
	s scope.Scope
}

// An Option configures a Scope. Pass options to New.
type Option interface {
	apply(*scope.Scope)
}

type optionFunc func(*scope.Scope)

func (f optionFunc) apply(s *scope.Scope) { f(s) }

// WithDeadline gives the scope an absolute deadline. At or after t, the
// scope's context is done with context.DeadlineExceeded. A t in the past, or
// now, means fn starts with a context that is already done.
func WithDeadline(t time.Time) Option {
	return optionFunc(func(s *scope.Scope) { s.SetDeadline(t) })
}

// WithTimeout gives the scope a deadline d after Run starts (not after New,
// so a scope can be made ahead of time). A d of zero or less means fn starts
// with a context that is already done.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(s *scope.Scope) { s.SetTimeout(d) })
}

// WithShield shields the scope from its parent: the parent's cancellation and
// deadline do not reach fn. The scope's own Cancel and deadline still do.
//
// A shield is for cleanup that must still block after the work around it
// was cancelled, and a shield without a deadline can block forever: for
// bounded cleanup, prefer timeout.MoveOnAfter(ctx, d, cleanup,
// timeout.WithShield()), which is this with the deadline built in. Use
// cancel.WithShield when the scope is one you also cancel or move yourself,
// or to turn the shield off later (SetShield).
func WithShield() Option {
	return optionFunc(func(s *scope.Scope) { s.SetShield(true) })
}

// New returns a scope that has not run yet. With both WithDeadline and
// WithTimeout, the last one given wins.
func New(opts ...Option) *Scope {
	s := &Scope{}
	for _, o := range opts {
		if o == nil {
			panic("cancel: New called with a nil Option")
		}
		o.apply(&s.s)
	}
	return s
}

// Run runs fn with the scope's context and returns fn's error, with one
// exception: if the scope's own cancellation (Cancel or its deadline) ended
// fn, the echo of it that fn returns (ctx.Err(), context.Cause(ctx), or errors
// wrapping them, also inside a combined error) is absorbed, CancelledCaught
// becomes true, and Run returns nil, or the rest of fn's error. If the parent
// was cancelled too and the scope is not shielded, the echo goes through
// unchanged, for the outer scope to catch.
//
// fn is called even if the scope is already cancelled, or its deadline has
// passed, or the parent is done: it then starts with a context that is done,
// and can still run cleanup. Run does not return before fn does.
//
// The context fn receives reports, in Err, context.Canceled after Cancel,
// context.DeadlineExceeded after the deadline, and the parent's error after
// the parent's cancellation; context.Cause says why; Deadline is the
// effective deadline: the scope's own, or the parent's if that is earlier and
// the scope is not shielded.
//
// Contexts derived from fn's (context.WithCancel, WithTimeout, AfterFunc,
// through WithValue layers or not) are its children in the standard
// library's own tree: they report the same Err and Cause, and are done when
// Cancel returns. One made with context.WithTimeout or WithDeadline for a
// time later than the scope's deadline gets no timer of its own, as under
// any standard context with a sooner deadline: its Deadline is the scope's,
// and it ends with the scope, at the scope's deadline as it stands when it
// passes. So if SetDeadline moves the deadline later, such a context moves
// with it, and ends neither at the old deadline nor at its own. A bound of
// your own that must hold while the scope's deadline moves is
// timeout.FailAfter (or MoveOnAfter, or a nested Scope) inside fn: those
// keep a timer of their own whatever the scope's deadline.
//
// fn's return happens before Run returns, and so do those of the callbacks
// the scope schedules (its timer, its watch on ctx).
//
// Run returns ErrRunTwice, without calling fn, on a scope that has run.
// It panics if ctx or fn is nil.
func (s *Scope) Run(ctx context.Context, fn func(ctx context.Context) error) error {
	if ctx == nil {
		panic("cancel: Scope.Run called with a nil context")
	}
	if fn == nil {
		panic("cancel: Scope.Run called with a nil function")
	}
	err, ran := s.s.Run(ctx, fn)
	if !ran {
		return ErrRunTwice
	}
	return err
}

// Cancel cancels the scope with cause (context.Canceled if nil). It does not
// wait for fn to return. Cancel is idempotent: only the first cause is kept.
// Called before Run, it makes fn start cancelled; after Run, it only makes
// CancelCalled true.
func (s *Scope) Cancel(cause error) { s.s.Cancel(cause) }

// CancelCalled reports whether Cancel was called or the scope's deadline has
// passed, whether or not that ended fn. For a scope that has not run, it is
// true once an absolute deadline has passed.
func (s *Scope) CancelCalled() bool { return s.s.CancelCalled() }

// CancelledCaught reports whether the scope's own cancellation ended fn and
// Run absorbed its echo.
func (s *Scope) CancelledCaught() bool { return s.s.CancelledCaught() }

// SetDeadline moves the scope's deadline, also while Run is running, from any
// goroutine. A deadline at or before now cancels the scope at once; moving it
// later before it passes prevents the cancellation; once the scope is
// cancelled, moving the deadline does not undo it. The zero time removes the
// deadline.
func (s *Scope) SetDeadline(t time.Time) { s.s.SetDeadline(t) }

// Deadline returns the scope's own deadline, if it has one (a WithTimeout
// deadline is known once Run has started).
func (s *Scope) Deadline() (time.Time, bool) { return s.s.Deadline() }

// SetShield turns the shield on or off, also while Run is running. Turning
// it off while the parent is done cancels the scope at once. Turning it on
// protects fn from a later cancellation of the parent, but a context that is
// already done stays done: contexts never come back to life.
func (s *Scope) SetShield(on bool) { s.s.SetShield(on) }

// Shielded reports whether the scope is shielded.
func (s *Scope) Shielded() bool { return s.s.Shielded() }
