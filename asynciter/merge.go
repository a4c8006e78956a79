package asynciter

import (
	"context"
	"iter"
	"sync"

	"github.com/structured-go/structured/nursery"
)

// Merge returns the values of every input as they come, each input ranged
// over in a goroutine of its own: a fan-in. Values of one input keep their
// order; values of different inputs interleave as they arrive. Each input
// may run at most 16 values ahead of the loop.
//
// The first error of an input ends the sequence: the values that arrived
// before it are yielded, then the error as the last pair, and the other
// inputs are stopped. If ctx is done, every input is stopped at its next
// value and the sequence ends, after the values already arrived, with
// ctx.Err(). When the loop stops early, every input is stopped, and the loop
// statement does not finish until each has returned. A panic of an input is
// re-raised in the loop's goroutine as a *nursery.PanicError.
//
// Merge of no inputs is empty. It panics if ctx or an input is nil.
func Merge[T any](ctx context.Context, ins ...iter.Seq2[T, error]) iter.Seq2[T, error] {
	return mergeWith(ctx, ins)
}

// mergeAhead is how many values each input of a Merge may run ahead of the
// loop.
const mergeAhead = 16

func mergeWith[T any](ctx context.Context, ins []iter.Seq2[T, error]) iter.Seq2[T, error] {
	if ctx == nil {
		panic("asynciter: Merge called with a nil context")
	}
	for _, in := range ins {
		if in == nil {
			panic("asynciter: Merge called with a nil input sequence")
		}
	}
	return func(yield func(T, error) bool) {
		if len(ins) == 0 {
			return
		}
		if err := ctx.Err(); err != nil {
			var zero T
			yield(zero, err)
			return
		}
		runMerger(ctx, len(ins), func(ctx context.Context, n *nursery.Nursery, m *merger[T]) error {
			for i, in := range ins {
				n.Go(func(ctx context.Context) error {
					return m.read(ctx, i, in)
				})
			}
			return nil
		}, yield)
	}
}

// runMerger runs a merger of the given number of inputs: body starts the
// goroutines that push into it, in a nursery, while the loop consumes.
func runMerger[T any](ctx context.Context, inputs int, body func(ctx context.Context, n *nursery.Nursery, m *merger[T]) error, yield func(T, error) bool) {
	m := &merger[T]{
		ahead:    mergeAhead,
		pending:  make([]int, inputs),
		inputs:   make([]*waker, inputs),
		consumer: newWaker(),
	}
	for i := range m.inputs {
		m.inputs[i] = newWaker()
	}
	m.sup.start(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		return body(ctx, n, m)
	}, func() {
		m.mu.Lock()
		m.over = true
		m.mu.Unlock()
		m.consumer.wake()
	})
	m.consume(ctx, yield)
}

type mergeItem[T any] struct {
	v   T
	err error
	src int
}

// merger is the state of one run of a Merge. Inputs append to queue under
// mu; the loop takes the whole queue at once.
type merger[T any] struct {
	ahead int

	mu      sync.Mutex
	queue   []mergeItem[T]
	pending []int // per input: values queued or being yielded
	failed  bool  // an error is queued: inputs stop
	stopped bool  // the loop has ended
	over    bool  // the nursery has returned

	inputs   []*waker
	consumer *waker
	sup      supervisor
}

// read ranges over input i in a task of the nursery.
func (m *merger[T]) read(ctx context.Context, i int, in iter.Seq2[T, error]) error {
	normal := false
	defer func() {
		if !normal {
			m.stop() // the input panicked: stop the others
		}
	}()
	done := ctx.Done()
	for v, err := range in {
		if !m.push(i, v, err) || err != nil {
			break
		}
		select {
		case <-done:
			if !m.sup.byLoop.Load() {
				var zero T
				m.push(i, zero, ctx.Err())
			}
			normal = true
			return nil
		default:
		}
	}
	normal = true
	return nil
}

// push queues a value (or an error) of input i, once the input is fewer
// than ahead values ahead of the loop. It reports false if the input must
// stop.
func (m *merger[T]) push(i int, v T, err error) bool {
	w := m.inputs[i]
	for {
		m.mu.Lock()
		if m.stopped || m.failed {
			m.mu.Unlock()
			return false
		}
		if m.pending[i] < m.ahead || err != nil {
			m.pending[i]++
			m.queue = append(m.queue, mergeItem[T]{v, err, i})
			if err != nil {
				m.failed = true
			}
			m.mu.Unlock()
			m.consumer.wake()
			if err != nil {
				m.wakeInputs()
			}
			return true
		}
		w.prepare() // under mu: the loop frees room under mu too
		m.mu.Unlock()
		<-w.ch
	}
}

func (m *merger[T]) wakeInputs() {
	for _, w := range m.inputs {
		w.wake()
	}
}

// ended reports whether the sequence is over for the inputs: an error is
// queued, or the loop has ended.
func (m *merger[T]) ended() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failed || m.stopped
}

func (m *merger[T]) stop() {
	m.mu.Lock()
	m.stopped = true
	m.mu.Unlock()
	m.wakeInputs()
	m.consumer.wake()
}

// consume is the loop's side.
func (m *merger[T]) consume(ctx context.Context, yield func(T, error) bool) {
	inBody := false
	defer func() {
		m.stop()
		m.sup.join()
		if !inBody {
			m.sup.rethrow()
		}
	}()
	var batch []mergeItem[T]
	for {
		m.mu.Lock()
		for len(m.queue) == 0 && !m.over {
			m.consumer.prepare()
			m.mu.Unlock()
			<-m.consumer.ch
			m.mu.Lock()
		}
		if len(m.queue) == 0 {
			m.mu.Unlock()
			break // every input has returned, and every value is yielded
		}
		batch, m.queue = m.queue, batch[:0]
		m.mu.Unlock()
		for i, it := range batch {
			batch[i] = mergeItem[T]{}
			m.mu.Lock()
			m.pending[it.src]--
			m.mu.Unlock()
			m.inputs[it.src].wake()
			inBody = true
			if it.err != nil {
				m.stop()
				yield(it.v, it.err)
				inBody = false
				return
			}
			if !yield(it.v, nil) {
				inBody = false
				return
			}
			inBody = false
		}
	}
	m.sup.join()
	m.sup.rethrow()
	if m.sup.err != nil {
		var zero T
		inBody = true
		yield(zero, m.sup.err)
		inBody = false
	}
}
