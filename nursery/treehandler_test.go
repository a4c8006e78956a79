//go:build go1.25

package nursery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/structured-go/structured/nursery"
)

// withTree runs a tracked nursery named name whose body starts tasks with
// start, calls f while they run, and ends them.
func withTree(t *testing.T, name string, start func(n *nursery.Nursery, release <-chan struct{}), f func()) {
	t.Helper()
	release := make(chan struct{})
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		start(n, release)
		f()
		close(release)
		return nil
	}, nursery.WithName(name), nursery.WithTracking())
	if err != nil {
		t.Fatal(err)
	}
}

func get(h http.Handler, method, target, accept string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

// The handler answers each client in its form: a browser with the page,
// curl with text, a JSON client with a TreeSnapshot; ?format= overrides.
func TestTreeHandlerNegotiatesTheForm(t *testing.T) {
	h := nursery.TreeHandler()
	tests := []struct {
		target, accept, want string
	}{
		{"/t", browserAccept, "text/html; charset=utf-8"},
		{"/t", "*/*", "text/plain; charset=utf-8"},
		{"/t", "", "text/plain; charset=utf-8"},
		{"/t", "application/json", "application/json"},
		{"/t", "text/plain, application/json;q=0.5", "application/json"},
		{"/t?format=json", browserAccept, "application/json"},
		{"/t?format=text", browserAccept, "text/plain; charset=utf-8"},
		{"/t?format=html", "*/*", "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		rec := get(h, "GET", tt.target, tt.accept)
		if got := rec.Header().Get("Content-Type"); got != tt.want || rec.Code != 200 {
			t.Errorf("GET %s, Accept %q: %d, Content-Type %q, want 200, %q", tt.target, tt.accept, rec.Code, got, tt.want)
		}
	}
}

// Every answer says nosniff and a Content-Security-Policy that allows no
// script and no load; only GET and HEAD are answered.
func TestTreeHandlerIsADebuggingSurfaceOnly(t *testing.T) {
	h := nursery.TreeHandler()
	for _, target := range []string{"/t?format=html", "/t?format=json", "/t"} {
		rec := get(h, "GET", target, "")
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q, want nosniff", target, got)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("GET %s: Content-Security-Policy %q, want default-src 'none' and no script source", target, csp)
		}
		if head := get(h, "HEAD", target, ""); head.Code != 200 || head.Body.Len() != 0 {
			t.Errorf("HEAD %s: %d with %d bytes, want 200 and no body", target, head.Code, head.Body.Len())
		}
	}
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		rec := get(h, method, "/t", "")
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q; want 405 and GET, HEAD", method, rec.Code, rec.Header().Get("Allow"))
		}
	}
}

// A task named to inject markup comes out escaped in the page, and quoted
// in the text, where a newline in a name cannot forge a line.
func TestTreeNamesAreEscapedAndQuoted(t *testing.T) {
	h := nursery.TreeHandler()
	evil := "<script>alert(1)</script>\ntask \"forged\" main.f at x.go:1"
	withTree(t, "n<b>", func(n *nursery.Nursery, release <-chan struct{}) {
		n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName(evil))
	}, func() {
		page := get(h, "GET", "/t", browserAccept).Body.String()
		if strings.Contains(page, "<script") || strings.Contains(page, "<b>") {
			t.Errorf("the page carries markup from a name:\n%s", page)
		}
		if !strings.Contains(page, "&lt;script&gt;") {
			t.Errorf("the page does not show the escaped name:\n%s", page)
		}
		text := get(h, "GET", "/t", "").Body.String()
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), `task "forged"`) {
				t.Errorf("a name forged a line of the text:\n%s", text)
			}
		}
		if !strings.Contains(text, `task "<script>alert(1)</script>\ntask \"forged\" main.f at x.go:1"`) {
			t.Errorf("the text does not quote the name:\n%s", text)
		}
		if strings.Count(text, "alert(1)") != 1 {
			t.Errorf("the text prints the name more than once:\n%s", text)
		}
	})
}

// Identical tasks (the same name, function and site) are one line, or one
// row, with their number; kinds of task are paginated.
func TestTreeFoldsIdenticalTasksAndPaginates(t *testing.T) {
	h := nursery.TreeHandler()
	withTree(t, "pool", func(n *nursery.Nursery, release <-chan struct{}) {
		for i := range 300 {
			name := "worker"
			if i >= 100 {
				name = "kind-" + string(rune('a'+i%20))
			}
			n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName(name))
		}
	}, func() {
		text := get(h, "GET", "/t", "").Body.String()
		if !strings.Contains(text, `100× task "worker"`) || !strings.Contains(text, `10× task "kind-a"`) {
			t.Errorf("the text does not fold identical tasks:\n%s", text)
		}
		page := get(h, "GET", "/t?limit=5", browserAccept).Body.String()
		if got := strings.Count(page, "<tr data-task="); got != 5 {
			t.Errorf("?limit=5: %d rows, want 5", got)
		}
		if !strings.Contains(page, `data-count="100"`) || !strings.Contains(page, "×100") {
			t.Errorf("the page does not fold the 100 workers into one row")
		}
		if !strings.Contains(page, "16 kinds on later pages") || !strings.Contains(page, "offset=5") {
			t.Errorf("the page does not link to the next page of 21 kinds:\n%s", page)
		}
		next := get(h, "GET", "/t?limit=5&offset=20", browserAccept).Body.String()
		if got := strings.Count(next, "<tr data-task="); got != 1 || !strings.Contains(next, "20 kinds on earlier pages") {
			t.Errorf("?offset=20: %d rows, want the last kind, and a link back", got)
		}
		var snap nursery.TreeSnapshot
		if err := json.Unmarshal(get(h, "GET", "/t?format=json&limit=7", "").Body.Bytes(), &snap); err != nil {
			t.Fatal(err)
		}
		pool := find(snap.Nurseries, "pool")
		if pool == nil || pool.OpenTasks != 300 || len(pool.Tasks) != 7 {
			t.Errorf("JSON ?limit=7: %+v, want 7 of 300 open tasks", pool)
		}
	})
}

// The JSON form says what a reader in another process needs: the schema
// version, the process, the time and the Go version.
func TestTreeSnapshotDescribesTheProcess(t *testing.T) {
	h := nursery.TreeHandler()
	withTree(t, "json", func(n *nursery.Nursery, release <-chan struct{}) {
		n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("w"), nursery.UntilCancelled())
	}, func() {
		before := time.Now()
		var snap nursery.TreeSnapshot
		if err := json.Unmarshal(get(h, "GET", "/t?format=json", "").Body.Bytes(), &snap); err != nil {
			t.Fatal(err)
		}
		if snap.Schema != nursery.TreeSchemaVersion || snap.PID != os.Getpid() || snap.GoVersion != runtime.Version() || snap.Time.Before(before.Add(-time.Second)) {
			t.Errorf("snapshot %+v: want schema %d, pid %d, %s, now", snap, nursery.TreeSchemaVersion, os.Getpid(), runtime.Version())
		}
		n := find(snap.Nurseries, "json")
		if n == nil || n.ID == 0 || len(n.Tasks) != 1 || !n.Tasks[0].UntilCancelled {
			t.Errorf("nursery %+v: want an id and the task until cancelled", n)
		}
	})
}

// With ?stacks=1 each task carries where its goroutine waits, matched from
// the goroutine profile by its labels and function.
func TestTreeStacksShowWhereEachTaskWaits(t *testing.T) {
	h := nursery.TreeHandler()
	withTree(t, "stacks", func(n *nursery.Nursery, release <-chan struct{}) {
		inside := make(chan struct{}, 3)
		n.Go(func(ctx context.Context) error { waitHere(inside, release); return nil }, nursery.WithName("waiter"))
		n.Go(func(ctx context.Context) error { waitHere(inside, release); return nil })
		// The profile quotes labels as Go does: a name with quotes, a
		// comma and a newline in it is still matched.
		n.Go(func(ctx context.Context) error { waitHere(inside, release); return nil }, nursery.WithName("a \"quoted\", name\n"))
		<-inside
		<-inside
		<-inside
	}, func() {
		var snap nursery.TreeSnapshot
		if err := json.Unmarshal(get(h, "GET", "/t?format=json&stacks=1", "").Body.Bytes(), &snap); err != nil {
			t.Fatal(err)
		}
		n := find(snap.Nurseries, "stacks")
		if n == nil || len(n.Tasks) != 3 {
			t.Fatalf("nursery %+v", n)
		}
		for _, task := range n.Tasks {
			if task.Stack == "" {
				var buf strings.Builder
				_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
				t.Errorf("task %q has no stack; the profile:\n%s", task.Name, buf.String())
			}
			if task.Name != "" && !strings.Contains(task.Stack, "waitHere") {
				t.Errorf("the waiter's stack does not show waitHere:\n%s", task.Stack)
			}
		}
		if plain := get(h, "GET", "/t?format=json", "").Body.String(); strings.Contains(plain, `"stack"`) {
			t.Error("stacks without ?stacks=1")
		}
		text := get(h, "GET", "/t?stacks=1", "").Body.String()
		if !regexp.MustCompile(`(?m)^\s+.*waitHere .*treehandler_test\.go:\d+$`).MatchString(text) {
			t.Errorf("the text with ?stacks=1 does not show where the waiter waits:\n%s", text)
		}
	})
}

//go:noinline
func waitHere(inside chan<- struct{}, c <-chan struct{}) {
	inside <- struct{}{}
	<-c
}

// FoldTasks keeps the oldest of identical tasks (the same name, function and
// site), counted, in the order of their oldest.
func TestFoldTasks(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tasks := []nursery.TaskInfo{
		{Name: "w", Func: "f", Site: "a:1", Started: at(1)},
		{Name: "x", Func: "f", Site: "a:1", Started: at(2)},
		{Name: "w", Func: "f", Site: "a:1", Started: at(3)},
		{Name: "w", Func: "g", Site: "a:1", Started: at(4)},
	}
	got := nursery.FoldTasks(tasks)
	want := []string{"w f 2 1", "x f 1 2", "w g 1 4"}
	if len(got) != len(want) {
		t.Fatalf("FoldTasks = %+v", got)
	}
	for i, g := range got {
		if s := fmt.Sprintf("%s %s %d %d", g.Name, g.Func, g.Count, g.Started.Sub(t0)/time.Second); s != want[i] {
			t.Errorf("FoldTasks()[%d] = %s, want %s", i, s, want[i])
		}
	}
}

// WaitedFor counts from the earlier of the body's return and the
// cancellation, and for a task meant to run until cancelled from the
// cancellation only.
func TestWaitedFor(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	task, server := nursery.TaskInfo{}, nursery.TaskInfo{UntilCancelled: true}
	now := t0.Add(time.Minute)
	for _, tt := range []struct {
		n            nursery.NurseryInfo
		task, server time.Duration
	}{
		{nursery.NurseryInfo{}, 0, 0},
		{nursery.NurseryInfo{Returned: t0, Waiting: t0}, time.Minute, 0},
		{nursery.NurseryInfo{Returned: t0, Cancelled: t0.Add(50 * time.Second), Waiting: t0}, time.Minute, 10 * time.Second},
	} {
		if got := tt.n.WaitedFor(task, now); got != tt.task {
			t.Errorf("WaitedFor(task) = %v, want %v", got, tt.task)
		}
		if got := tt.n.WaitedFor(server, now); got != tt.server {
			t.Errorf("WaitedFor(task until cancelled) = %v, want %v", got, tt.server)
		}
	}
}
