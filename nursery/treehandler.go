package nursery

import (
	"encoding/json"
	"mime"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// TreeSchemaVersion is the version of the JSON form of the tree
// (TreeSnapshot) that TreeHandler serves. It changes only when a field
// changes meaning or goes away; fields are added without a change.
const TreeSchemaVersion = 1

// A TreeSnapshot is the tree of tracked nurseries as TreeHandler serves it
// in JSON: Tree's result, and what a reader in another process needs to
// make sense of it.
type TreeSnapshot struct {
	// Schema is TreeSchemaVersion.
	Schema int `json:"schema"`
	// PID is the process's id, Time when the snapshot was taken (by the
	// serving process's clock: ages are Time minus Started), GoVersion the
	// runtime's (runtime.Version()).
	PID       int       `json:"pid"`
	Time      time.Time `json:"time"`
	GoVersion string    `json:"goVersion"`
	// Nurseries are the tracked nurseries running, as Tree returns them,
	// each nursery's Tasks cut to the page asked for (its OpenTasks counts
	// them all).
	Nurseries []NurseryInfo `json:"nurseries"`
}

// Defaults of TreeHandler's ?limit=: tasks per nursery in JSON, kinds of
// task per nursery in text and HTML, where identical tasks are folded.
const (
	defaultJSONLimit = 1000
	defaultKindLimit = 100
)

// defaultStuck is the wait past which the page marks a Run as stuck,
// unless ?stuck= says otherwise.
const defaultStuck = 30 * time.Second

// TreeHandler returns an http.Handler that serves the tree of tracked
// nurseries, in the form the request asks for:
//
//   - HTML for a browser (an Accept header that puts text/html first, or
//     ?format=html): a page without scripts, each nursery a section with
//     its name, site, age, state and the cause of its cancellation, its
//     open tasks in a table where identical tasks (the same name, function
//     and site) are one row with their number (×N), and Runs waiting for
//     their tasks longer than ?stuck= (30s by default) marked as stuck;
//   - JSON (Accept: application/json, or ?format=json): a TreeSnapshot,
//     whose Schema is TreeSchemaVersion;
//   - text otherwise (curl, or ?format=text): what WriteTree writes.
//
// Each nursery lists at most ?limit= tasks (JSON, oldest first; 1000 by
// default) or kinds of task (text and HTML; 100 by default), from ?offset=
// on. With ?stacks=1 each listed task carries where its goroutine is,
// matched from the goroutine profile taken for that request (by the pprof
// labels of named tasks and nurseries, and the task function's frame):
// nothing is recorded for it while no one asks.
//
// The handler answers GET and HEAD only (405 otherwise), with the headers
// X-Content-Type-Options: nosniff and a Content-Security-Policy that lets
// the page load nothing and run nothing. What it shows is meant for the
// program's developers: file paths, function names, task and nursery
// names, and the texts of the errors that cancelled nurseries. Mount it,
// as net/http/pprof, on a mux that only they can reach, never on the one
// that serves the public:
//
//	internal := http.NewServeMux()
//	internal.Handle("/debug/nurseries", nursery.TreeHandler())
//	go http.ListenAndServe("localhost:6060", internal)
//
// The page's link to the goroutine profile, /debug/pprof/goroutine?debug=1,
// works when net/http/pprof is mounted on the same mux.
func TreeHandler() http.Handler {
	return http.HandlerFunc(serveTree)
}

func serveTree(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "nursery: the tree is read with GET or HEAD", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = negotiate(r.Header.Get("Accept"))
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	stuck := defaultStuck
	if d, err := time.ParseDuration(q.Get("stuck")); err == nil && d > 0 {
		stuck = d
	}
	withStacks := q.Get("stacks") == "1"
	infos := Tree()
	now := time.Now()
	if withStacks {
		attachStacks(infos)
	}
	switch format {
	case "json":
		if limit <= 0 {
			limit = defaultJSONLimit
		}
		p := pageOf(offset, limit)
		pageTasks(infos, p)
		snap := TreeSnapshot{Schema: TreeSchemaVersion, PID: os.Getpid(), Time: now, GoVersion: runtime.Version(), Nurseries: infos}
		h.Set("Content-Type", "application/json")
		if r.Method == http.MethodHead {
			return
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(snap)
	case "html":
		if limit <= 0 {
			limit = defaultKindLimit
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		if r.Method == http.MethodHead {
			return
		}
		_ = writeTreeHTML(w, infos, now, pageOf(offset, limit), stuck, r.URL.Query())
	default:
		if limit <= 0 {
			limit = defaultKindLimit
		}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		if r.Method == http.MethodHead {
			return
		}
		_ = writeTreeText(w, infos, now, pageOf(offset, limit))
	}
}

// negotiate picks the form of the answer from an Accept header: HTML if a
// browser puts it first, JSON if asked for anywhere, text otherwise.
func negotiate(accept string) string {
	for i, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch {
		case mt == "application/json":
			return "json"
		case i == 0 && (mt == "text/html" || mt == "application/xhtml+xml"):
			return "html"
		}
	}
	return "text"
}

// pageTasks cuts each nursery's tasks to p.
func pageTasks(infos []NurseryInfo, p page) {
	for i := range infos {
		infos[i].Tasks, _ = cut(infos[i].Tasks, p)
		pageTasks(infos[i].Children, p)
	}
}
