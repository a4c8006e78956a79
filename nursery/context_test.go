//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/structured-go/structured/cancel"
	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/timeout"
)

type frontKey string

// fronts are the ways user code and the library wrap a task's context before
// deriving from it: each returns the context to derive from.
var fronts = []struct {
	name string
	wrap func(ctx context.Context, use func(context.Context))
}{
	{"as is", func(ctx context.Context, use func(context.Context)) { use(ctx) }},
	{"WithValue", func(ctx context.Context, use func(context.Context)) {
		use(context.WithValue(ctx, frontKey("request"), "r-1"))
	}},
	{"three WithValue layers", func(ctx context.Context, use func(context.Context)) {
		ctx = context.WithValue(ctx, frontKey("a"), 1)
		ctx = context.WithValue(ctx, frontKey("b"), 2)
		use(context.WithValue(ctx, frontKey("c"), 3))
	}},
	{"pprof labels", func(ctx context.Context, use func(context.Context)) {
		pprof.Do(ctx, pprof.Labels("k", "v"), use)
	}},
}

// A nursery's context, seen through any number of WithValue layers, is a
// parent the standard library attaches derived contexts to without a
// goroutine of its own, as it does a context.WithCancelCause: 1,000 derived
// contexts start no goroutine.
func TestDerivedContextsStartNoGoroutine(t *testing.T) {
	const derived = 1000
	count := func(ctx context.Context) int {
		before := runtime.NumGoroutine()
		stops := make([]func(), 0, 2*derived)
		for range derived {
			_, stop1 := context.WithCancel(ctx)
			_, stop2 := context.WithTimeout(ctx, time.Hour)
			stops = append(stops, stop1, stop2)
		}
		grew := runtime.NumGoroutine() - before
		for _, stop := range stops {
			stop()
		}
		return grew
	}
	for _, opts := range []struct {
		name string
		opts []nursery.Option
	}{
		{"plain", nil},
		{"named", []nursery.Option{nursery.WithName("n")}},
		{"tracked", []nursery.Option{nursery.WithTracking()}},
	} {
		for _, f := range fronts {
			err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				n.Go(func(ctx context.Context) error {
					f.wrap(ctx, func(ctx context.Context) {
						if grew := count(ctx); grew > derived/10 {
							t.Errorf("%s nursery, %s: %d derived contexts started %d goroutines, want none", opts.name, f.name, 2*derived, grew)
						}
					})
					return nil
				}, nursery.WithName("task"))
				task := nursery.Spawn(n, func(ctx context.Context) (int, error) {
					f.wrap(ctx, func(ctx context.Context) {
						if grew := count(ctx); grew > derived/10 {
							t.Errorf("%s nursery, %s, a Spawned task: %d derived contexts started %d goroutines, want none", opts.name, f.name, 2*derived, grew)
						}
					})
					return 0, nil
				})
				_, err := task.Wait(ctx)
				return err
			}, opts.opts...)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// derivedSet derives from ctx, through each front, the contexts libraries
// derive: WithCancel, WithTimeout, AfterFunc, an errgroup, a nursery nested in
// a task, a cancel scope and a reschedulable timeout. ready is closed once
// they all exist; check then reports each one that is not done with want as
// its cause. Everything it started has returned when wait returns.
type derivedSet struct {
	ctxs  map[string]context.Context
	after map[string]chan struct{}
	stops []func()
}

func newDerivedSet() *derivedSet {
	return &derivedSet{ctxs: map[string]context.Context{}, after: map[string]chan struct{}{}}
}

func (d *derivedSet) derive(name string, ctx context.Context) {
	c1, stop1 := context.WithCancel(ctx)
	c2, stop2 := context.WithTimeout(ctx, time.Hour)
	g, gctx := errgroup.WithContext(ctx)
	ran := make(chan struct{})
	stop3 := context.AfterFunc(ctx, func() { close(ran) })
	d.ctxs[name+"/WithCancel"] = c1
	d.ctxs[name+"/WithTimeout"] = c2
	d.ctxs[name+"/errgroup"] = gctx
	d.after[name+"/AfterFunc"] = ran
	d.stops = append(d.stops, stop1, stop2, func() { stop3(); _ = g.Wait() })
}

func (d *derivedSet) check(t *testing.T, round int, what string, want error) {
	t.Helper()
	for name, c := range d.ctxs {
		if c.Err() == nil {
			t.Errorf("round %d: when %s returned, the context derived %s was not done", round, what, name)
			continue
		}
		select {
		case <-c.Done():
		default:
			t.Errorf("round %d: %s: Err() = %v while Done is open", round, name, c.Err())
		}
		if got := context.Cause(c); got != want {
			t.Errorf("round %d: %s: Cause = %v, want %v", round, name, got, want)
		}
	}
	for name, ran := range d.after {
		<-ran // the standard library runs AfterFunc in a goroutine of its own: it runs, at least
		_ = name
	}
}

func (d *derivedSet) release() {
	for _, stop := range d.stops {
		stop()
	}
}

// When n.Cancel returns, every context derived from the tasks' contexts is
// done, with the cause, through WithValue layers, pprof labels, an errgroup,
// a nested nursery, a cancel scope and a timeout inside a task: as a
// standard context's cancel func guarantees.
func TestCancelHasReachedEveryDescendantWhenItReturns(t *testing.T) {
	errStop := errors.New("stop")
	for round := range 200 {
		set := newDerivedSet()
		ready := make(chan struct{})
		var nested sync1
		err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				for _, f := range fronts {
					f.wrap(ctx, func(ctx context.Context) { set.derive(f.name, ctx) })
				}
				// A cancel scope and a reschedulable timeout in the task,
				// and a nursery nested in it: their contexts' derived ones.
				return cancel.New().Run(ctx, func(ctx context.Context) error {
					set.derive("cancel.Scope", context.WithValue(ctx, frontKey("k"), 1))
					return timeout.New(time.Hour).Run(ctx, func(ctx context.Context) error {
						set.derive("timeout.New", ctx)
						return nursery.Run(ctx, func(ctx context.Context, inner *nursery.Nursery) error {
							inner.Go(func(ctx context.Context) error {
								set.derive("nested nursery", context.WithValue(ctx, frontKey("k"), 2))
								close(ready)
								<-ctx.Done()
								return ctx.Err()
							})
							nested.done = true
							return nil
						})
					})
				})
			})
			<-ready
			n.Cancel(errStop)
			set.check(t, round, "n.Cancel", errStop)
			return nil
		})
		set.release()
		if err != nil || !nested.done {
			t.Fatalf("round %d: Run() = %v, want nil", round, err)
		}
		if t.Failed() {
			return
		}
	}
}

type sync1 struct{ done bool }

// When a cancel scope's Cancel returns, the contexts derived from the tasks
// of a nursery run inside it are done too.
func TestScopeCancelHasReachedNurseryTasksWhenItReturns(t *testing.T) {
	errStop := errors.New("stop")
	for round := range 200 {
		set := newDerivedSet()
		ready := make(chan struct{})
		s := cancel.New()
		_ = s.Run(context.Background(), func(ctx context.Context) error {
			return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
				n.Go(func(ctx context.Context) error {
					for _, f := range fronts {
						f.wrap(ctx, func(ctx context.Context) { set.derive(f.name, ctx) })
					}
					close(ready)
					<-ctx.Done()
					return ctx.Err()
				})
				<-ready
				s.Cancel(errStop)
				set.check(t, round, "Scope.Cancel", errStop)
				return nil
			})
		})
		set.release()
		if t.Failed() {
			return
		}
	}
}

// context.Context: "If Done is not yet closed, Err returns nil." A goroutine
// that polls Err while the nursery is cancelled never sees an error with
// Done still open.
func TestErrIsNilWhileDoneIsOpen(t *testing.T) {
	violations := 0
	for range 1000 {
		_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			polling := make(chan struct{})
			n.Go(func(ctx context.Context) error {
				done := ctx.Done() // someone waits on Done, as a select in the task would
				close(polling)
				oneProc := runtime.GOMAXPROCS(0) == 1
				for i := 0; ctx.Err() == nil; i++ {
					if oneProc && i%1024 == 0 {
						runtime.Gosched() // on one processor, the canceller runs only if this yields
					}
				}
				select {
				case <-done:
				default:
					violations++
				}
				return nil
			})
			<-polling
			n.Cancel(nil)
			return nil
		})
	}
	if violations > 0 {
		t.Fatalf("Err() was non-nil while Done was open %d times in 1000 cancellations", violations)
	}
}

// errgroup's TestCancelCause: once Wait has returned, context.Cause of the
// group's context is context.Canceled if nothing failed, and the failure if
// one did.
func TestCauseOnceRunHasReturned(t *testing.T) {
	errA := errors.New("a failed")
	for _, tc := range []struct {
		name string
		task func(ctx context.Context) error
		want error
	}{
		{"nothing failed", func(context.Context) error { return nil }, context.Canceled},
		{"a task failed", func(context.Context) error { return errA }, errA},
		{"cancelled with a cause", nil, errStopCause},
	} {
		var kept context.Context
		_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			kept = ctx
			if tc.task == nil {
				n.Cancel(errStopCause)
				return nil
			}
			n.Go(tc.task)
			return nil
		})
		if got := context.Cause(kept); got != tc.want {
			t.Errorf("%s: context.Cause(ctx) after Run = %v, want %v", tc.name, got, tc.want)
		}
		if kept.Err() != context.Canceled {
			t.Errorf("%s: ctx.Err() after Run = %v, want context.Canceled", tc.name, kept.Err())
		}
	}
}

var errStopCause = errors.New("stopped by the caller")

// A nursery run under context.WithoutCancel of a task's context, kept past
// the end of the tracked nursery it came from, is in the tree while it runs:
// it is not attached to the finished nursery's record.
func TestTrackedNurseryUnderDetachedContextOfFinishedOne(t *testing.T) {
	var kept context.Context
	if err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		kept = context.WithoutCancel(ctx)
		return nil
	}, nursery.WithTracking()); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var inTree bool
	err := nursery.Run(context.Background(), func(ctx context.Context, other *nursery.Nursery) error {
		other.Go(func(context.Context) error { <-release; return nil }) // another tracked nursery runs meanwhile
		return nursery.Run(kept, func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(context.Context) error {
				inTree = findNursery(nursery.Tree(), "late")
				close(release)
				return nil
			})
			return nil
		}, nursery.WithTracking(), nursery.WithName("late"))
	}, nursery.WithTracking(), nursery.WithName("other"))
	if err != nil {
		t.Fatal(err)
	}
	if !inTree {
		t.Fatal("the nursery run under the finished nursery's detached context is missing from Tree()")
	}
}

func findNursery(infos []nursery.NurseryInfo, name string) bool {
	for _, info := range infos {
		if info.Name == name || findNursery(info.Children, name) {
			return true
		}
	}
	return false
}

// An HTTP server whose BaseContext is a task's context (through a WithValue
// layer) derives each request's context from it: when n.Cancel returns, the
// handler's request context is done, and serving started no goroutine per
// request to watch the nursery.
func TestHTTPRequestContextsAreChildrenOfTheTask(t *testing.T) {
	errStop := errors.New("shutting down")
	inHandler := make(chan context.Context)
	release := make(chan struct{})
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		base := context.WithValue(ctx, frontKey("server"), "s")
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inHandler <- r.Context()
			<-release
		}))
		srv.Config.BaseContext = func(net.Listener) context.Context { return base }
		srv.Start()
		defer srv.Close()
		defer close(release) // before Close, which waits for the handler
		n.Go(func(ctx context.Context) error {
			resp, err := http.Get(srv.URL)
			if err == nil {
				resp.Body.Close()
			}
			return nil
		})
		reqCtx := <-inHandler
		if reqCtx.Value(frontKey("server")) != "s" {
			return errors.New("the request's context does not derive from BaseContext")
		}
		n.Cancel(errStop)
		if reqCtx.Err() == nil || context.Cause(reqCtx) != errStop {
			return fmt.Errorf("when n.Cancel returned, the request's context: Err %v, Cause %v; want done with %v", reqCtx.Err(), context.Cause(reqCtx), errStop)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The standard context behind a nursery's is made on first use. Made after
// Cancel has returned, by one of several tasks asking at once, it is never
// seen live: every task's ctx.Err() is non-nil, whichever made it.
func TestContextMadeAfterCancelIsNeverSeenLive(t *testing.T) {
	live := 0
	for range 2000 {
		var seen [4]bool
		_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			start := make(chan struct{})
			for i := range seen {
				n.Go(func(ctx context.Context) error {
					<-start // nobody has looked at ctx before Cancel
					seen[i] = ctx.Err() == nil
					return nil
				})
			}
			n.Cancel(nil)
			close(start)
			return nil
		})
		for _, l := range seen {
			if l {
				live++
			}
		}
	}
	if live > 0 {
		t.Fatalf("a task saw its context live after Cancel had returned, %d times", live)
	}
}
