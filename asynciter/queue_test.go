//go:build go1.25

package asynciter_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/structured-go/structured/asynciter"
	"github.com/structured-go/structured/nursery"
)

// joined reports whether a Join started in the background has returned.
func startJoin(q *asynciter.Queue[int], ctx context.Context) chan error {
	done := make(chan error, 1)
	go func() { done <- q.Join(ctx) }()
	return done
}

func returned(ch chan error) bool {
	synctest.Wait()
	select {
	case err := <-ch:
		ch <- err
		return true
	default:
		return false
	}
}

// S117
func TestQueueJoinWaitsForEveryTaskDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		if err := asynciter.NewQueue[int](0).Join(ctx); err != nil {
			t.Fatalf("Join on a fresh queue = %v", err)
		}
		q := asynciter.NewQueue[int](0)
		for i := range 3 {
			q.Put(ctx, i)
		}
		for range 3 {
			q.Get(ctx)
		}
		join := startJoin(q, ctx)
		for i := range 3 {
			if returned(join) {
				t.Fatalf("Join returned after %d TaskDone of 3", i)
			}
			if err := q.TaskDone(); err != nil {
				t.Fatal(err)
			}
		}
		if !returned(join) || <-join != nil {
			t.Fatal("Join did not return after the third TaskDone")
		}
		if err := q.TaskDone(); err != asynciter.ErrTaskDoneTooOften {
			t.Fatalf("fourth TaskDone = %v, want ErrTaskDoneTooOften", err)
		}

		// Join(ctx) gives up with ctx.Err().
		q.Put(ctx, 1)
		jctx, stop := context.WithCancel(ctx)
		join = startJoin(q, jctx)
		stop()
		if !returned(join) || <-join != context.Canceled {
			t.Fatal("Join did not return context.Canceled")
		}
	})
}

// S118
func TestQueueShutdownWindsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		q := asynciter.NewQueue[int](1)
		q.Put(ctx, 1)
		put := make(chan error, 1)
		go func() { put <- q.Put(context.Background(), 2) }()
		synctest.Wait()
		q.Shutdown(false)
		if err := <-put; err != asynciter.ErrQueueShutDown {
			t.Fatalf("blocked Put = %v, want ErrQueueShutDown", err)
		}
		if err := q.TryPut(3); err != asynciter.ErrQueueShutDown {
			t.Fatalf("TryPut after Shutdown = %v", err)
		}
		if v, err := q.Get(ctx); v != 1 || err != nil {
			t.Fatalf("Get = %v, %v; want the queued 1", v, err)
		}
		if _, err := q.Get(ctx); err != asynciter.ErrQueueShutDown {
			t.Fatalf("Get on an empty shut-down queue = %v", err)
		}
		if _, err := q.TryGet(); err != asynciter.ErrQueueShutDown {
			t.Fatalf("TryGet on an empty shut-down queue = %v", err)
		}
		join := startJoin(q, ctx)
		if returned(join) {
			t.Fatal("Join returned before the drained item was done")
		}
		q.TaskDone()
		if !returned(join) || <-join != nil {
			t.Fatal("Join did not return")
		}

		// A Get waiting at shutdown on an empty queue fails.
		q = asynciter.NewQueue[int](0)
		got := make(chan error, 1)
		go func() { _, err := q.Get(context.Background()); got <- err }()
		synctest.Wait()
		q.Shutdown(false)
		if err := <-got; err != asynciter.ErrQueueShutDown {
			t.Fatalf("blocked Get = %v", err)
		}
	})
}

// S119
func TestQueueShutdownImmediateDiscards(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		q := asynciter.NewQueue[int](0)
		for i := range 3 {
			q.Put(ctx, i)
		}
		q.Get(ctx) // got, not done
		q.Shutdown(true)
		if n := q.Len(); n != 0 {
			t.Fatalf("Len = %d after Shutdown(true)", n)
		}
		join := startJoin(q, ctx)
		if returned(join) {
			t.Fatal("Join returned with one item got and not done")
		}
		if err := q.TaskDone(); err != nil {
			t.Fatal(err)
		}
		if !returned(join) || <-join != nil {
			t.Fatal("Join did not return after the last TaskDone")
		}
		if err := q.TaskDone(); err != asynciter.ErrTaskDoneTooOften {
			t.Fatalf("TaskDone for a discarded item = %v", err)
		}

		// Nothing got: Join unblocks at once.
		q = asynciter.NewQueue[int](0)
		q.Put(ctx, 1)
		join = startJoin(q, ctx)
		if returned(join) {
			t.Fatal("Join returned early")
		}
		got := make(chan error, 1)
		q2 := asynciter.NewQueue[int](0)
		go func() { _, err := q2.Get(context.Background()); got <- err }()
		synctest.Wait()
		q.Shutdown(true)
		q2.Shutdown(true)
		if !returned(join) {
			t.Fatal("Join did not return when the discard left nothing unfinished")
		}
		if err := <-got; err != asynciter.ErrQueueShutDown {
			t.Fatalf("blocked Get = %v", err)
		}
	})
}

func TestQueueBoundsAndTryOps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		q := asynciter.NewQueue[int](2)
		if _, err := q.TryGet(); err != asynciter.ErrWouldBlock {
			t.Fatalf("TryGet on empty = %v", err)
		}
		q.TryPut(1)
		q.TryPut(2)
		if err := q.TryPut(3); err != asynciter.ErrWouldBlock {
			t.Fatalf("TryPut on full = %v", err)
		}
		put := make(chan error, 1)
		go func() { put <- q.Put(context.Background(), 3) }()
		synctest.Wait()
		if n := q.Len(); n != 2 {
			t.Fatalf("Len = %d", n)
		}
		if v, _ := q.Get(ctx); v != 1 {
			t.Fatalf("Get = %d, want 1 (FIFO)", v)
		}
		if err := <-put; err != nil {
			t.Fatal(err)
		}
		for _, want := range []int{2, 3} {
			if v, _ := q.Get(ctx); v != want {
				t.Fatalf("Get = %d, want %d", v, want)
			}
		}
		// A cancelled Put adds nothing; a cancelled Get takes nothing.
		q.TryPut(1)
		q.TryPut(2)
		pctx, stop := context.WithCancel(ctx)
		go func() { put <- q.Put(pctx, 9) }()
		synctest.Wait()
		stop()
		if err := <-put; err != context.Canceled {
			t.Fatalf("cancelled Put = %v", err)
		}
		if n := q.Len(); n != 2 {
			t.Fatalf("Len = %d after a cancelled Put", n)
		}
		if _, err := q.Get(pctx); err != context.Canceled {
			t.Fatalf("Get with a done ctx = %v", err)
		}
		if n := q.Len(); n != 2 {
			t.Fatalf("Len = %d after a cancelled Get", n)
		}
	})
}

func TestZeroQueueIsUnbounded(t *testing.T) {
	var q asynciter.Queue[string]
	for range 1000 {
		if err := q.TryPut("x"); err != nil {
			t.Fatal(err)
		}
	}
	if q.Len() != 1000 {
		t.Fatalf("Len = %d", q.Len())
	}
}

func TestQueueAllEndsAtShutdown(t *testing.T) {
	ctx := t.Context()
	q := asynciter.NewQueue[int](0)
	q.Put(ctx, 1)
	q.Put(ctx, 2)
	q.Shutdown(false)
	var got []int
	for v, err := range q.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
		q.TaskDone()
	}
	if len(got) != 2 {
		t.Fatalf("All = %v", got)
	}
	if err := q.Join(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestQueueMisuse(t *testing.T) {
	mustPanicWith(t, "NewQueue(-5): the size must be at least 1, or 0 or Unbounded", func() { asynciter.NewQueue[int](-5) })
	q := asynciter.NewQueue[int](0)
	mustPanicWith(t, "Queue.Put called with a nil context", func() { q.Put(nil, 1) }) //nolint:staticcheck
	mustPanicWith(t, "Queue.Get called with a nil context", func() { q.Get(nil) })    //nolint:staticcheck
	mustPanicWith(t, "Queue.Join called with a nil context", func() { q.Join(nil) })  //nolint:staticcheck
}

// Many producers and consumers: every item is got exactly once, Join
// returns once all are done, Shutdown ends the consumers.
func TestQueueManyProducersAndConsumers(t *testing.T) {
	q := asynciter.NewQueue[int](3)
	var mu sync.Mutex
	seen := make(map[int]int)
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 4 {
			n.Go(func(ctx context.Context) error {
				for v, err := range q.All(ctx) {
					if err != nil {
						return err
					}
					mu.Lock()
					seen[v]++
					mu.Unlock()
					if err := q.TaskDone(); err != nil {
						return err
					}
				}
				return nil
			})
		}
		err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			for p := range 5 {
				n.Go(func(ctx context.Context) error {
					for i := range 200 {
						if err := q.Put(ctx, p*1000+i); err != nil {
							return err
						}
					}
					return nil
				})
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = q.Join(ctx)
		q.Shutdown(false)
		return err
	})
	if err != nil || len(seen) != 1000 {
		t.Fatalf("Run = %v, %d distinct items; want nil, 1000", err, len(seen))
	}
	for v, c := range seen {
		if c != 1 {
			t.Fatalf("item %d got %d times", v, c)
		}
	}
}
