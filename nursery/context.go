package nursery

import (
	"context"
	"time"

	"github.com/structured-go/structured/internal/scope"
)

// nctx is a nursery's context. To the standard library it is one of its
// own: Value answers the standard library's private key with a standard
// cancelCtx (inner, made by context.WithCancelCause under Run's ctx) whose
// Done is nctx's, so that a context derived from the nursery's, through any
// number of WithValue layers (a request id, a logger, pprof labels, a
// tracing span), is attached to it without a goroutine and is cancelled in
// the same call that cancels the nursery; Err and Cause are inner's,
// consistent as the standard library makes them.
//
// inner is made the first time someone waits on Done, derives a context,
// asks for the cause, or asks for Err once there is something to report:
// a Run whose tasks never look at their context (or only ask Err while it
// is nil) costs no context of its own. Until then, the nursery's
// cancellation is recorded in the nursery, and inner starts cancelled.
//
// nctx lives in the Nursery, so it costs no allocation of its own, and
// answers two keys of its own: the tracker of a tracked nursery, for the
// nurseries nested in it, and the nursery as a scope.Owner, for the cancel
// scopes nested in it (see relayState).
type nctx struct {
	n *Nursery
}

func (c *nctx) Deadline() (time.Time, bool) { return c.n.parent.Deadline() }

func (c *nctx) Done() <-chan struct{} { return c.n.innerCtx().Done() }

func (c *nctx) Err() error {
	n := c.n
	if n.innerMade.Load() {
		if err := n.inner.Err(); err != nil || !n.cancelled.Load() {
			return err
		}
		return n.innerCtx().Err() // made while the nursery was cancelled: see innerCtx
	}
	if n.cancelled.Load() || n.parent.Err() != nil {
		return n.innerCtx().Err() // made done: Err never comes before Done
	}
	return nil
}

func (c *nctx) Value(key any) any {
	switch key.(type) {
	case trackerKey:
		if tr := c.n.trackerOf(); tr != nil {
			return tr
		}
	case observerKey:
		if c.n.cfg != nil && c.n.cfg.obs != nil && c.n.cfg.obs.obs != nil {
			return c.n.cfg.obs
		}
	case *int: // the type of the standard library's key
		if scope.IsCancelCtxKey(key) {
			return c.n.innerCtx().Value(key)
		}
	default:
		if scope.IsOwnerKey(key) {
			return c.n
		}
	}
	return c.n.parent.Value(key)
}

func (c *nctx) String() string { return "nursery context" }

// begin makes the nursery's context under parent.
func (n *Nursery) begin(parent context.Context) {
	n.parent = parent
	n.c.n = n
}

// innerCtx returns inner, made if it is not yet, under the parent, and
// cancelled if the nursery was: whoever finds it made but not yet
// cancelled, while the nursery is, cancels it itself, so that nobody sees
// the context live once Cancel has returned. inner is made outside the
// lock, as the standard library asks the parent, which may run links that
// take it.
func (n *Nursery) innerCtx() context.Context {
	if !n.innerMade.Load() {
		in, stop := context.WithCancelCause(n.parent)
		n.mu.Lock()
		if n.innerMade.Load() { // made meanwhile by another caller: use that one
			n.mu.Unlock()
			stop(nil)
		} else {
			n.inner, n.stop = in, stop
			n.innerMade.Store(true)
			n.mu.Unlock()
		}
	}
	if n.cancelled.Load() && n.inner.Err() == nil {
		n.mu.Lock()
		stop, cause := n.stop, n.cause
		n.mu.Unlock()
		stop(cause) // idempotent: once it returns, inner and all below it are cancelled
	}
	return n.inner
}

// cancel cancels the nursery's context with cause, if nothing has yet, and
// runs the links of the scopes nested in it: when cancel returns, every
// context derived from the nursery's is done.
func (n *Nursery) cancel(cause error) { n.cancelBy(cause, nil) }

// cancelBy is cancel by the failure (or Race win) of the observed task by,
// if it is not nil: if this call is the one that cancels the nursery, the
// task is recorded as the cause of the others' end, before their contexts
// are done, so that every task that ends cancelled finds it. A failure
// after the nursery was cancelled otherwise is the cause of nothing.
func (n *Nursery) cancelBy(cause error, by *taskObservation) {
	if cause == nil {
		cause = context.Canceled
	}
	n.mu.Lock()
	if n.cancelled.Load() {
		n.mu.Unlock()
		return
	}
	n.cause = cause
	n.cancelled.Store(true)
	if by != nil && (cause == errLost || n.parent.Err() == nil) {
		// The parent's cancellation reaches the nursery through the
		// standard library's goroutine when the parent is a context of
		// the caller's own: a failure in between came after it. A Race's
		// win was decided before, while the parent was live.
		by.o.cause.Store(&by.ev)
	}
	stop := n.stop
	n.mu.Unlock()
	if stop != nil {
		stop(cause)
	}
	if n.cfg != nil && (n.cfg.tr != nil || n.cfg.obs != nil) {
		n.noteCancel(cause) // for the tree and the trace
	}
	if n.hasLinks.Load() {
		n.runLinks()
	}
}

// end ends the nursery's context once Run's tasks have all returned: it is
// cancelled with context.Canceled as its cause, as errgroup's is, unless
// something cancelled it before; nothing of the nursery stays linked.
func (n *Nursery) end() {
	n.cancel(context.Canceled)
	if n.hasLinks.Load() {
		n.mu.Lock()
		o, l := n.st.lk.relay.owner, n.st.lk.relay.link
		n.st.lk.relay.owner, n.st.lk.relay.link = nil, nil
		n.mu.Unlock()
		if l != nil {
			o.Unlink(l)
		}
	}
}

// runLinks runs the links, once: the nursery's context is done.
func (n *Nursery) runLinks() {
	n.mu.Lock()
	fs := n.st.lk.links.Take()
	n.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// linkState is the part of a Nursery that only nurseries with cancel
// scopes nested in their context need.
type linkState struct {
	links scope.Links
	relay relayState
}

// linksLocked makes n.lk, if it is not made yet.
func (n *Nursery) linksLocked() *linkState {
	st := n.stateLocked()
	if st.lk == nil {
		st.lk = &linkState{}
		n.hasLinks.Store(true) // before the check of Err in Link: see cancel
	}
	return st.lk
}

// relayState is how the cancellation of the nursery's parent reaches the
// scopes linked to the nursery. The standard library cancels the nursery's
// context, a child of its parent's, without calling the nursery; if the
// parent is an Owner, the nursery links itself to it, and runs its own
// links when the parent's run.
type relayState struct {
	tried    bool
	complete bool // every cancellation of the nursery's context runs its links
	owner    scope.Owner
	link     *scope.Link
}

// Link adds l to the functions the nursery runs when its context is
// cancelled, for a scope nested in its context; see scope.Owner.
func (n *Nursery) Link(l *scope.Link) (added, complete bool) {
	n.relayOnce()
	n.mu.Lock()
	defer n.mu.Unlock()
	lk := n.st.lk // made by relayOnce
	if n.cancelled.Load() || n.inner != nil && n.inner.Err() != nil || !lk.links.Add(l) {
		return false, false
	}
	return true, lk.relay.complete
}

// Unlink removes l; see scope.Owner.
func (n *Nursery) Unlink(l *scope.Link) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.st != nil && n.st.lk != nil && n.st.lk.links.Remove(l)
}

// Done is the Done of the nursery's context; see scope.Owner.
func (n *Nursery) Done() <-chan struct{} { return n.innerCtx().Done() }

// relayOnce links the nursery to its parent's owner, the first time a
// scope links itself to the nursery. It runs without the nursery's lock:
// it asks the parent, which may run links.
func (n *Nursery) relayOnce() {
	n.mu.Lock()
	lk := n.linksLocked()
	if lk.relay.tried {
		n.mu.Unlock()
		return
	}
	lk.relay.tried = true
	n.mu.Unlock()
	complete := n.parent.Done() == nil // never cancelled
	o := scope.OwnerOf(n.parent)
	var l *scope.Link
	if o != nil {
		l = scope.NewLink(n.runLinks)
		added, c := o.Link(l)
		if added {
			complete = c
		} else {
			o, l = nil, nil
		}
	}
	n.mu.Lock()
	lk.relay.owner, lk.relay.link, lk.relay.complete = o, l, complete
	n.mu.Unlock()
}
