package nursery

import (
	"context"
	"runtime/pprof"
)

// A spec is a task started through the general path: named, spawned or
// started, observed or traced, a Race's, or an item of Map, ForEach or
// Gather in a tracked, observed or traced nursery. Plain Go calls take the
// lighter path in run; both end through unwound and fail.
type spec struct {
	ctx  context.Context
	fn   func(context.Context) error
	name string

	// hook, if set, sees how the task ended (Spawn's Task, Start's starter).
	hook hook
	// stop, if set, releases ctx once the task has returned.
	stop context.CancelCauseFunc
	// user is the task's function as the user gave it, which names the
	// task in the tree; rec is its record there, if the nursery is tracked.
	user any
	rec  *taskRec
	// untilCancelled is UntilCancelled: for the tree and the stuck report.
	untilCancelled bool
	// obs is the task's observation, if its nursery is observed.
	obs *taskObservation
	// race is set for a function of Race, which returns errWon when it
	// wins: the nursery then records the win before it cancels the others.
	race bool
}

// A hook sees how a task ended.
type hook interface {
	// take is offered the outcome before the nursery: err, or a panic, or
	// a Goexit (as the error standing for it). It reports whether it took
	// the outcome for itself, in which case the nursery never sees it
	// (Start does, until started is called).
	take(err error, p *PanicError, goexit error) bool
	// settle receives the outcome after the nursery has recorded it, so
	// that whoever it hands the outcome to finds the nursery up to date.
	settle(err error)
	// handed reports whether settle hands the outcome to user code.
	handed() bool
}

// newSpec applies the options; it may panic, so callers make it before they
// count the task. ctx may be set later.
func (n *Nursery) newSpec(ctx context.Context, fn func(context.Context) error, opts []TaskOption) *spec {
	s := &spec{ctx: ctx, fn: fn}
	for _, o := range opts {
		if o == nil {
			panic("nursery: nil TaskOption")
		}
		o.applyToTask(s)
	}
	return s
}

func (s *spec) origin() origin {
	return origin{name: s.name, handed: s.hook != nil && s.hook.handed()}
}

// launch starts s, the count already taken by enter or tryEnter. Under a
// full limit in a cancelled nursery, s waits in the queue.
func (n *Nursery) launch(s *spec) {
	if tr := n.trackerOf(); tr != nil {
		s.rec = tr.open(s.name, s.user, s.untilCancelled)
	}
	if n.cfg.limited() && !n.acquire(queued{s: s}) {
		return // queued, or refused
	}
	go n.runSpec(s)
}

// runSpec is the goroutine of a task started through the general path.
func (n *Nursery) runSpec(s *spec) {
	defer func() { // last, whatever the deferred call below does
		if s.stop != nil {
			s.stop(nil)
		}
		if s.rec != nil {
			s.rec.close()
		}
		n.leave()
	}()
	// normal: the task returned; delivered: its outcome went to the hook
	// and the nursery, and only the observers' TaskEnded was left, whose
	// Goexit must not deliver it a second time.
	normal, delivered := false, false
	defer func() {
		if !normal && !delivered {
			o := s.origin()
			p, goexit := unwound(recover(), o)
			if s.hook == nil || !s.hook.take(nil, p, goexit) {
				cause := n.recordUnwound(p, goexit, o)
				if s.hook != nil {
					s.hook.settle(cause) // the *PanicError, or the Goexit's error
				}
				n.cancelBy(cause, s.obs)
			}
			n.observeEnd(s, nil, p, goexit)
		}
	}()
	var err error
	ctx := s.ctx
	if n.cfg != nil && n.cfg.obs != nil && n.observesTasks() {
		ctx = n.observeTask(s)
	}
	if s.name != "" {
		labels := pprof.Labels("task", s.name)
		if n.cfg != nil && n.cfg.name != "" {
			labels = pprof.Labels("nursery", n.cfg.name, "task", s.name) // the task's own set replaces the one it inherits
		}
		pprof.Do(ctx, labels, func(ctx context.Context) {
			err = s.invoke(ctx)
		})
	} else {
		err = s.invoke(ctx)
	}
	if s.race && err == errWon {
		delivered = true
		n.observeEnd(s, nil, nil, nil)
		normal = true
		n.cancelBy(errLost, s.obs) // the winner is the losers' cause
		return
	}
	if s.hook != nil && s.hook.take(err, nil, nil) {
		delivered = true
		n.observeEnd(s, err, nil, nil)
		normal = true
		return
	}
	var cause error
	if err != nil {
		cause = n.fail(s.ctx, err, s.origin()) // inside the recover: it may call the error's methods
	}
	if s.hook != nil {
		s.hook.settle(err)
	}
	delivered = true
	n.observeEnd(s, err, nil, nil)
	normal = true
	if cause != nil {
		n.cancelBy(cause, s.obs)
	}
}
