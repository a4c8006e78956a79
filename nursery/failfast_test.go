//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/structured-go/structured/nursery"
)

// Fail fast means stop: once item 0 has failed, Map starts no other item,
// and fn is never called for one that had not started; with a limit of 8,
// the 7 items running beside item 0 are the only other calls.
func TestMapStartsNoItemAfterAFailure(t *testing.T) {
	items := make([]int, 100_000)
	var calls atomic.Int64
	_, err := nursery.Map(context.Background(), items, func(ctx context.Context, _ int) (int, error) {
		if calls.Add(1) == 1 {
			return 0, errA
		}
		<-ctx.Done() // the items running beside the failure hold their slots until it cancels them
		return 0, ctx.Err()
	}, nursery.WithLimit(8))
	if err != errA || calls.Load() > 8 {
		t.Fatalf("Map() = %v after %d calls of fn; want errA after at most 8 (the limit)", err, calls.Load())
	}
}

// ForEach likewise.
func TestForEachStartsNoItemAfterAFailure(t *testing.T) {
	items := make([]int, 100_000)
	var calls atomic.Int64
	err := nursery.ForEach(context.Background(), items, func(ctx context.Context, _ int) error {
		if calls.Add(1) == 1 {
			return errA
		}
		<-ctx.Done()
		return ctx.Err()
	}, nursery.WithLimit(8))
	if err != errA || calls.Load() > 8 {
		t.Fatalf("ForEach() = %v after %d calls of fn; want errA after at most 8 (the limit)", err, calls.Load())
	}
}

// When ctx is cancelled while Map feeds its items, Map stops starting them
// and reports the cancellation, not a slice of zero values.
func TestMapStopsAndReportsTheParentsCancellation(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var calls atomic.Int64
	res, err := nursery.Map(ctx, make([]int, 1000), func(ctx context.Context, _ int) (int, error) {
		calls.Add(1)
		stop() // the caller gives up while the first item runs
		return 1, nil
	}, nursery.WithLimit(1))
	if err != context.Canceled || res != nil || calls.Load() != 1 {
		t.Fatalf("Map() = %v, %v after %d calls; want nil, context.Canceled after 1", res, err, calls.Load())
	}
}

// MapSettled and WithCollectAll keep running everything: every item's fn is
// called, also after a failure.
func TestCollectAllAndMapSettledRunEveryItem(t *testing.T) {
	const items = 1000
	var calls atomic.Int64
	fn := func(ctx context.Context, i int) (int, error) {
		calls.Add(1)
		if i == 0 {
			return 0, errA
		}
		return i, nil
	}
	list := make([]int, items)
	for i := range list {
		list[i] = i
	}
	if _, err := nursery.Map(context.Background(), list, fn, nursery.WithLimit(4), nursery.WithCollectAll()); err != errA {
		t.Fatalf("Map(WithCollectAll) = %v, want errA", err)
	}
	if calls.Load() != items {
		t.Fatalf("Map(WithCollectAll) called fn %d times, want %d", calls.Load(), items)
	}
	calls.Store(0)
	res, err := nursery.MapSettled(context.Background(), list, fn, nursery.WithLimit(4))
	if err != nil || calls.Load() != items || res[0].Err != errA || res[items-1].Value != items-1 {
		t.Fatalf("MapSettled() = %v after %d calls, want every item's outcome", err, calls.Load())
	}
}

// A Go on a cancelled nursery whose limit is full queues the task at once:
// it neither blocks nor hands the processor to other goroutines first.
func TestGoOnACancelledFullNurseryDoesNotYield(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var other atomic.Int64
	var stop atomic.Bool
	spinning := make(chan struct{})
	go func() {
		close(spinning)
		for !stop.Load() {
			other.Add(1)
			runtime.Gosched()
		}
	}()
	<-spinning
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		release := make(chan struct{})
		n.Go(func(context.Context) error { <-release; return nil }) // holds the slot
		n.Cancel(nil)
		before := other.Load()
		for range 1000 {
			n.Go(func(ctx context.Context) error { return ctx.Err() })
		}
		ran := other.Load() - before
		close(release)
		if ran > 100 {
			return errors.New("Go yielded the processor while queueing")
		}
		return nil
	}, nursery.WithLimit(1))
	stop.Store(true)
	if err != nil {
		t.Fatal(err)
	}
}

// Tracked, observed or under WithStuckReport, Map and ForEach stop as
// untracked ones do: an item that had not started when an item failed
// never calls fn. And each item is named after the caller's function, in
// the tree and in the observers' events.
func TestMapStartsNoItemAfterAFailureWhenTrackedOrObserved(t *testing.T) {
	for name, opt := range map[string]nursery.Option{
		"tracked":  nursery.WithTracking(),
		"observed": nursery.WithObserver(newChecker(t)),
	} {
		items := make([]int, 10_000)
		var calls atomic.Int64
		_, err := nursery.Map(context.Background(), items, func(ctx context.Context, _ int) (int, error) {
			if calls.Add(1) == 1 {
				return 0, errA
			}
			<-ctx.Done()
			return 0, ctx.Err()
		}, nursery.WithLimit(1), opt)
		if err != errA || calls.Load() != 1 {
			t.Errorf("%s: Map() = %v after %d calls of fn; want errA after 1 (a limit of 1)", name, err, calls.Load())
		}
		calls.Store(0)
		err = nursery.ForEach(context.Background(), items, func(ctx context.Context, _ int) error {
			if calls.Add(1) == 1 {
				return errA
			}
			<-ctx.Done()
			return ctx.Err()
		}, nursery.WithLimit(1), opt)
		if err != errA || calls.Load() != 1 {
			t.Errorf("%s: ForEach() = %v after %d calls of fn; want errA after 1", name, err, calls.Load())
		}
	}
}

// namesObserver records the function of every task it is told of.
type namesObserver struct {
	mu    sync.Mutex
	funcs []string
}

func (o *namesObserver) NurseryStarted(ctx context.Context, _ *nursery.NurseryEvent) (context.Context, bool) {
	return ctx, true
}
func (o *namesObserver) NurseryEnded(context.Context, *nursery.NurseryEvent, error) {}
func (o *namesObserver) TaskStarted(ctx context.Context, t *nursery.TaskEvent) context.Context {
	fn, _, _ := t.Location()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.funcs = append(o.funcs, fn)
	return ctx
}
func (o *namesObserver) TaskEnded(context.Context, *nursery.TaskEvent, nursery.TaskResult) {}

// An Observer is told of every item of Map, ForEach and Gather, named
// after the function the caller gave.
func TestObserverSeesTheItemsOfMapForEachAndGather(t *testing.T) {
	o := &namesObserver{}
	square := func(ctx context.Context, v int) (int, error) { return v * v, nil }
	touch := func(ctx context.Context, v int) error { return nil }
	one := func(ctx context.Context) (int, error) { return 1, nil }
	if _, err := nursery.Map(t.Context(), []int{1, 2, 3}, square, nursery.WithObserver(o)); err != nil {
		t.Fatal(err)
	}
	if err := nursery.ForEach(t.Context(), []int{1, 2}, touch, nursery.WithObserver(o)); err != nil {
		t.Fatal(err)
	}
	err := nursery.Run(t.Context(), func(ctx context.Context, _ *nursery.Nursery) error {
		_, err := nursery.Gather(ctx, one) // nested: the observer is inherited
		return err
	}, nursery.WithObserver(o))
	if err != nil {
		t.Fatal(err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.funcs) != 6 {
		t.Fatalf("the observer was told of %d tasks, want 6: %q", len(o.funcs), o.funcs)
	}
	for _, fn := range o.funcs {
		if !strings.Contains(fn, "TestObserverSeesTheItemsOfMapForEachAndGather.func") {
			t.Errorf("a task is named %q, want the caller's function", fn)
		}
	}
}

// Spawn, the Spawn method and Start are named after the caller's function
// too, not a wrapper of the nursery's.
func TestObserverNamesSpawnedAndStartedTasksByTheirFunction(t *testing.T) {
	o := &namesObserver{}
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		_ = nursery.Spawn(n, func(ctx context.Context) (int, error) { return 1, nil })
		_ = n.Spawn(func(ctx context.Context) error { return nil })
		_, err := nursery.Start(ctx, n, func(ctx context.Context, started func(int)) error { started(1); return nil })
		return err
	}, nursery.WithObserver(o))
	if err != nil {
		t.Fatal(err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.funcs) != 3 {
		t.Fatalf("told of %d tasks, want 3: %q", len(o.funcs), o.funcs)
	}
	for _, fn := range o.funcs {
		if !strings.Contains(fn, "TestObserverNamesSpawnedAndStartedTasksByTheirFunction.func") {
			t.Errorf("a task is named %q, want the caller's function", fn)
		}
	}
}
