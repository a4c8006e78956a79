package timeout

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/structured-go/structured/internal/scope"
)

// A Timeout is a timeout whose deadline can move while the work runs, like
// asyncio.Timeout: Reschedule it later to give the work more time, earlier to
// end it sooner, or to the zero time to disable it. It runs once.
//
// Its methods are safe for concurrent use; Reschedule, Cancel and the
// queries may be called from any goroutine while Run runs.
//
// The zero Timeout is a disabled one: Run runs the work with no deadline of
// its own until Reschedule sets one. A Timeout must not be copied once used.
type Timeout struct {
	s scope.Scope

	// What was asked, for the words of the error: a deadline d after Run
	// starts (New, relative), or at (NewAt); and whether Reschedule moved
	// it.
	d        time.Duration
	at       time.Time
	relative bool
	moved    atomic.Bool
}

// New returns a Timeout whose deadline is d after Run starts. A d of zero
// or less means the work starts with a context that is already done. The
// only option is WithShield, which keeps the parent's cancellation and
// deadline from the work.
func New(d time.Duration, opts ...Option) *Timeout {
	t := &Timeout{d: d, relative: true}
	t.s.SetTimeout(d)
	t.configure(opts, "New")
	return t
}

// NewAt returns a Timeout with the deadline when; the zero time means none
// (until Reschedule sets one). It takes the options of New.
func NewAt(when time.Time, opts ...Option) *Timeout {
	t := &Timeout{at: when}
	t.s.SetDeadline(when)
	t.configure(opts, "NewAt")
	return t
}

func (t *Timeout) configure(opts []Option, name string) {
	if len(opts) > 0 && parseOptions(opts, name).shield {
		t.s.SetShield(true)
	}
}

// Run runs fn with a context that ends at the Timeout's deadline, as FailAt
// does, with the same rules, and returns an error matching ErrTimeout if the
// deadline ended fn. The deadline can move while fn runs (Reschedule). A
// second Run returns ErrRunTwice without calling fn. It panics if ctx or fn
// is nil.
func (t *Timeout) Run(ctx context.Context, fn func(ctx context.Context) error) error {
	if ctx == nil {
		panic("timeout: Timeout.Run called with a nil context")
	}
	if fn == nil {
		panic("timeout: Timeout.Run called with a nil function")
	}
	start := time.Now()
	var work error
	err, ran := t.s.Run(ctx, func(ctx context.Context) error {
		work = fn(ctx)
		return work
	})
	switch {
	case !ran:
		return ErrRunTwice
	case err == nil && t.s.CancelledCaught() && t.s.Trigger() == scope.ByDeadline:
		when, _ := t.s.Deadline()
		d := when.Sub(start)
		moved := t.moved.Load()
		if t.relative && !moved {
			d = t.d // what was asked, not the clock's reading of it
		}
		e := timedOut(d, work)
		if moved {
			e.moved = true
			switch {
			case t.relative:
				e.asked, e.hasAsked = t.d, true
			case !t.at.IsZero():
				e.asked, e.hasAsked = t.at.Sub(start), true
			}
		}
		return e
	}
	return err
}

// Reschedule moves the deadline to when; the zero time disables it. A when
// at or before now ends the work at once. It returns ErrNotEntered before Run,
// ErrExpired once the deadline has fired, and ErrFinished after Run returned.
func (t *Timeout) Reschedule(when time.Time) error {
	started, finished, expired := t.s.Reschedule(when)
	if started && !finished && !expired {
		t.moved.Store(true)
	}
	switch {
	case !started:
		return ErrNotEntered
	case finished:
		return ErrFinished
	case expired:
		return ErrExpired
	}
	return nil
}

// When returns the deadline, and false if there is none (also before Run
// for a Timeout made by New, whose deadline counts from Run).
func (t *Timeout) When() (time.Time, bool) { return t.s.Deadline() }

// Expired reports whether the deadline fired while Run was running, whether
// or not fn then returned nil. It is false if fn returned first, if the
// timeout was disabled, and if something else (the parent, Cancel) ended fn.
func (t *Timeout) Expired() bool { return t.s.Trigger() == scope.ByDeadline }

// Cancel ends the work now, with cause (context.Canceled if nil). It is not a
// timeout: Run absorbs its echo and returns nil, and Expired stays false.
func (t *Timeout) Cancel(cause error) { t.s.Cancel(cause) }
