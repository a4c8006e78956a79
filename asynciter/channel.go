package asynciter

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"
)

// Unbounded is the size to give OpenChannel or NewQueue for a buffer
// without a bound: senders never wait, and the buffer grows as needed and
// shrinks as it drains. It reads the same for both, where 0 does not: 0 is
// a rendezvous for OpenChannel (as in trio) and unbounded for NewQueue (as
// in asyncio).
const Unbounded = -1

// OpenChannel opens a memory channel, like trio's open_memory_channel, and
// returns its two ends. Size 0 is a rendezvous, as in trio and as an
// unbuffered Go channel: Send waits until a receiver takes the value; it is
// not unbounded, as it is for NewQueue. Unbounded makes a channel whose Send
// never waits. Any other size is how many values the channel holds that no
// receiver has taken yet.
//
// Values sent with the Sender are received, in order, with the Receiver.
//
// Both ends can be cloned, so that several goroutines send or receive, each
// with a handle of its own that it closes when it is done. A value goes to
// exactly one receiver: receivers share the values, they do not each get
// them all. An end of the channel counts as closed only once every handle of
// that end has been closed: when the last Sender is closed, receivers get
// the values left in the buffer and then ErrEndOfChannel; when the last
// Receiver is closed, the buffer is discarded and senders get ErrBroken. So
// close every handle, the original as well as the clones: one left open
// keeps the other end waiting forever.
//
// Waiting senders and receivers are served first come, first served, and a
// goroutine that waits owns the next value or buffer slot: TrySend and
// TryRecv never barge in front of it. Send and Recv are atomic with respect
// to cancellation: when they return ctx.Err(), the channel is as if they had
// not been called; a value handed to a receiver is returned by its Recv,
// even if its ctx ends at that moment.
//
// Every method is safe for concurrent use. OpenChannel panics if size is
// negative and not Unbounded.
func OpenChannel[T any](size int) (*Sender[T], *Receiver[T]) {
	if size < 0 && size != Unbounded {
		panic(fmt.Sprintf("asynciter: OpenChannel(%d): the size must be at least 0, or Unbounded", size))
	}
	st := &chanState[T]{size: size, openSenders: 1, openReceivers: 1}
	return &Sender[T]{st: st}, &Receiver[T]{st: st}
}

// ChannelStats describes a memory channel at one moment.
type ChannelStats struct {
	BufferUsed       int // values in the buffer
	MaxBuffer        int // the size given to OpenChannel (Unbounded for an unbounded channel)
	OpenSenders      int // Sender handles not yet closed
	OpenReceivers    int // Receiver handles not yet closed
	WaitingSenders   int // goroutines waiting in Send
	WaitingReceivers int // goroutines waiting in Recv
	PeakBufferUsed   int // the most values the buffer has held at once
}

// A chanWaiter is a goroutine waiting in Send or Recv. The other side
// completes it under chanState.mu: it sets done, and v or err, and then
// signals ch.
type chanWaiter[T any] struct {
	ch     chan struct{} // capacity 1
	ctx    context.Context
	handle any // the *Sender or *Receiver it waits on
	v      T
	err    error
	done   bool
}

func (w *chanWaiter[T]) complete(v T, err error) {
	w.v, w.err, w.done = v, err, true
	w.ch <- struct{}{}
}

// chanState is what all handles of one channel share.
type chanState[T any] struct {
	mu            sync.Mutex
	size          int
	buf           deque[T]
	senders       []*chanWaiter[T] // waiting in Send, oldest first
	receivers     []*chanWaiter[T] // waiting in Recv, oldest first
	openSenders   int
	openReceivers int
	peak          int
}

func (st *chanState[T]) stats() ChannelStats {
	st.mu.Lock()
	defer st.mu.Unlock()
	return ChannelStats{
		BufferUsed:       st.buf.len(),
		MaxBuffer:        st.size,
		OpenSenders:      st.openSenders,
		OpenReceivers:    st.openReceivers,
		WaitingSenders:   len(st.senders),
		WaitingReceivers: len(st.receivers),
		PeakBufferUsed:   st.peak,
	}
}

func (st *chanState[T]) room() bool { return st.size == Unbounded || st.buf.len() < st.size }

func (st *chanState[T]) buffer(v T) {
	st.buf.push(v)
	st.peak = max(st.peak, st.buf.len())
}

// wait blocks w until the other side completes it or ctx ends, and returns
// the outcome. st.mu is held on entry and released.
func (st *chanState[T]) wait(ctx context.Context, w *chanWaiter[T], queue *[]*chanWaiter[T]) (T, error) {
	*queue = append(*queue, w)
	st.mu.Unlock()
	select {
	case <-w.ch:
		return w.v, w.err
	case <-ctx.Done():
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if w.done {
		// Completed at the moment ctx ended: the value was handed over
		// (or the handle closed), which must not be lost.
		<-w.ch
		return w.v, w.err
	}
	*queue = slices.DeleteFunc(*queue, func(x *chanWaiter[T]) bool { return x == w })
	var zero T
	return zero, ctx.Err()
}

// wakeHandle completes, with err, the waiters in queue that wait on handle h
// (every waiter if h is nil).
func wakeHandle[T any](queue *[]*chanWaiter[T], h any, err error) {
	var zero T
	*queue = slices.DeleteFunc(*queue, func(w *chanWaiter[T]) bool {
		if h == nil || w.handle == h {
			w.complete(zero, err)
			return true
		}
		return false
	})
}

// A Sender is the sending end of a memory channel, or a clone of it. Only
// OpenChannel and Clone make valid Senders.
type Sender[T any] struct {
	st     *chanState[T]
	closed bool // under st.mu
}

// Send sends v, waiting while the buffer is full (for a channel of size 0,
// until a receiver takes v). It returns nil once v is in the buffer or with
// a receiver; ErrClosed if s has been closed (also while Send waits);
// ErrBroken if every receiver has been closed (also while Send waits); and
// ctx.Err() if ctx ends first, in which case v was not sent. Send checks ctx
// before anything else. It panics if ctx is nil.
func (s *Sender[T]) Send(ctx context.Context, v T) error {
	if ctx == nil {
		panic("asynciter: Sender.Send called with a nil context")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	st := s.state("Send")
	st.mu.Lock()
	if err, ok := s.sendNow(v); ok {
		st.mu.Unlock()
		return err
	}
	w := &chanWaiter[T]{ch: make(chan struct{}, 1), ctx: ctx, handle: s, v: v}
	_, err := st.wait(ctx, w, &st.senders)
	return err
}

// TrySend sends v if that needs no wait, and returns ErrWouldBlock if it
// would. Its other errors are those of Send.
func (s *Sender[T]) TrySend(v T) error {
	st := s.state("TrySend")
	st.mu.Lock()
	defer st.mu.Unlock()
	if err, ok := s.sendNow(v); ok {
		return err
	}
	return ErrWouldBlock
}

// sendNow sends v if it can without waiting; ok reports whether it is done
// (err then says how). st.mu is held.
func (s *Sender[T]) sendNow(v T) (err error, ok bool) {
	st := s.st
	if s.closed {
		return ErrClosed, true
	}
	if st.openReceivers == 0 {
		return ErrBroken, true
	}
	for len(st.receivers) > 0 {
		r := st.receivers[0]
		st.receivers = st.receivers[1:]
		if r.ctx.Err() != nil {
			// Its Recv is returning ctx.Err(): the value stays for a
			// receiver that wants it.
			continue
		}
		r.complete(v, nil)
		return nil, true
	}
	if len(st.senders) == 0 && st.room() {
		st.buffer(v)
		return nil, true
	}
	return nil, false
}

// Clone returns a new Sender for the same channel. The channel's sending end
// stays open until every Sender, the original and each clone, is closed.
// Clone returns ErrClosed if s has been closed.
func (s *Sender[T]) Clone() (*Sender[T], error) {
	st := s.state("Clone")
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	st.openSenders++
	return &Sender[T]{st: st}, nil
}

// Close closes s. Goroutines waiting in s.Send return ErrClosed; those
// waiting on other Senders of the channel are not disturbed. If s was the
// last open Sender, receivers get the values left in the buffer and then
// ErrEndOfChannel. Closing s again does nothing and returns nil.
func (s *Sender[T]) Close() error {
	st := s.state("Close")
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	wakeHandle(&st.senders, any(s), ErrClosed)
	st.openSenders--
	if st.openSenders == 0 {
		wakeHandle(&st.receivers, nil, ErrEndOfChannel)
	}
	return nil
}

// Stats describes the channel.
func (s *Sender[T]) Stats() ChannelStats { return s.state("Stats").stats() }

func (s *Sender[T]) state(method string) *chanState[T] {
	if s.st == nil {
		panic("asynciter: Sender." + method + " called on a Sender that OpenChannel did not make")
	}
	return s.st
}

// A Receiver is the receiving end of a memory channel, or a clone of it.
// Only OpenChannel and Clone make valid Receivers.
type Receiver[T any] struct {
	st     *chanState[T]
	closed bool // under st.mu
}

// Recv receives the next value, waiting until there is one. It returns
// ErrEndOfChannel once every Sender has been closed and the buffer is empty;
// ErrClosed if r has been closed (also while Recv waits); and ctx.Err() if
// ctx ends first, in which case no value was taken. Recv checks ctx before
// anything else. It panics if ctx is nil.
func (r *Receiver[T]) Recv(ctx context.Context) (T, error) {
	if ctx == nil {
		panic("asynciter: Receiver.Recv called with a nil context")
	}
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	st := r.state("Recv")
	st.mu.Lock()
	if v, err, ok := r.recvNow(); ok {
		st.mu.Unlock()
		return v, err
	}
	w := &chanWaiter[T]{ch: make(chan struct{}, 1), ctx: ctx, handle: r}
	return st.wait(ctx, w, &st.receivers)
}

// TryRecv receives a value if that needs no wait, and returns ErrWouldBlock
// if it would. Its other errors are those of Recv.
func (r *Receiver[T]) TryRecv() (T, error) {
	st := r.state("TryRecv")
	st.mu.Lock()
	defer st.mu.Unlock()
	if v, err, ok := r.recvNow(); ok {
		return v, err
	}
	var zero T
	return zero, ErrWouldBlock
}

// recvNow receives a value if it can without waiting. st.mu is held.
func (r *Receiver[T]) recvNow() (v T, err error, ok bool) {
	st := r.st
	if r.closed {
		return v, ErrClosed, true
	}
	if st.buf.len() > 0 {
		v = st.buf.pop()
		if len(st.senders) > 0 {
			// The freed slot belongs to the oldest waiting sender.
			s := st.senders[0]
			st.senders = st.senders[1:]
			st.buffer(s.v)
			var zero T
			s.complete(zero, nil)
		}
		return v, nil, true
	}
	if len(st.senders) > 0 {
		s := st.senders[0]
		st.senders = st.senders[1:]
		v = s.v
		var zero T
		s.complete(zero, nil)
		return v, nil, true
	}
	if st.openSenders == 0 {
		return v, ErrEndOfChannel, true
	}
	return v, nil, false
}

// All returns the values received from r, until the channel ends: at end of
// channel the sequence ends without an error; any other error of Recv
// (ErrClosed, ctx.Err()) is its last pair. Stopping the loop leaves r open,
// and the values not yet received stay in the channel.
func (r *Receiver[T]) All(ctx context.Context) iter.Seq2[T, error] {
	if ctx == nil {
		panic("asynciter: Receiver.All called with a nil context")
	}
	r.state("All")
	return func(yield func(T, error) bool) {
		for {
			v, err := r.Recv(ctx)
			if err == ErrEndOfChannel {
				return
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// Clone returns a new Receiver for the same channel. The channel's
// receiving end stays open until every Receiver, the original and each
// clone, is closed. Clones share the values: each value goes to one of
// them. Clone returns ErrClosed if r has been closed.
func (r *Receiver[T]) Clone() (*Receiver[T], error) {
	st := r.state("Clone")
	st.mu.Lock()
	defer st.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	st.openReceivers++
	return &Receiver[T]{st: st}, nil
}

// Close closes r. Goroutines waiting in r.Recv return ErrClosed; those
// waiting on other Receivers of the channel are not disturbed. If r was the
// last open Receiver, the buffer is discarded, and senders (also those
// waiting) get ErrBroken. Closing r again does nothing and returns nil.
func (r *Receiver[T]) Close() error {
	st := r.state("Close")
	st.mu.Lock()
	defer st.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	wakeHandle(&st.receivers, any(r), ErrClosed)
	st.openReceivers--
	if st.openReceivers == 0 {
		st.buf.clear()
		wakeHandle(&st.senders, nil, ErrBroken)
	}
	return nil
}

// Stats describes the channel.
func (r *Receiver[T]) Stats() ChannelStats { return r.state("Stats").stats() }

func (r *Receiver[T]) state(method string) *chanState[T] {
	if r.st == nil {
		panic("asynciter: Receiver." + method + " called on a Receiver that OpenChannel did not make")
	}
	return r.st
}
