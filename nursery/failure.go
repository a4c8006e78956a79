package nursery

import (
	"context"
	"fmt"

	"github.com/structured-go/structured/internal/echo"
)

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
		return n.recordPanic(p, o)
	}
	n.mu.Lock()
	n.appendLocked(goexit, goexit, o.handed, true)
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
//
// A panic with the very *PanicError the nursery recorded first (handed out
// by Task.Wait and re-raised, `if err != nil { panic(err) }`) is that panic
// coming back, as returning it would be: it is not recorded again, nor
// counted as crossing a nursery. recordPanic returns the panic to cancel
// the nursery with.
func (n *Nursery) recordPanic(p *PanicError, o origin) *PanicError {
	n.mu.Lock()
	defer n.mu.Unlock()
	st := n.stateLocked()
	switch {
	case st.panic == nil:
		st.panic = p
	case p.from != nil && p.from == st.panic:
		return st.panic
	case p.from != nil && n.recordedLocked(p.from):
		return p.from
	default:
		n.appendLocked(p, p, o.handed, false)
	}
	return p
}

// recordedLocked reports whether p is one of the errors recorded after the
// first panic.
func (n *Nursery) recordedLocked(p *PanicError) bool {
	for _, e := range n.st.errs {
		if e.err == error(p) {
			return true
		}
	}
	return false
}

// appendLocked records a real error at the end.
func (n *Nursery) appendLocked(err, raw error, handed, cause bool) {
	if n.first == nil {
		n.first, n.firstHanded, n.firstCause = err, handed, cause
		if !echo.Same(raw, err) {
			n.stateLocked().firstRaw = raw
		}
		return
	}
	st := n.stateLocked()
	st.errs = append(st.errs, entry{err: err, raw: raw, handed: handed, cause: cause})
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
// is counted out. It calls none of them while holding the lock.
func (n *Nursery) fail(ctx context.Context, err error, o origin) (cause error) {
	own := ctx == n.ctx()
	var isEcho bool
	if own {
		if cerr := n.c.Err(); cerr != nil {
			if err == context.Canceled && cerr == context.Canceled {
				// The commonest echo, bare: nothing more to learn from it
				// (at best it equals the parent's error, which Run reports
				// anyway). canceledEcho says that an echo came, too.
				n.canceledEcho.Store(true)
				return nil
			}
			isEcho = echo.Match(err, cerr, context.Cause(&n.c))
		}
	} else {
		isEcho = echo.Of(ctx, err)
	}
	var buf [8]error
	nodes := echo.Nodes(buf[:0], err, 64)
	var parentEcho, words bool
	if isEcho {
		parent := n.parent
		if perr := parent.Err(); perr != nil {
			pcause := context.Cause(parent)
			parentEcho = echo.Match(err, perr, pcause)
			words = !echo.Same(err, perr) && !echo.Same(err, pcause)
		}
	}
	reported := err
	if o.name != "" {
		reported = fmt.Errorf("task %q: %w", o.name, err)
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	cause, drop := n.judgeLocked(err, reported, nodes, isEcho, o)
	if drop && isEcho {
		n.echoed = true
		if parentEcho {
			if st := n.stateLocked(); st.echo == nil || words && !st.echoOwn {
				st.echo, st.echoOwn = err, words
			}
		}
	}
	return cause
}

// judgeLocked decides what err (reported as reported) is: the same as a
// failure already recorded, a wrapped form of one (which replaces it), an
// echo, or a new real error. It reports whether err is dropped, and the
// error to cancel the nursery with, if any.
func (n *Nursery) judgeLocked(err, reported error, nodes []error, isEcho bool, o origin) (cause error, drop bool) {
	if p := n.panicked(); p != nil && echo.Contains(nodes, p) {
		return nil, true // the panic, handed out by Task.Wait and coming back
	}
	if n.first != nil {
		raw := n.first
		var alts []error
		if n.st != nil {
			if n.st.firstRaw != nil {
				raw = n.st.firstRaw
			}
			alts = n.st.firstAlts
		}
		if decided, replace := judgeEntry(n.first, raw, alts, n.firstHanded, n.firstCause, err, nodes, o); decided {
			if replace {
				st := n.stateLocked()
				st.firstAlts = append(st.firstAlts, n.first)
				n.first = reported
			}
			return nil, true
		}
	}
	if n.st != nil {
		for i := range n.st.errs {
			e := &n.st.errs[i]
			if decided, replace := judgeEntry(e.err, e.raw, e.alts, e.handed, e.cause, err, nodes, o); decided {
				if replace {
					e.alts = append(e.alts, e.err)
					e.err = reported
				}
				return nil, true
			}
		}
	}
	if isEcho {
		return nil, true
	}
	collectAll := n.cfg != nil && n.cfg.collectAll
	causes := n.first == nil && !collectAll || o.body
	n.appendLocked(reported, err, o.handed, causes)
	if causes {
		cause = reported
	}
	return cause, false
}

// judgeEntry decides whether err, whose tree is nodes, is the failure
// recorded as (recorded, raw, alts) coming back: unchanged (decided), or
// wrapped by the body or by a task that waited on it (decided and replace:
// its words take the place of the recorded ones); a task that wraps the
// nursery's cause is only an echo (decided). A recorded error that nobody
// else saw (neither handed out by Wait nor the cause) cannot come back: an
// equal error is a failure of its own.
func judgeEntry(recorded, raw error, alts []error, handed, cause bool, err error, nodes []error, o origin) (decided, replace bool) {
	if !handed && !cause {
		return false, false
	}
	if echo.Same(err, recorded) || echo.Same(err, raw) || containsSame(alts, err) {
		return true, false // the same failure, back again
	}
	if echo.Contains(nodes, recorded) || echo.Contains(nodes, raw) {
		// The body, or a task that waited on this one, says more about the
		// same failure; a task wrapping the nursery's cause only echoes it.
		return true, handed || o.body
	}
	return false, false
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
