//go:build go1.25

package nursery_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/multierr"

	"github.com/structured-go/structured/nursery"
)

// Map returns results in the order of items, k at a time under WithLimit,
// with at most k goroutines for the items at any moment.
func TestMapInOrderUnderALimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		items := make([]int, 20)
		for i := range items {
			items[i] = i
		}
		var running, peak atomic.Int64
		t0 := time.Now()
		got, err := nursery.Map(t.Context(), items, func(ctx context.Context, i int) (string, error) {
			now := running.Add(1)
			for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
			}
			defer running.Add(-1)
			time.Sleep(time.Duration(20-i) * time.Millisecond) // later items finish first
			return fmt.Sprint(i * i), nil
		}, nursery.WithLimit(4))
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if v != fmt.Sprint(i*i) {
				t.Fatalf("Map()[%d] = %q, want %q: results out of order", i, v, fmt.Sprint(i*i))
			}
		}
		if peak.Load() != 4 {
			t.Fatalf("at most %d calls ran at once, want 4", peak.Load())
		}
		// Four slots, each taking the next item as soon as it frees.
		var free [4]time.Duration
		for i := range items {
			next := 0
			for w := range free {
				if free[w] < free[next] {
					next = w
				}
			}
			free[next] += time.Duration(20-i) * time.Millisecond
		}
		want := max(free[0], free[1], free[2], free[3])
		if got := time.Since(t0); got != want {
			t.Fatalf("Map took %v, want %v: four at a time, a new one as each ends", got, want)
		}
	})
}

// The first failure of Map cancels the rest and is returned alone; the
// results are nil. MapSettled keeps every outcome and cancels nothing.
func TestMapFailsFastAndMapSettledDoesNot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		items := []int{0, 1, 2, 3}
		var cancelled atomic.Int64
		fn := func(ctx context.Context, i int) (int, error) {
			if i == 2 {
				return 0, errA
			}
			select {
			case <-ctx.Done():
				cancelled.Add(1)
				return 0, ctx.Err()
			case <-time.After(time.Second):
				return i, nil
			}
		}
		got, err := nursery.Map(t.Context(), items, fn)
		if got != nil || err != errA || cancelled.Load() != 3 {
			t.Fatalf("Map() = %v, %v with %d cancelled, want nil, errA, 3 cancelled", got, err, cancelled.Load())
		}

		cancelled.Store(0)
		settled, err := nursery.MapSettled(t.Context(), items, fn)
		if err != nil || cancelled.Load() != 0 {
			t.Fatalf("MapSettled() error %v with %d cancelled, want nil and none", err, cancelled.Load())
		}
		for i, r := range settled {
			want := nursery.Result[int]{Value: i}
			if i == 2 {
				want = nursery.Result[int]{Err: errA}
			}
			if r != want {
				t.Fatalf("MapSettled()[%d] = %+v, want %+v", i, r, want)
			}
		}

		errs := nursery.ForEach(t.Context(), items, func(ctx context.Context, i int) error {
			if i%2 == 0 {
				return fmt.Errorf("item %d", i)
			}
			return nil
		}, nursery.WithCollectAll())
		if got := multierr.Errors(errs); len(got) != 2 {
			t.Fatalf("ForEach with WithCollectAll = %v, want the 2 failures", errs)
		}
	})
}

// Map with no items, and misuse.
func TestMapEdges(t *testing.T) {
	got, err := nursery.Map(t.Context(), []int(nil), func(ctx context.Context, i int) (int, error) { return i, nil })
	if got == nil || len(got) != 0 || err != nil {
		t.Fatalf("Map(no items) = %#v, %v; want an empty slice, nil", got, err)
	}
	var nilCtx context.Context
	for name, call := range map[string]func(){
		"Map nil fn":        func() { _, _ = nursery.Map[int, int](t.Context(), nil, nil) },
		"ForEach nil ctx":   func() { _ = nursery.ForEach(nilCtx, []int{1}, func(context.Context, int) error { return nil }) },
		"MapSettled nil fn": func() { _, _ = nursery.MapSettled[int, int](t.Context(), []int{1}, nil) },
	} {
		if r := recoverPanic(call); r == nil || !contains(fmt.Sprint(r), "nursery: ") {
			t.Errorf("%s: panicked with %v, want a message naming the misuse", name, r)
		}
	}
	// A panic in fn comes back once every call has returned.
	p := recoverPanic(func() {
		_ = nursery.ForEach(t.Context(), []int{1, 2, 3}, func(ctx context.Context, i int) error {
			if i == 2 {
				panic("item 2")
			}
			<-ctx.Done()
			return ctx.Err()
		})
	})
	if pe, ok := p.(*nursery.PanicError); !ok || pe.Value != "item 2" {
		t.Fatalf("ForEach with a panicking item panicked with %v, want its *PanicError", p)
	}
	if n := runtime.NumGoroutine(); n > 10 {
		t.Fatalf("%d goroutines after ForEach", n)
	}
}

// WithFirstError makes Run return only the first real error, as errgroup
// does, so that callers comparing or type-asserting it keep working.
func TestWithFirstError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		body := func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return errA })
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				return errB // ignores its ctx, and fails on its own
			})
			return nil
		}
		if err := nursery.Run(t.Context(), body); len(multierr.Errors(err)) != 2 {
			t.Fatalf("Run() = %v, want both errors by default", err)
		}
		if err := nursery.Run(t.Context(), body, nursery.WithFirstError()); err != errA {
			t.Fatalf("Run(WithFirstError) = %v, want errA alone", err)
		}
		// A panic still carries every error.
		p := runPanics(t, t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return errA })
			n.Go(func(ctx context.Context) error { <-ctx.Done(); return errB })
			n.Go(func(ctx context.Context) error { <-ctx.Done(); time.Sleep(time.Second); panic("late") })
			return nil
		}, nursery.WithFirstError())
		if len(p.Suppressed) != 2 {
			t.Fatalf("Suppressed = %v, want errA and errB", p.Suppressed)
		}
	})
}

// WithName names a nursery as well as a task: the name is the pprof label
// "nursery" of the body, which the tasks it starts inherit.
func TestWithNameOnRun(t *testing.T) {
	var body, namedTask string
	var profile bytes.Buffer
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		body, _ = pprof.Label(ctx, "nursery")
		named := n.Spawn(func(ctx context.Context) error {
			namedTask, _ = pprof.Label(ctx, "nursery")
			return nil
		}, nursery.WithName("fetcher"))
		if _, err := named.Wait(ctx); err != nil {
			return err
		}
		ready, release := make(chan struct{}), make(chan struct{})
		n.Go(func(ctx context.Context) error {
			close(ready)
			<-release
			return nil
		})
		<-ready
		err := pprof.Lookup("goroutine").WriteTo(&profile, 1)
		close(release)
		return err
	}, nursery.WithName("crawler"))
	if err != nil || body != "crawler" || namedTask != "crawler" {
		t.Fatalf("Run(WithName) = %v, labels of the body %q and of a named task %q; want nil, crawler, crawler", err, body, namedTask)
	}
	if got := strings.Count(profile.String(), `"nursery":"crawler"`); got < 2 {
		t.Fatalf("goroutine profile shows the label on %d stacks, want the body and its task:\n%s", got, profile.String())
	}
}
