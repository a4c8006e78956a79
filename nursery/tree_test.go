//go:build go1.25

package nursery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"weak"

	"github.com/structured-go/structured/nursery"
)

// find returns the tasks of the nursery named name in infos, searching the
// whole tree.
func find(infos []nursery.NurseryInfo, name string) *nursery.NurseryInfo {
	for i := range infos {
		if infos[i].Name == name {
			return &infos[i]
		}
		if f := find(infos[i].Children, name); f != nil {
			return f
		}
	}
	return nil
}

func taskNames(info *nursery.NurseryInfo) []string {
	var names []string
	for _, t := range info.Tasks {
		names = append(names, t.Name)
	}
	return names
}

// The tree of a tracked Run is exact while it runs (its open tasks, their
// names and functions, its nested nurseries, tracked because it is) and
// empty once it has returned.
func TestTreeWhileRunningAndAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		inside := make(chan []nursery.NurseryInfo)
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("writer"))
			nursery.Spawn(n, func(ctx context.Context) (int, error) { <-release; return 0, nil }, nursery.WithName("reader"))
			n.Go(func(ctx context.Context) error {
				return nursery.Run(ctx, func(ctx context.Context, inner *nursery.Nursery) error {
					inner.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("leaf"))
					time.Sleep(time.Second) // let the tree settle
					inside <- nursery.Tree()
					return nil
				}, nursery.WithName("inner"))
			}, nursery.WithName("fan-out"))
			tree := <-inside
			outer, inner := find(tree, "outer"), find(tree, "inner")
			if outer == nil || inner == nil || len(outer.Children) != 1 || outer.Children[0].Name != "inner" {
				t.Errorf("tree while running = %+v, want outer with inner nested", tree)
				close(release)
				return nil
			}
			if got := strings.Join(taskNames(outer), ","); got != "writer,reader,fan-out" {
				t.Errorf("outer's open tasks = %q, want writer,reader,fan-out (oldest first)", got)
			}
			if got := taskNames(inner); len(got) != 1 || got[0] != "leaf" {
				t.Errorf("inner's open tasks = %q, want leaf", got)
			}
			if f := outer.Tasks[0].Func; !strings.Contains(f, "TestTreeWhileRunningAndAfter") || !strings.Contains(outer.Tasks[0].Site, "tree_test.go:") {
				t.Errorf("task function %q at %q, want the literal in this test", f, outer.Tasks[0].Site)
			}
			if !strings.Contains(outer.Site, "tree_test.go:") || outer.Started.IsZero() {
				t.Errorf("outer's site %q, started %v", outer.Site, outer.Started)
			}
			close(release)
			return nil
		}, nursery.WithName("outer"), nursery.WithTracking())
		if err != nil {
			t.Fatal(err)
		}
		if tree := nursery.Tree(); len(tree) != 0 {
			t.Fatalf("tree after Run = %+v, want empty", tree)
		}
	})
}

// A finished nursery is not retained by the tree: it can be collected.
func TestTreeRetainsNothing(t *testing.T) {
	var w weak.Pointer[nursery.Nursery]
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		w = weak.Make(n)
		n.Go(func(ctx context.Context) error { return nil })
		return nil
	}, nursery.WithTracking())
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		runtime.GC()
		if w.Value() == nil {
			return
		}
	}
	t.Fatal("a finished tracked nursery is still reachable")
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// The hang a migration from errgroup turned a leak into: a body that
// returns without stopping its workers, which wait on a channel nobody
// closes. With WithStuckReport the Run says, once and after the delay, which
// tasks it waits for.
func TestStuckReportNamesTheOpenTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		jobs := make(chan int)
		stop := make(chan struct{}) // the test's way out; in the bug, nothing
		var returned atomic.Bool
		go func() {
			defer returned.Store(true)
			_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				for i := range 2 {
					n.Go(func(ctx context.Context) error {
						select {
						case <-jobs: // nobody closes jobs
						case <-stop:
						}
						return nil
					}, nursery.WithName("worker-"+string(rune('a'+i))))
				}
				n.Go(func(ctx context.Context) error { return nil }) // done at once: not reported
				return nil                                           // forgot to close(jobs)
			}, nursery.WithStuckReport(5*time.Second, logger))
		}()
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if got := logs.String(); got != "" {
			t.Fatalf("a report before the delay: %s", got)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		report := logs.String()
		for _, want := range []string{"worker-a", "worker-b", "has waited 5s for 2 tasks", "tree_test.go:", "running for 5s"} {
			if !strings.Contains(report, want) {
				t.Errorf("the report does not say %q:\n%s", want, report)
			}
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
			t.Errorf("%d reports, want one", n)
		}
		close(stop)
		synctest.Wait()
		if !returned.Load() {
			t.Fatal("Run did not return once the workers did")
		}
	})
}

// The clock of the report starts at cancellation too, and no report comes
// when the tasks return in time.
func TestStuckReportAfterCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				time.Sleep(3 * time.Second) // slow to honour the cancellation
				return nil
			}, nursery.WithName("slow"))
			n.Cancel(nil)
			time.Sleep(time.Hour) // the body goes on; the clock started at Cancel
			return nil
		}, nursery.WithStuckReport(time.Second, logger))
		if err != nil || !strings.Contains(logs.String(), "slow") || !strings.Contains(logs.String(), "has waited 1s") {
			t.Fatalf("Run() = %v, report %q: want a report naming slow", err, logs.String())
		}
		logs = syncBuffer{}
		err = nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { time.Sleep(time.Second); return nil })
			return nil
		}, nursery.WithStuckReport(2*time.Second, logger))
		if err != nil || logs.String() != "" {
			t.Fatalf("Run() = %v, report %q: want none", err, logs.String())
		}
	})
}

// WriteTree and TreeHandler show the tree as text and as JSON, while tasks
// start and end around them (this test is for -race).
func TestTreeHandlerAndWriteTreeUnderChurn(t *testing.T) {
	nursery.SetTracking(true)
	defer nursery.SetTracking(false)
	h := nursery.TreeHandler()
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		block := make(chan struct{})
		n.Go(func(ctx context.Context) error { <-block; return nil }, nursery.WithName("holder"))
		for i := range 200 {
			n.Go(func(ctx context.Context) error {
				if i%10 == 0 {
					return nursery.Run(ctx, func(ctx context.Context, m *nursery.Nursery) error {
						m.Go(func(ctx context.Context) error { return nil })
						return nil
					})
				}
				return nil
			})
		}
		var text bytes.Buffer
		for range 20 {
			text.Reset()
			if err := nursery.WriteTree(&text); err != nil {
				return err
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/nurseries?format=json", nil))
			var snap nursery.TreeSnapshot
			if err := json.Unmarshal(rec.Body.Bytes(), &snap); err != nil {
				t.Error(err)
				break
			}
			if len(snap.Nurseries) == 0 {
				t.Error("the JSON tree is empty while a tracked Run runs")
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/nurseries", nil))
		if !strings.Contains(rec.Body.String(), `task "holder" github.com/`) || !strings.Contains(text.String(), "holder") {
			t.Errorf("the text tree does not show the holder:\n%s", rec.Body.String())
		}
		close(block)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := nursery.WriteTree(&text); err != nil || text.String() != "no tracked nursery is running\n" {
		t.Fatalf("WriteTree after Run = %q, %v", text.String(), err)
	}
}

// A tracked nursery's options and record are one allocation of at most 512
// bytes, the largest the allocator types without a header: past it, a
// tracked Run of one task costs about 5 % more.
func TestTrackedConfigFitsOneSmallAllocation(t *testing.T) {
	if nursery.TrackedConfigSize > 512 {
		t.Fatalf("a tracked nursery's config is %d bytes, want at most 512", nursery.TrackedConfigSize)
	}
}

// A Race nested in a tracked nursery is in the tree (its config, made by
// Race without room for a tracker, gets one of its own), its tasks named
// after the functions given to Race.
func TestRaceUnderTrackedNurseryIsInTheTree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		primary := func(ctx context.Context) (int, error) { <-release; return 1, nil }
		fallback := func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() }
		var tree []nursery.NurseryInfo
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error {
				_, err := nursery.Race(ctx, primary, fallback)
				return err
			})
			time.Sleep(time.Second) // every task blocked
			tree = nursery.Tree()
			close(release)
			return nil
		}, nursery.WithName("outer"), nursery.WithTracking())
		if err != nil {
			t.Fatal(err)
		}
		outer := find(tree, "outer")
		if outer == nil || len(outer.Children) != 1 {
			t.Fatalf("tree %+v: want outer with the Race's nursery in it", tree)
		}
		var funcs []string
		for _, task := range outer.Children[0].Tasks {
			funcs = append(funcs, task.Func)
		}
		if len(funcs) != 2 || !strings.HasSuffix(funcs[0], "TestRaceUnderTrackedNurseryIsInTheTree.func1.1") || !strings.HasSuffix(funcs[1], "TestRaceUnderTrackedNurseryIsInTheTree.func1.2") {
			t.Errorf("the Race's tasks are %q, want the two functions given to it", funcs)
		}
	})
}

// A task's Started is the last clock reading of its nursery before it
// started: never later than the task's start, and earlier by at most the
// time since that reading (here the nursery's start, 5s before).
func TestTaskStartedIsNeverLaterThanItsStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var tree []nursery.NurseryInfo
		var spawned time.Time
		err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			time.Sleep(5 * time.Second)
			spawned = time.Now()
			n.Go(func(ctx context.Context) error { <-ctx.Done(); return nil }, nursery.WithName("late"))
			time.Sleep(time.Second)
			tree = nursery.Tree()
			n.Cancel(nil)
			return nil
		}, nursery.WithName("outer"), nursery.WithTracking())
		if err != nil {
			t.Fatal(err)
		}
		outer := find(tree, "outer")
		if outer == nil || len(outer.Tasks) != 1 {
			t.Fatalf("tree %+v: want outer with its task", tree)
		}
		got := outer.Tasks[0].Started
		if got.After(spawned) || got.Before(start) {
			t.Errorf("the task's Started is %v after the nursery's start; it started %v after it: want between 0 and that", got.Sub(start), spawned.Sub(start))
		}
	})
}
