package nursery

import "context"

// An indexed is work over the items of a slice, run by Map, ForEach and
// Gather: call does item i. Starting item i costs one allocation, the
// goroutine's, where a closure per item would cost a second one.
type indexed interface {
	call(ctx context.Context, i int) error
	// user is the function item i runs, as the caller gave it: it names
	// the task in the tree, the trace and the observers' events.
	user(i int) any
}

// goIndexed starts item i of job as a task of n, as Go does.
func (n *Nursery) goIndexed(job indexed, i int) {
	if n.cfg != nil && (n.cfg.tr != nil || n.cfg.obs != nil) {
		n.goIndexedSpec(job, i)
		return
	}
	n.enter("Go")
	if n.cfg.limited() && !n.acquireIndexed(job, i) {
		return // queued, or refused
	}
	go n.runIndexed(job, i)
}

// goIndexedSpec is goIndexed for a tracked, observed or traced nursery:
// the item is a task of the general path, named after the caller's
// function. In fail-fast mode an item whose goroutine starts after the
// nursery was cancelled (queued for a slot, say) calls nothing, as on the
// light path: it reports the cancellation's echo, which Run drops.
func (n *Nursery) goIndexedSpec(job indexed, i int) {
	failsFast := n.failsFast()
	s := n.newSpec(n.taskCtx(), func(ctx context.Context) error {
		if failsFast && n.c.Err() != nil {
			return skippedItem(ctx)
		}
		return job.call(ctx, i)
	}, nil)
	s.user = job.user(i)
	n.enter("Go")
	n.launch(s)
}

// acquireIndexed is acquire for item i of job. An item queued because the
// nursery was cancelled while it waited for a slot started after the
// cancellation: in fail-fast mode it is skipped, its function never called,
// and costs the queue no allocation.
func (n *Nursery) acquireIndexed(job indexed, i int) bool {
	normal := false
	defer func() {
		if !normal {
			n.done() // a panicking Semaphore: the panic goes on in the feeding loop
		}
	}()
	r, err := n.takeSlot()
	normal = true
	switch r {
	case slotQueue:
		if n.failsFast() {
			n.enqueue(queued{fn: skippedItem})
		} else {
			n.enqueue(queued{fn: func(ctx context.Context) error { return job.call(ctx, i) }})
		}
		return false
	case slotRefused:
		n.refuse(queued{}, err)
		return false
	}
	if n.failsFast() && n.c.Err() != nil {
		n.leave() // the slot came after the cancellation: the item does not start
		return false
	}
	return true
}

// skippedItem is an item of a failing Map, ForEach or Gather that had not
// started when the nursery was cancelled: it reports the cancellation's
// echo, which Run drops, and calls nothing.
func skippedItem(ctx context.Context) error { return ctx.Err() }

// runIndexed is the goroutine of item i of job: run, for an indexed task.
func (n *Nursery) runIndexed(job indexed, i int) {
	normal := false
	defer func() {
		if !normal {
			p, goexit := unwound(recover(), origin{})
			n.cancel(n.recordUnwound(p, goexit, origin{}))
		}
		n.leave()
	}()
	ctx := n.ctx()
	if err := job.call(ctx, i); err != nil && !n.knownEcho(err) {
		n.cancelWith(n.fail(ctx, err, origin{})) // inside the recover: it may call the error's methods
	}
	normal = true
}

// failsFast reports whether a failure cancels n: whether an item that has
// not started once n is cancelled is skipped.
func (n *Nursery) failsFast() bool {
	return n.cfg == nil || !n.cfg.collectAll
}

// mapJob is the work of Map: fn over items, into results.
type mapJob[T, R any] struct {
	items   []T
	fn      func(ctx context.Context, item T) (R, error)
	results []R
}

func (m *mapJob[T, R]) user(int) any { return m.fn }

func (m *mapJob[T, R]) call(ctx context.Context, i int) error {
	v, err := m.fn(ctx, m.items[i])
	if err != nil {
		return err
	}
	m.results[i] = v
	return nil
}

// eachJob is the work of ForEach.
type eachJob[T any] struct {
	items []T
	fn    func(ctx context.Context, item T) error
}

func (e *eachJob[T]) user(int) any { return e.fn }

func (e *eachJob[T]) call(ctx context.Context, i int) error {
	return e.fn(ctx, e.items[i])
}

// gatherJob is the work of Gather.
type gatherJob[T any] struct {
	fns    []func(ctx context.Context) (T, error)
	values []T
}

func (g *gatherJob[T]) user(i int) any { return g.fns[i] }

func (g *gatherJob[T]) call(ctx context.Context, i int) error {
	v, err := g.fns[i](ctx)
	if err != nil {
		return err
	}
	g.values[i] = v
	return nil
}

// feedIndexed starts every item of job in n, in order, and stops starting
// them once n is cancelled, unless n collects every error: fail fast means
// stop. Items that have not started by then never call the user's function.
// It returns the echo of the cancellation if it stopped early, for the body
// to return: Run reports the parent's cancellation, if that is what it was,
// and drops the echo otherwise.
func (n *Nursery) feedIndexed(ctx context.Context, job indexed, count int) error {
	stop := n.failsFast()
	for i := range count {
		if stop && ctx.Err() != nil {
			return ctx.Err()
		}
		n.goIndexed(job, i)
	}
	return nil
}
