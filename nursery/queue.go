package nursery

import "context"

// A queued task waits for a slot under the limit: Go and Spawn put it there
// when the nursery is cancelled while the limit is full, so that they return
// at once. One goroutine feeds the queue's tasks to the slots as they free,
// however long the queue: a loop that keeps calling Go after cancellation
// costs a queue entry per task, not a parked goroutine.
type queued struct {
	fn func(context.Context) error // a plain task, or
	s  *spec                       // one started through the general path
}

// taskQueue is a FIFO of queued tasks, guarded by Nursery.mu.
type taskQueue struct {
	items   []queued
	head    int
	feeding bool // a feed goroutine is running
}

// enqueue queues t, whose count is already taken, and starts the feeder if
// none is running.
func (n *Nursery) enqueue(t queued) {
	n.mu.Lock()
	n.queue.items = append(n.queue.items, t)
	start := !n.queue.feeding
	n.queue.feeding = true
	n.mu.Unlock()
	if start {
		n.live.Add(1) // the feeder keeps the nursery open while it runs
		go n.feed()
	}
}

// feed takes a slot for each queued task in turn and starts the task with
// it, until the queue is empty.
func (n *Nursery) feed() {
	defer n.done()
	for {
		n.sem <- struct{}{}
		n.mu.Lock()
		q := &n.queue
		if q.head == len(q.items) {
			q.items, q.head, q.feeding = nil, 0, false
			n.mu.Unlock()
			<-n.sem
			return
		}
		t := q.items[q.head]
		q.items[q.head] = queued{}
		q.head++
		n.mu.Unlock()
		if t.s != nil {
			go n.runSpec(t.s)
		} else {
			go n.run(t.fn)
		}
	}
}
