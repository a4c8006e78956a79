package nursery

import (
	"context"
	"fmt"
	"runtime"
)

// Under WithLimit or WithSemaphore, a task holds a slot while it runs: a
// token of the nursery's own channel, a unit of the shared Semaphore, or
// both.

// acquire takes a slot for t, whose count is already taken. If the nursery
// is cancelled while it waits, it queues t instead, so that Go returns at
// once (a cancelled nursery never blocks the goroutine that feeds it), and
// reports false; it reports false too if the shared limit refused the slot,
// having recorded that as t's failure.
//
// If the shared Semaphore's Acquire panics, t is dropped (its count given
// back, so that Run does not wait for it) and the panic goes on in the
// caller's goroutine: Go's caller, which the nursery then reports as
// panicking.
func (n *Nursery) acquire(t queued) bool {
	normal := false
	defer func() {
		if !normal {
			n.discard(t)
		}
	}()
	r, err := n.takeSlot()
	normal = true
	switch r {
	case slotQueue:
		n.enqueue(t)
		return false
	case slotRefused:
		n.refuse(t, err)
		return false
	}
	return true
}

// What takeSlot did.
type slotResult uint8

const (
	slotTaken   slotResult = iota
	slotQueue              // the nursery was cancelled while the task waited: queue it
	slotRefused            // the shared limit refused the slot, with the error
)

// takeSlot takes a slot under the nursery's limits. A panic in the shared
// Semaphore's Acquire goes on, with the nursery's own token given back.
func (n *Nursery) takeSlot() (slotResult, error) {
	c := n.cfg
	if c.slots != nil && !n.takeToken() {
		return slotQueue, nil
	}
	if c.shared != nil {
		normal := false
		defer func() {
			if !normal && c.slots != nil {
				<-c.slots
			}
		}()
		err := c.shared.Acquire(n.ctx(), 1)
		normal = true
		if err != nil {
			if c.slots != nil {
				<-c.slots
			}
			if n.ctx().Err() != nil {
				return slotQueue, nil
			}
			return slotRefused, err
		}
	}
	return slotTaken, nil
}

// takeToken takes a token of the nursery's own limit. It reports false,
// without one, if the nursery was cancelled while it waited.
func (n *Nursery) takeToken() bool {
	slots := n.cfg.slots
	select {
	case slots <- struct{}{}:
		return true
	default:
	}
	if n.c.Err() != nil {
		return false // full, and cancelled: queue at once
	}
	// Full. Let the running tasks run once before blocking: short tasks
	// often free a slot meanwhile, which saves parking in the select below
	// (it costs twice a plain channel send, as it also watches ctx).
	runtime.Gosched()
	select {
	case slots <- struct{}{}:
		return true
	default:
	}
	select {
	case slots <- struct{}{}:
		return true
	case <-n.ctx().Done():
		return false
	}
}

// acquireFor takes a slot for a task that Start starts, giving up when ctx,
// Start's own context, is done; it returns ctx's error then, or the shared
// limit's refusal.
func (n *Nursery) acquireFor(ctx context.Context) error {
	c := n.cfg
	if c.slots != nil {
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if c.shared != nil {
		normal := false
		defer func() {
			if !normal && c.slots != nil {
				<-c.slots // a panicking Acquire: Start's caller counts the task out
			}
		}()
		err := c.shared.Acquire(ctx, 1)
		normal = true
		if err != nil {
			if c.slots != nil {
				<-c.slots
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("nursery: the shared limit refused a slot: %w", err)
		}
	}
	return nil
}

// leave releases the task's slot, if it holds one, and counts it out. A
// panic in the shared Semaphore's Release is the nursery's, recorded as the
// task's: it must not crash the process from the task's goroutine, nor
// leave the task counted in.
func (n *Nursery) leave() {
	if c := n.cfg; c.limited() {
		if c.shared != nil {
			n.release(origin{})
		}
		if c.slots != nil {
			<-c.slots
		}
	}
	n.done()
}

// release gives a unit back to the shared Semaphore, recording a panic in
// its Release as a panic of o.
func (n *Nursery) release(o origin) {
	normal := false
	defer func() {
		if !normal {
			p := newPanicError(recover(), o)
			n.cancel(n.recordUnwound(p, nil, o))
		}
	}()
	n.cfg.shared.Release(1)
	normal = true
}

// discard counts out t, whose count is taken, without running it or
// recording anything: Go's caller panicked in the shared Semaphore.
func (n *Nursery) discard(t queued) {
	if t.rec != nil {
		t.rec.close()
	}
	if t.s != nil {
		if t.s.rec != nil {
			t.s.rec.close()
		}
		if t.s.stop != nil {
			t.s.stop(nil)
		}
	}
	n.done()
}

// refuse records that the shared limit refused t a slot, as t's failure,
// and counts t out without running it.
func (n *Nursery) refuse(t queued, err error) {
	err = fmt.Errorf("nursery: the shared limit refused a slot: %w", err)
	n.drop(t, err, n.fail(context.Background(), err, t.origin()))
}

// origin is where t's outcome comes from.
func (t queued) origin() origin {
	if t.s != nil {
		return t.s.origin()
	}
	return origin{}
}

// drop counts t out without running it, its outcome being err (which its
// handle, if it has one, receives): it closes t's records, releases its
// context, and cancels the nursery with cause, if there is one.
func (n *Nursery) drop(t queued, err, cause error) {
	if t.rec != nil {
		t.rec.close()
	}
	if t.s != nil {
		if t.s.rec != nil {
			t.s.rec.close()
		}
		if t.s.hook != nil {
			t.s.hook.settle(err)
		}
		if t.s.stop != nil {
			t.s.stop(nil)
		}
	}
	n.cancelWith(cause)
	n.done()
}

// A queued task waits for a slot under the limit: Go and Spawn put it there
// when the nursery is cancelled while the limit is full, so that they return
// at once. One goroutine feeds the queue's tasks to the slots as they free,
// however long the queue: a loop that keeps calling Go after cancellation
// costs a queue entry per task, not a parked goroutine.
type queued struct {
	fn  func(context.Context) error // a plain task, or
	s   *spec                       // one started through the general path
	rec *taskRec                    // a plain task's record, if the nursery is tracked
	// traced: a plain task of a nursery traced by runtime/trace and
	// watched by no Observer, which runs in a region of its own.
	traced bool
}

// taskQueue is a FIFO of queued tasks, guarded by the nursery's lock.
type taskQueue struct {
	items   []queued
	head    int
	feeding bool // a feed goroutine is running
}

// enqueue queues t, whose count is already taken, and starts the feeder if
// none is running.
func (n *Nursery) enqueue(t queued) {
	n.mu.Lock()
	q := &n.stateLocked().queue
	q.items = append(q.items, t)
	start := !q.feeding
	q.feeding = true
	n.mu.Unlock()
	if start {
		n.live.Add(1) // the feeder keeps the nursery open while it runs
		go n.feed()
	}
}

// feed takes a slot for each queued task in turn and starts the task with
// it, until the queue is empty. The nursery is cancelled: the slots are
// waited for without its context, which is done, and free as its cancelled
// tasks return.
func (n *Nursery) feed() {
	defer n.done()
	c := n.cfg
	var bg context.Context
	for {
		if c.slots != nil {
			c.slots <- struct{}{}
		}
		var refused error
		var panicked *PanicError
		if c.shared != nil {
			if bg == nil {
				bg = context.WithoutCancel(n.ctx())
			}
			refused, panicked = n.acquireQuietly(bg)
		}
		n.mu.Lock()
		q := &n.st.queue
		if q.head == len(q.items) {
			q.items, q.head, q.feeding = nil, 0, false
			n.mu.Unlock()
			if refused == nil && panicked == nil && c.shared != nil {
				n.release(origin{})
			}
			if c.slots != nil {
				<-c.slots
			}
			return
		}
		t := q.items[q.head]
		q.items[q.head] = queued{}
		q.head++
		n.mu.Unlock()
		if panicked != nil {
			if c.slots != nil {
				<-c.slots
			}
			n.refusePanic(t, panicked)
			continue
		}
		if refused != nil {
			if c.slots != nil {
				<-c.slots
			}
			n.refuse(t, refused)
			continue
		}
		n.start(t)
	}
}

// acquireQuietly is the feeder's Acquire of a unit of the shared Semaphore:
// a panic in it is returned, as a *PanicError, rather than crashing the
// feeder's goroutine.
func (n *Nursery) acquireQuietly(ctx context.Context) (err error, p *PanicError) {
	normal := false
	defer func() {
		if !normal {
			p = newPanicError(recover(), origin{})
		}
	}()
	err = n.cfg.shared.Acquire(ctx, 1)
	normal = true
	return err, nil
}

// refusePanic records p, a panic of the shared Semaphore's Acquire while
// it fed t a slot, as t's panic, and counts t out without running it.
func (n *Nursery) refusePanic(t queued, p *PanicError) {
	o := t.origin()
	p.Task = o.name
	cause := n.recordUnwound(p, nil, o)
	n.drop(t, cause, cause)
}
