//go:build go1.25

package docs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime/trace"
	"strings"
	"sync"
	"time"

	"github.com/structured-go/structured/nursery"
)

// serveWithDebug is a server's main: its public mux, and beside it, on a
// loopback address of its own, the debug mux with the tree of its
// nurseries. (The example serves both on test servers.)
func serveWithDebug(public, internal *http.ServeMux) (publicURL, debugURL string, stop func()) {
	internal.Handle("/debug/nurseries", nursery.TreeHandler())
	pub, dbg := httptest.NewServer(public), httptest.NewServer(internal)
	return pub.URL, dbg.URL, func() { pub.Close(); dbg.Close() }
}

// A browser asking the debug address for /debug/nurseries gets the page of
// the tree; the public address does not serve it.
func Example_observePage() {
	public, internal := http.NewServeMux(), http.NewServeMux()
	public.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") })
	publicURL, debugURL, stop := serveWithDebug(public, internal)
	defer stop()

	release := make(chan struct{})
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 3 {
			n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("worker"))
		}
		page := get(debugURL+"/debug/nurseries", "text/html,*/*;q=0.8")
		fmt.Println("rows:", strings.Count(page, "<tr data-task="), "- the three workers on one:", strings.Contains(page, `data-count="3"`))
		fmt.Println("public:", strings.TrimSpace(get(publicURL+"/debug/nurseries", "text/html")))
		close(release)
		return nil
	}, nursery.WithName("server"), nursery.WithTracking())
	// Output:
	// rows: 1 - the three workers on one: true
	// public: hello
}

func get(url, accept string) string {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A server's tasks meant to run until it is cancelled say so, and its
// stuck report stays quiet while it serves; a task that ignores the
// cancellation is reported once the server is stopped.
func Example_observeUntilCancelled() {
	var mu sync.Mutex
	var reports []string
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, string(p))
	}), nil))
	ctx, stopServer := context.WithCancel(context.Background())
	served := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { close(served); <-ctx.Done(); return nil },
				nursery.WithName("listener"), nursery.UntilCancelled())
			return nil
		}, nursery.WithStuckReport(20*time.Millisecond, logger))
	}()
	<-served
	time.Sleep(100 * time.Millisecond) // serving, long past the delay
	mu.Lock()
	fmt.Println("reports while serving:", len(reports))
	mu.Unlock()
	stopServer()
	fmt.Println("Run:", <-done)
	// Output:
	// reports while serving: 0
	// Run: <nil>
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

// countOutcomes is an Observer that counts how the tasks ended.
type countOutcomes struct {
	mu sync.Mutex
	n  map[nursery.Outcome]int
}

func (c *countOutcomes) NurseryStarted(ctx context.Context, _ *nursery.NurseryEvent) (context.Context, bool) {
	return ctx, true
}
func (c *countOutcomes) NurseryEnded(context.Context, *nursery.NurseryEvent, error) {}
func (c *countOutcomes) TaskStarted(ctx context.Context, _ *nursery.TaskEvent) context.Context {
	return ctx
}
func (c *countOutcomes) TaskEnded(_ context.Context, _ *nursery.TaskEvent, r nursery.TaskResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[r.Outcome]++
}

// An Observer sees every task end, with its outcome: the failure, and the
// echoes of the cancellation it caused.
func Example_observeObserver() {
	counts := &countOutcomes{n: map[nursery.Outcome]int{}}
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 3 {
			n.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		}
		n.Go(func(ctx context.Context) error { return errors.New("disk full") })
		return nil
	}, nursery.WithObserver(counts))
	fmt.Println("Run:", err)
	fmt.Println("failed:", counts.n[nursery.TaskFailed], "cancelled:", counts.n[nursery.TaskCancelled])
	// Output:
	// Run: disk full
	// failed: 1 cancelled: 3
}

// While the execution tracer runs (go test -trace, /debug/pprof/trace, a
// flight recorder), every Run is a trace task and every task a region:
// nothing to add to the code.
func Example_observeTrace() {
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		fmt.Println(err)
		return
	}
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { return nil }, nursery.WithName("fetch"))
		return nil
	}, nursery.WithName("crawl"))
	trace.Stop()
	fmt.Println("the trace names the region:", bytes.Contains(buf.Bytes(), []byte("fetch")))
	// Output: the trace names the region: true
}

// The trap: the tree on the public mux shows anyone the program's file
// paths, function names and error texts.
func Example_observeTrap() {
	public := http.NewServeMux()
	public.Handle("/debug/nurseries", nursery.TreeHandler()) // don't: this mux faces the public
	srv := httptest.NewServer(public)
	defer srv.Close()
	release := make(chan struct{})
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("billing"))
		page := get(srv.URL+"/debug/nurseries", "*/*")
		fmt.Println("anyone sees the source paths:", strings.Contains(page, "observe_test.go:"))
		close(release)
		return nil
	}, nursery.WithTracking())
	// Output: anyone sees the source paths: true
}
