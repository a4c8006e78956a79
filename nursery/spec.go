package nursery

import (
	"context"
	"runtime/debug"
	"runtime/pprof"
)

// A spec is a task started through the general path: named, spawned or
// started. Plain Go calls take the lighter path in run.
type spec struct {
	ctx  context.Context
	fn   func(context.Context) error
	name string

	// hook, if set, sees how the task ended before the nursery does, and may
	// take the outcome for itself (Start does, until started is called).
	hook hook
	// stop, if set, releases ctx once the task has returned.
	stop context.CancelCauseFunc
}

type hook interface {
	// finish receives the task's error, or its panic, or goexit == true. It
	// reports whether it took the outcome; if not, the nursery records it.
	finish(err error, p *PanicError, goexit bool) (taken bool)
}

// newSpec applies the options; it may panic, so callers make it before they
// count the task. ctx may be set later.
func (n *Nursery) newSpec(ctx context.Context, fn func(context.Context) error, opts []TaskOption) *spec {
	s := &spec{ctx: ctx, fn: fn}
	for _, o := range opts {
		if o == nil {
			panic("nursery: nil TaskOption")
		}
		o.applyTask(s)
	}
	return s
}

// launch starts s, the count already taken by enter or tryEnter.
func (n *Nursery) launch(s *spec) {
	if n.sem != nil && !n.acquire() {
		go func() {
			n.sem <- struct{}{}
			n.runSpec(s)
		}()
		return
	}
	go n.runSpec(s)
}

func (n *Nursery) runSpec(s *spec) {
	normal := false
	defer func() {
		if !normal {
			r := recover()
			var p *PanicError
			if r != nil {
				p = newPanicError(r, s.name, false, debug.Stack())
			}
			if s.hook == nil || !s.hook.finish(nil, p, r == nil) {
				if p != nil {
					n.recordPanic(p)
				} else {
					n.recordGoexit(s.name, false)
				}
			}
		}
		if s.stop != nil {
			s.stop(ErrClosed)
		}
		n.leave()
	}()
	var err error
	if s.name != "" {
		pprof.Do(s.ctx, pprof.Labels("task", s.name), func(ctx context.Context) {
			err = s.fn(ctx)
		})
	} else {
		err = s.fn(s.ctx)
	}
	normal = true
	if s.hook != nil && s.hook.finish(err, nil, false) {
		return
	}
	if err != nil {
		n.fail(s.ctx, err, s.name)
	}
}
