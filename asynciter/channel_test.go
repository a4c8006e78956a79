//go:build go1.25

package asynciter_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/structured-go/structured/asynciter"
	"github.com/structured-go/structured/nursery"
)

// S102
func TestOpenChannelSizes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Rendezvous.
		s, r := asynciter.OpenChannel[int](0)
		if err := s.TrySend(1); err != asynciter.ErrWouldBlock {
			t.Fatalf("size 0: TrySend with no receiver = %v, want ErrWouldBlock", err)
		}
		if _, err := r.TryRecv(); err != asynciter.ErrWouldBlock {
			t.Fatalf("size 0: TryRecv with no sender = %v, want ErrWouldBlock", err)
		}
		sent := make(chan error, 1)
		go func() { sent <- s.Send(context.Background(), 7) }()
		synctest.Wait()
		select {
		case err := <-sent:
			t.Fatalf("size 0: Send returned %v before any Recv", err)
		default:
		}
		if v, err := r.Recv(t.Context()); v != 7 || err != nil {
			t.Fatalf("Recv = %v, %v; want 7, nil", v, err)
		}
		if err := <-sent; err != nil {
			t.Fatalf("Send = %v, want nil", err)
		}

		// Buffered.
		s, _ = asynciter.OpenChannel[int](2)
		for i := range 2 {
			if err := s.TrySend(i); err != nil {
				t.Fatalf("size 2: TrySend #%d = %v", i+1, err)
			}
		}
		if err := s.TrySend(3); err != asynciter.ErrWouldBlock {
			t.Fatalf("size 2: third TrySend = %v, want ErrWouldBlock", err)
		}

		// Unbounded.
		s, r = asynciter.OpenChannel[int](asynciter.Unbounded)
		for i := range 10000 {
			if err := s.TrySend(i); err != nil {
				t.Fatalf("Unbounded: TrySend #%d = %v", i+1, err)
			}
		}
		if st := r.Stats(); st.BufferUsed != 10000 || st.MaxBuffer != asynciter.Unbounded {
			t.Fatalf("Stats = %+v", st)
		}
	})
	mustPanicWith(t, "OpenChannel(-2): the size must be at least 0, or Unbounded", func() { asynciter.OpenChannel[int](-2) })
}

// S103
func TestClosingTheSendSideDrainsThenEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := asynciter.OpenChannel[string](1)
		if err := s.TrySend("last"); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if v, err := r.TryRecv(); v != "last" || err != nil {
			t.Fatalf("TryRecv = %q, %v; want last, nil", v, err)
		}
		for range 2 {
			if _, err := r.Recv(t.Context()); err != asynciter.ErrEndOfChannel {
				t.Fatalf("Recv = %v, want ErrEndOfChannel", err)
			}
		}

		// A receiver blocked at close time wakes with ErrEndOfChannel.
		s, r = asynciter.OpenChannel[string](0)
		got := make(chan error, 1)
		go func() { _, err := r.Recv(context.Background()); got <- err }()
		synctest.Wait()
		s.Close()
		if err := <-got; err != asynciter.ErrEndOfChannel {
			t.Fatalf("blocked Recv = %v, want ErrEndOfChannel", err)
		}

		// All ends cleanly.
		s, r = asynciter.OpenChannel[string](3)
		s.TrySend("a")
		s.TrySend("b")
		s.Close()
		var vals []string
		for v, err := range r.All(t.Context()) {
			if err != nil {
				t.Fatalf("All yielded %v", err)
			}
			vals = append(vals, v)
		}
		if len(vals) != 2 {
			t.Fatalf("All = %v, want [a b]", vals)
		}
	})
}

// S104
func TestAHandleClosedByItsOwnerReturnsErrClosed(t *testing.T) {
	ctx := t.Context()
	s, r := asynciter.OpenChannel[int](1)
	s2, _ := s.Clone()
	defer s2.Close()
	r2, _ := r.Clone()
	defer r2.Close()
	s.Close()
	if err := s.Send(ctx, 1); err != asynciter.ErrClosed {
		t.Fatalf("Send after Close = %v", err)
	}
	if err := s.TrySend(1); err != asynciter.ErrClosed {
		t.Fatalf("TrySend after Close = %v", err)
	}
	if _, err := s.Clone(); err != asynciter.ErrClosed {
		t.Fatalf("Clone after Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	r.Close()
	if _, err := r.Recv(ctx); err != asynciter.ErrClosed {
		t.Fatalf("Recv after Close = %v", err)
	}
	if _, err := r.TryRecv(); err != asynciter.ErrClosed {
		t.Fatalf("TryRecv after Close = %v", err)
	}
	if _, err := r.Clone(); err != asynciter.ErrClosed {
		t.Fatalf("Clone after Close = %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	for _, err := range r.All(ctx) {
		if err != asynciter.ErrClosed {
			t.Fatalf("All after Close yields %v", err)
		}
	}
}

// S105
func TestClosingTheReceiveSideBreaksSenders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := asynciter.OpenChannel[int](1)
		s.TrySend(1)
		got := make(chan error, 1)
		go func() { got <- s.Send(context.Background(), 2) }()
		synctest.Wait()
		r.Close()
		if err := <-got; err != asynciter.ErrBroken {
			t.Fatalf("blocked Send = %v, want ErrBroken", err)
		}
		for range 2 {
			if err := s.TrySend(3); err != asynciter.ErrBroken {
				t.Fatalf("TrySend = %v, want ErrBroken", err)
			}
		}
		if st := s.Stats(); st.BufferUsed != 0 {
			t.Fatalf("BufferUsed = %d after the last receiver closed, want 0", st.BufferUsed)
		}
	})
}

// S106
func TestClosingOneHandleWakesOnlyItsOwnWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s1, r := asynciter.OpenChannel[string](0)
		s2, _ := s1.Clone()
		a := make(chan error, 1)
		b := make(chan error, 1)
		go func() { a <- s1.Send(context.Background(), "a") }()
		synctest.Wait()
		go func() { b <- s2.Send(context.Background(), "ok") }()
		synctest.Wait()
		s1.Close()
		if err := <-a; err != asynciter.ErrClosed {
			t.Fatalf("Send on the closed handle = %v, want ErrClosed", err)
		}
		if v, err := r.Recv(t.Context()); v != "ok" || err != nil {
			t.Fatalf("Recv = %q, %v; want ok", v, err)
		}
		if err := <-b; err != nil {
			t.Fatalf("Send on the other handle = %v", err)
		}

		// The same for receivers.
		s, r1 := asynciter.OpenChannel[string](0)
		r2, _ := r1.Clone()
		ra := make(chan error, 1)
		rb := make(chan string, 1)
		go func() { _, err := r1.Recv(context.Background()); ra <- err }()
		synctest.Wait()
		go func() { v, _ := r2.Recv(context.Background()); rb <- v }()
		synctest.Wait()
		r1.Close()
		if err := <-ra; err != asynciter.ErrClosed {
			t.Fatalf("Recv on the closed handle = %v, want ErrClosed", err)
		}
		if err := s.Send(t.Context(), "ok"); err != nil {
			t.Fatal(err)
		}
		if v := <-rb; v != "ok" {
			t.Fatalf("the other receiver got %q", v)
		}
		s2.Close()
		r2.Close()
		s.Close()
	})
}

// S107
func TestAnEndClosesOnlyWhenEveryCloneIsClosed(t *testing.T) {
	s, r := asynciter.OpenChannel[int](asynciter.Unbounded)
	r2, _ := r.Clone()
	r3, _ := r.Clone()
	r.Close()
	r2.Close()
	if err := s.TrySend(1); err != nil {
		t.Fatalf("TrySend with one receiver open = %v", err)
	}
	r3.Close()
	if err := s.TrySend(1); err != asynciter.ErrBroken {
		t.Fatalf("TrySend after the last receiver = %v, want ErrBroken", err)
	}

	// Ten producers with a clone each, the original closed.
	s, r = asynciter.OpenChannel[int](0)
	var got []int
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		for p := range 10 {
			c, err := s.Clone()
			if err != nil {
				return err
			}
			n.Go(func(ctx context.Context) error {
				defer c.Close()
				for i := range 3 {
					if err := c.Send(ctx, p*3+i); err != nil {
						return err
					}
				}
				return nil
			})
		}
		s.Close()
		for v, err := range r.All(ctx) {
			if err != nil {
				return err
			}
			got = append(got, v)
		}
		_, err := r.Recv(ctx)
		if err != asynciter.ErrEndOfChannel {
			return errors.New("no end of channel after the last clone closed")
		}
		return nil
	})
	if err != nil || len(got) != 30 {
		t.Fatalf("got %d values, err %v; want 30, nil", len(got), err)
	}
}

// S108
func TestEachValueGoesToExactlyOneReceiver(t *testing.T) {
	s, r := asynciter.OpenChannel[int](0)
	var mu sync.Mutex
	seen := make(map[int]int)
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 5 {
			c, _ := r.Clone()
			n.Go(func(ctx context.Context) error {
				defer c.Close()
				for v, err := range c.All(ctx) {
					if err != nil {
						return err
					}
					mu.Lock()
					seen[v]++
					mu.Unlock()
				}
				return nil
			})
		}
		r.Close()
		defer s.Close()
		for i := range 10 {
			if err := s.Send(ctx, i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if seen[i] != 1 {
			t.Fatalf("value %d received %d times", i, seen[i])
		}
	}
}

// S109
func TestWaitersOwnTheNextValueAndSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := asynciter.OpenChannel[int](0)
		got := make(chan int, 1)
		go func() { v, _ := r.Recv(context.Background()); got <- v }()
		synctest.Wait()
		if err := s.TrySend(2); err != nil {
			t.Fatalf("TrySend to a waiting receiver = %v", err)
		}
		if _, err := r.TryRecv(); err != asynciter.ErrWouldBlock {
			t.Fatalf("TryRecv barged in: %v", err)
		}
		if v := <-got; v != 2 {
			t.Fatalf("the waiting receiver got %d, want 2", v)
		}

		// A waiting sender owns the slot a Recv frees.
		s, r = asynciter.OpenChannel[int](1)
		s.TrySend(1)
		sent := make(chan error, 1)
		go func() { sent <- s.Send(context.Background(), 2) }()
		synctest.Wait()
		if v, _ := r.TryRecv(); v != 1 {
			t.Fatalf("TryRecv = %d, want 1", v)
		}
		if err := s.TrySend(3); err != asynciter.ErrWouldBlock {
			t.Fatalf("TrySend barged in front of a waiting sender: %v", err)
		}
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		if v, _ := r.TryRecv(); v != 2 {
			t.Fatalf("TryRecv = %d, want the waiting sender's 2", v)
		}

		// FIFO among receivers.
		s, r = asynciter.OpenChannel[int](0)
		order := make(chan int, 3)
		for i := range 3 {
			go func() { r.Recv(context.Background()); order <- i }()
			synctest.Wait()
		}
		for i := range 3 {
			s.TrySend(i)
			synctest.Wait()
			if got := <-order; got != i {
				t.Fatalf("value %d went to receiver %d, want the oldest waiter", i, got)
			}
		}
	})
}

// S110
func TestCancellationNeverLosesAValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// (a) A cancelled Recv leaves the channel unchanged.
		s, r := asynciter.OpenChannel[string](0)
		ctx, stop := context.WithCancel(t.Context())
		got := make(chan error, 1)
		go func() { _, err := r.Recv(ctx); got <- err }()
		synctest.Wait()
		stop()
		if err := <-got; err != context.Canceled {
			t.Fatalf("cancelled Recv = %v, want context.Canceled", err)
		}
		if st := r.Stats(); st.WaitingReceivers != 0 {
			t.Fatalf("WaitingReceivers = %d after the cancel", st.WaitingReceivers)
		}

		// (b) A value handed over as the receiver's ctx ends is returned.
		s, r = asynciter.OpenChannel[string](0)
		ctx, stop = context.WithCancel(t.Context())
		var v string
		var err error
		done := make(chan struct{})
		go func() { v, err = r.Recv(ctx); close(done) }()
		synctest.Wait()
		// Hand over and cancel before the receiver runs again.
		if e := s.TrySend("hello"); e != nil {
			t.Fatal(e)
		}
		stop()
		<-done
		if v != "hello" || err != nil {
			t.Fatalf("Recv = %q, %v; want hello, nil: the value must not be lost", v, err)
		}

		// (c) A receiver whose ctx is done is skipped: the value is kept.
		s, r = asynciter.OpenChannel[string](1)
		ctx, stop = context.WithCancel(t.Context())
		go func() { _, err := r.Recv(ctx); got <- err }()
		synctest.Wait()
		stop() // the receiver has not run since
		if e := s.TrySend("kept"); e != nil {
			t.Fatal(e)
		}
		if e := <-got; e != context.Canceled {
			t.Fatalf("cancelled Recv = %v", e)
		}
		if v, e := r.TryRecv(); v != "kept" || e != nil {
			t.Fatalf("TryRecv = %q, %v; want kept", v, e)
		}

		// (d) A cancelled Send does not enqueue.
		s, r = asynciter.OpenChannel[string](0)
		ctx, stop = context.WithCancel(t.Context())
		go func() { got <- s.Send(ctx, "lost") }()
		synctest.Wait()
		stop()
		if e := <-got; e != context.Canceled {
			t.Fatalf("cancelled Send = %v", e)
		}
		if _, e := r.TryRecv(); e != asynciter.ErrWouldBlock {
			t.Fatalf("TryRecv after a cancelled Send = %v, want ErrWouldBlock", e)
		}

		// S122: a ctx done on entry fails at once, even with room.
		s, r = asynciter.OpenChannel[string](1)
		if e := s.Send(ctx, "x"); e != context.Canceled {
			t.Fatalf("Send with a done ctx = %v", e)
		}
		s.TrySend("y")
		if _, e := r.Recv(ctx); e != context.Canceled {
			t.Fatalf("Recv with a done ctx = %v", e)
		}
	})
}

// S111
func TestChannelStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, r := asynciter.OpenChannel[int](2)
		s2, _ := s.Clone()
		s.TrySend(1)
		s.TrySend(2)
		ctx, stop := context.WithCancel(t.Context())
		go s2.Send(ctx, 3)
		synctest.Wait()
		want := asynciter.ChannelStats{BufferUsed: 2, MaxBuffer: 2, OpenSenders: 2, OpenReceivers: 1, WaitingSenders: 1, PeakBufferUsed: 2}
		if got := s.Stats(); got != want {
			t.Fatalf("Sender.Stats = %+v, want %+v", got, want)
		}
		if got := r.Stats(); got != want {
			t.Fatalf("Receiver.Stats = %+v, want %+v (both ends agree)", got, want)
		}
		stop()
		synctest.Wait()
		r.TryRecv()
		r.TryRecv()
		want = asynciter.ChannelStats{BufferUsed: 0, MaxBuffer: 2, OpenSenders: 2, OpenReceivers: 1, PeakBufferUsed: 2}
		if got := r.Stats(); got != want {
			t.Fatalf("after draining: %+v, want %+v (the peak stays)", got, want)
		}
		go r.Recv(ctx) // ctx is done: it returns at once
		rctx, rstop := context.WithCancel(t.Context())
		go r.Recv(rctx)
		synctest.Wait()
		if got := r.Stats().WaitingReceivers; got != 1 {
			t.Fatalf("WaitingReceivers = %d, want 1", got)
		}
		rstop()
		synctest.Wait()
		if got := r.Stats().WaitingReceivers; got != 0 {
			t.Fatalf("WaitingReceivers = %d after the cancel, want 0", got)
		}
	})
}

func TestChannelMisuse(t *testing.T) {
	var s asynciter.Sender[int]
	var r asynciter.Receiver[int]
	mustPanicWith(t, "Sender.TrySend called on a Sender that OpenChannel did not make", func() { s.TrySend(1) })
	mustPanicWith(t, "Receiver.TryRecv called on a Receiver that OpenChannel did not make", func() { r.TryRecv() })
	ps, pr := asynciter.OpenChannel[int](0)
	mustPanicWith(t, "Sender.Send called with a nil context", func() { ps.Send(nil, 1) }) //nolint:staticcheck
	mustPanicWith(t, "Receiver.Recv called with a nil context", func() { pr.Recv(nil) })  //nolint:staticcheck
}
