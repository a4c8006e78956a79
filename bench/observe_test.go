package bench

// The costs of seeing the tree from outside (issue 25): runtime/trace on
// and off, and the page and the JSON of 10,000 tasks.
//
//	BenchmarkTraced/N=100      with the execution tracer on (to io.Discard):
//	                           nursery (every Run a trace task, every task a
//	                           region) beside raw (go + WaitGroup, which the
//	                           tracer costs too), interleaved; "nursery/raw"
//	                           is to be read beside BenchmarkSpawnJoin's,
//	                           where tracing is off; rawregion is raw with
//	                           each task in a region (the floor of one)
//	BenchmarkAllocs/traced-N=10000/nursery   allocations per task, tracer on
//	BenchmarkTreeRender/FORMAT 10,000 open tasks of 1,000 tracked nurseries,
//	                           rendered by TreeHandler: ms per page

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"reflect"
	"runtime"
	"runtime/trace"
	"strconv"
	"testing"
	"time"

	"github.com/structured-go/structured/nursery"
)

// tracing runs f with the execution tracer on.
func tracing(b *testing.B, f func()) {
	if err := trace.Start(io.Discard); err != nil {
		b.Fatal(err)
	}
	defer trace.Stop()
	f()
}

func BenchmarkTraced(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
			inRegion := regionTask(nopCtx)
			ops := []op{
				{"raw", func() error { return rawSpawn(n, 0, nopCtx) }},
				{"rawregion", func() error { return rawSpawn(n, 0, inRegion) }},
				{"nursery", func() error { return nurserySpawn(n, 0, nopCtx) }},
			}
			tracing(b, func() {
				interleave(b, batchFor(n), timeSpawn(b, ops), [][2]string{{"nursery", "raw"}, {"rawregion", "raw"}, {"nursery", "rawregion"}})
			})
		})
	}
}

// BenchmarkObserved: the Observer hook's own cost, an Observer that does
// nothing beside no Observer at all, for tasks started by Go without
// options (the path of their own) and with a name (the general path).
func BenchmarkObserved(b *testing.B) {
	const n = 100
	obs := nursery.WithObserver(nopObserver{})
	named := func(ctx context.Context, nu *nursery.Nursery) error {
		for range n {
			nu.Go(nopCtx, nursery.WithName("task"))
		}
		return nil
	}
	ops := []op{
		{"nursery", func() error { return nurserySpawn(n, 0, nopCtx) }},
		{"observed", func() error { return nurserySpawn(n, 0, nopCtx, obs) }},
		{"named", func() error { return nursery.Run(bg, named) }},
		{"namedobserved", func() error { return nursery.Run(bg, named, obs) }},
	}
	interleave(b, 1, timeSpawn(b, ops), [][2]string{{"observed", "nursery"}, {"namedobserved", "named"}})
}

// nopObserver watches every nursery and does nothing.
type nopObserver struct{}

func (nopObserver) NurseryStarted(ctx context.Context, _ *nursery.NurseryEvent) (context.Context, bool) {
	return ctx, true
}
func (nopObserver) NurseryEnded(context.Context, *nursery.NurseryEvent, error) {}
func (nopObserver) TaskStarted(ctx context.Context, _ *nursery.TaskEvent) context.Context {
	return ctx
}
func (nopObserver) TaskEnded(context.Context, *nursery.TaskEvent, nursery.TaskResult) {}

// regionTask is task in a region of the trace named as the nursery names
// a task's region (its function's name): raw with it is the floor of a
// region per task.
func regionTask(task func(context.Context) error) func(context.Context) error {
	name := runtime.FuncForPC(reflect.ValueOf(task).Pointer()).Name()
	return func(ctx context.Context) (err error) {
		trace.WithRegion(ctx, name, func() { err = task(ctx) })
		return err
	}
}

func BenchmarkTracedAllocs(b *testing.B) {
	const n = 10000
	b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
		b.ReportAllocs()
		tracing(b, func() {
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for range b.N {
				_ = nurserySpawn(n, 0, nopCtx)
			}
			runtime.ReadMemStats(&m1)
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N*n), "allocs/task")
		})
	})
}

// BenchmarkTreeRender renders the tree of 10,000 open tasks in 1,000
// tracked nurseries (10 tasks each, 5 kinds), as a page, as JSON and as
// text.
func BenchmarkTreeRender(b *testing.B) {
	release := make(chan struct{})
	ready := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			for i := range 999 {
				n.Go(func(ctx context.Context) error {
					return nursery.Run(ctx, func(ctx context.Context, m *nursery.Nursery) error {
						for j := range 10 {
							m.Go(func(context.Context) error { <-release; return nil }, nursery.WithName(fmt.Sprintf("kind-%d", j%5)))
						}
						return nil
					}, nursery.WithName("n"+strconv.Itoa(i)))
				})
			}
			for j := range 10 {
				n.Go(func(context.Context) error { <-release; return nil }, nursery.WithName(fmt.Sprintf("top-%d", j)))
			}
			close(ready)
			return nil
		}, nursery.WithTracking())
	}()
	<-ready
	for {
		open := 0
		var count func([]nursery.NurseryInfo)
		count = func(ns []nursery.NurseryInfo) {
			for _, n := range ns {
				open += n.OpenTasks
				count(n.Children)
			}
		}
		count(nursery.Tree())
		if open >= 10000 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	h := nursery.TreeHandler()
	for _, format := range []string{"html", "json", "text"} {
		b.Run(format, func(b *testing.B) {
			var size int
			for range b.N {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/?format="+format, nil))
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/page")
			b.ReportMetric(float64(size)/1e6, "MB/page")
		})
	}
	close(release)
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
