//go:build go1.25

package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/structured-go/structured/nursery"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func runCmd(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

// pstree draws the tree of a recorded snapshot: nurseries with their
// state, tasks folded (×N), names quoted so that none forges a line.
func TestPstreeDrawsTheTree(t *testing.T) {
	out, errOut, code := runCmd(t, "", "pstree", "testdata/tree.json")
	want := `pid 4242, go1.26.8, at 2026-12-01T10:00:10Z
└── nursery "server" #1 at /src/app/main.go:20, for 10s: waiting for its tasks for 9s, 4 open tasks
    ├── task "listener" main.listen at /src/app/main.go:30, for 10s, until cancelled
    ├── 2× task "worker" main.work at /src/app/main.go:40, for 8s (the oldest)
    ├── task "evil\ntask \"x\"" main.evil at /src/app/main.go:50, for 6s
    └── nursery (unnamed) #7 at /src/app/batch.go:10, for 5s: cancelled 4s ago: "boom", 1 open task
        └── task main.batch.func1 at /src/app/batch.go:12, for 5s
`
	if code != 0 || out != want {
		t.Errorf("pstree = %d, %s\n%s\nwant\n%s", code, errOut, out, want)
	}
}

// ps lists the kinds of task, one a line, with the path of nurseries.
func TestPsListsTheTasks(t *testing.T) {
	in, err := os.ReadFile("testdata/tree.json")
	if err != nil {
		t.Fatal(err)
	}
	out, _, code := runCmd(t, string(in), "ps", "-")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 5 || !strings.HasPrefix(lines[0], "NURSERY") {
		t.Fatalf("ps = %d:\n%s", code, out)
	}
	for i, want := range []string{
		`"server" 1 "listener" 1 10s running, until cancelled main.listen /src/app/main.go:30`,
		`"server" 1 "worker" 2 8s Run waits main.work /src/app/main.go:40`,
		`"server" 1 "evil\ntask \"x\"" 1 6s Run waits main.evil /src/app/main.go:50`,
		`"server" > (unnamed) 7 - 1 5s Run waits main.batch.func1 /src/app/batch.go:12`,
	} {
		if got := strings.Join(strings.Fields(lines[i+1]), " "); got != want {
			t.Errorf("line %d = %q, want %q", i+1, got, want)
		}
	}
}

// -stuck d exits with status 3 when a Run has waited longer than d for a
// task, counting a task meant to run until cancelled from the cancellation
// only.
func TestStuckIsAHealthProbe(t *testing.T) {
	tests := []struct {
		d    string
		code int
		want string
	}{
		{"3s", exitStuck, `nursery "server" #1 at /src/app/main.go:20 has waited longer than 3s for 3 tasks`},
		{"8s", exitStuck, `nursery "server" #1 at /src/app/main.go:20 has waited longer than 8s for 3 tasks`},
		{"9s", 0, ""},
	}
	for _, tt := range tests {
		_, errOut, code := runCmd(t, "", "pstree", "-stuck", tt.d, "testdata/tree.json")
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("-stuck %s = %d, %q; want %d, %q", tt.d, code, errOut, tt.code, tt.want)
		}
	}
	if _, errOut, _ := runCmd(t, "", "ps", "-stuck", "3s", "testdata/tree.json"); !strings.Contains(errOut, "(unnamed) #7") {
		t.Errorf("-stuck 3s does not name the cancelled nursery: %q", errOut)
	}
}

// Against a live TreeHandler: the tree of a running program, with stacks,
// read again with -watch.
func TestAgainstALiveHandler(t *testing.T) {
	srv := httptest.NewServer(nursery.TreeHandler())
	defer srv.Close()
	release := make(chan struct{})
	inside := make(chan struct{})
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { close(inside); <-release; return nil }, nursery.WithName("uploader"))
		<-inside
		out, errOut, code := runCmd(t, "", "pstree", "-stacks", "-watch", "10ms", "-count", "2", srv.URL)
		if code != 0 || strings.Count(out, `nursery "backup"`) != 2 || !strings.Contains(out, `task "uploader"`) || !strings.Contains(out, "TestAgainstALiveHandler") {
			t.Errorf("pstree -watch = %d, %s:\n%s", code, errOut, out)
		}
		out, _, code = runCmd(t, "", "ps", "-json", srv.URL)
		if code != 0 || !strings.Contains(out, `"schema": 1`) {
			t.Errorf("ps -json = %d:\n%s", code, out)
		}
		close(release)
		return nil
	}, nursery.WithName("backup"), nursery.WithTracking())
	if err != nil {
		t.Fatal(err)
	}
}

// Bad use gets the usage and status 2; a source that is not a tree,
// status 1.
func TestBadUse(t *testing.T) {
	for _, args := range [][]string{{}, {"top"}, {"ps"}, {"ps", "-watch", "-1s", "x"}, {"ps", "a", "b"}} {
		if _, errOut, code := runCmd(t, "", args...); code != 2 || !strings.Contains(errOut, "usage") && !strings.Contains(errOut, "flag") {
			t.Errorf("%q = %d, %q; want 2 and the usage", args, code, errOut)
		}
	}
	if _, errOut, code := runCmd(t, `{"schema": 99}`, "ps", "-"); code != 1 || !strings.Contains(errOut, "schema 99") {
		t.Errorf("schema 99 = %d, %q", code, errOut)
	}
	if _, _, code := runCmd(t, "", "ps", "testdata/missing.json"); code != 1 {
		t.Errorf("a missing file = %d, want 1", code)
	}
}

// -timeout bounds a reading: against a server that accepts the request and
// never answers, -stuck fails with status 1 instead of hanging.
func TestTimeoutAgainstAServerThatNeverAnswers(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	type result struct {
		errOut string
		code   int
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		_, errOut, code := runCmd(t, "", "ps", "-stuck", "30s", "-timeout", "100ms", srv.URL)
		done <- result{errOut, code}
	}()
	select {
	case r := <-done:
		if r.code != 1 || !strings.Contains(r.errOut, "no answer within 100ms") {
			t.Errorf("-timeout 100ms against a server that never answers = %d, %q; want 1 and the timeout", r.code, r.errOut)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("-timeout 100ms returned after %v", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("-timeout 100ms: still waiting for the server after 10s")
	}
}

// The timeout is 10s unless -timeout says otherwise, and the usage says so.
func TestTimeoutDefault(t *testing.T) {
	if defaultTimeout != 10*time.Second {
		t.Errorf("defaultTimeout = %v, want 10s", defaultTimeout)
	}
	_, errOut, code := runCmd(t, "", "ps", "-h")
	if code != 2 || !strings.Contains(errOut, "-timeout") || !strings.Contains(errOut, "(default 10s)") {
		t.Errorf("ps -h = %d, %q; want the -timeout flag and its default", code, errOut)
	}
	if _, errOut, code := runCmd(t, "", "ps", "-timeout", "-1s", "x"); code != 2 || !strings.Contains(errOut, "usage") {
		t.Errorf("-timeout -1s = %d, %q; want 2 and the usage", code, errOut)
	}
}

// -watch reads its source again and again: standard input cannot be, so
// the two together are refused, before anything is read.
func TestWatchRefusesStandardInput(t *testing.T) {
	in, err := os.ReadFile("testdata/tree.json")
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCmd(t, string(in), "pstree", "-watch", "1s", "-")
	if code != 2 || out != "" || !strings.Contains(errOut, "-watch cannot read standard input") {
		t.Errorf("pstree -watch 1s - = %d, %q, %q; want 2 and the reason", code, out, errOut)
	}
}
