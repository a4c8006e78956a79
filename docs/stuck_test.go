//go:build go1.25

package docs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	"github.com/structured-go/structured/nursery"
)

// drainJobs is the bug of the recipe: the body starts workers that range
// over jobs, then returns without closing it. Run waits for the workers,
// which wait for jobs: the program hangs where errgroup's would have leaked.
func drainJobs(ctx context.Context, jobs chan int, after time.Duration, logger *slog.Logger) error {
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for i := range 2 {
			n.Go(func(ctx context.Context) error {
				for range jobs { // until jobs is closed: nobody closes it
				}
				return nil
			}, nursery.WithName(fmt.Sprintf("worker-%d", i)))
		}
		return nil // forgot close(jobs)
	}, nursery.WithStuckReport(after, logger))
}

// The stuck Run reports, once, which tasks it waits for. (The example's log
// handler does what the body forgot once it has written the report, so that
// the example ends; it prints only what does not depend on paths and ages.)
func Example_stuckReport() {
	jobs := make(chan int)
	logger := slog.New(reportThenClose{jobs: jobs})
	err := drainJobs(context.Background(), jobs, 10*time.Millisecond, logger)
	fmt.Println("Run:", err)
	// Output:
	// WARN tasks=2 [worker-0 worker-1]
	// Run: <nil>
}

// reportThenClose prints the gist of a stuck report, then closes jobs.
type reportThenClose struct{ jobs chan int }

func (h reportThenClose) Enabled(context.Context, slog.Level) bool { return true }
func (h reportThenClose) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h reportThenClose) WithGroup(string) slog.Handler            { return h }

func (h reportThenClose) Handle(_ context.Context, r slog.Record) error {
	var names []string
	r.Attrs(func(a slog.Attr) bool {
		if tasks, ok := a.Value.Any().([]nursery.TaskInfo); ok && a.Key == "tasks" {
			for _, t := range tasks {
				names = append(names, t.Name)
			}
		}
		return true
	})
	sort.Strings(names)
	fmt.Printf("%s tasks=%d %v\n", r.Level, len(names), names)
	close(h.jobs)
	return nil
}

// The live tree, served beside net/http/pprof: every tracked nursery and
// its open tasks, as text or JSON.
func Example_stuckTreeHandler() {
	mux := http.NewServeMux()
	mux.Handle("/debug/nurseries", nursery.TreeHandler())
	server := httptest.NewServer(mux)
	defer server.Close()

	release := make(chan struct{})
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		started := make(chan struct{})
		n.Go(func(ctx context.Context) error { close(started); <-release; return nil }, nursery.WithName("upload"))
		<-started

		resp, err := http.Get(server.URL + "/debug/nurseries?format=json")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var tree nursery.TreeSnapshot
		if err := json.NewDecoder(resp.Body).Decode(&tree); err != nil {
			return err
		}
		for _, nu := range tree.Nurseries {
			for _, task := range nu.Tasks {
				fmt.Printf("nursery %q: task %q, defined in %s\n", nu.Name, task.Name, task.Site[strings.LastIndex(task.Site, "/")+1:strings.LastIndex(task.Site, ":")])
			}
		}
		close(release)
		return nil
	}, nursery.WithName("backup"), nursery.WithTracking())
	fmt.Println("Run:", err)
	// Output:
	// nursery "backup": task "upload", defined in stuck_test.go
	// Run: <nil>
}

// For a program already stuck, a signal handler can write the tree to
// stderr: run the program with nursery.SetTracking(true) at the start of
// main.
func Example_stuckWriteTreeOnSignal() {
	nursery.SetTracking(true)
	defer nursery.SetTracking(false)
	release := make(chan struct{})
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		started := make(chan struct{})
		n.Go(func(ctx context.Context) error { close(started); <-release; return nil }, nursery.WithName("sync"))
		<-started
		// In a program: on SIGQUIT or a debug signal,
		//	_ = nursery.WriteTree(os.Stderr)
		var b strings.Builder
		_ = nursery.WriteTree(&b)
		fmt.Println(strings.Count(b.String(), `task "sync"`), "open task named sync")
		close(release)
		return nil
	})
	// Output: 1 open task named sync
}
