package nursery

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// The live task tree: nurseries that are tracked know their parent nursery
// and their open tasks, and the tree can be read from outside while they
// run (Tree, WriteTree, TreeHandler), or reported by a Run that waits too
// long (WithStuckReport).
//
// Tracking is off by default, and then costs Run one atomic load. It is
// turned on for one Run and the nurseries nested in it with WithTracking,
// and for every Run of the process with SetTracking(true).

// trackedNow is the process's tracking state: whether every Run is tracked,
// how many tracked nurseries are running (while none is, Run does not look
// for a tracked parent), and the roots of the tree.
var trackedNow struct {
	all    atomic.Bool
	active atomic.Int64
	mu     sync.Mutex
	roots  []*tracker // pruned of finished ones as it grows
	pruned int        // len(roots) after the last pruning
}

// SetTracking turns tracking on or off for every Run that starts from now
// on, as WithTracking does for one. Nurseries already running are not
// affected.
func SetTracking(on bool) { trackedNow.all.Store(on) }

// WithTracking tracks the nursery and the nurseries nested in it (in its
// body or its tasks): they appear in Tree, WriteTree and TreeHandler while
// they run, with their open tasks. It costs each task a record of its name,
// function and start time.
func WithTracking() Option {
	return optionFunc(func(c *config) { c.track = true })
}

// WithStuckReport makes Run report once, through logger (slog.Default() if
// nil), the tasks it still waits for when it has waited longer than after
// since its body returned or since it was cancelled: their names, functions
// and ages. It is the message that turns a hang into a diagnosis: a body
// that returned without stopping its workers, a task that ignores its
// context. It tracks the nursery (see WithTracking). WithStuckReport panics
// if after <= 0.
func WithStuckReport(after time.Duration, logger *slog.Logger) Option {
	if after <= 0 {
		panic(fmt.Sprintf("nursery: WithStuckReport(%v): the delay must be positive", after))
	}
	return optionFunc(func(c *config) {
		c.track = true
		c.stuck = &stuckReport{after: after, logger: logger}
	})
}

// trackerKey is the context key under which a tracked nursery's context
// holds its tracker, for the nurseries nested in it.
type trackerKey struct{}

// A tracker is the record of one tracked nursery.
type tracker struct {
	name    string
	site    uintptr // the body's entry: where Run was called, for a function literal
	started time.Time
	parent  *tracker
	ended   atomic.Bool // Run has returned: the record is dropped when next pruned

	// tasks and children hold the records of tasks and nested nurseries,
	// open or ended: an ending task only marks its record, which costs it
	// no lock, and opening one prunes the ended ones as the slice grows.
	mu             sync.Mutex
	tasks          []*taskRec
	free           []*taskRec  // ended records, pruned, to be used again
	taskBuf        [4]*taskRec // the first few records' slots, in place
	children       []*tracker
	prunedTasks    int
	prunedChildren int
	waiting        time.Time // when Run began to wait: the body returned, or the nursery was cancelled
}

// A taskRec is the record of one task of a tracked nursery.
type taskRec struct {
	name    string
	site    uintptr // the task function's entry
	started time.Time
	ended   atomic.Bool
}

// prune drops the ended records of recs, in place, once it has doubled
// since the last pruning (pruned is the length then), so that opening stays
// O(1) on average and the slice stays within twice the open records.
func prune[T interface{ isEnded() bool }](recs []T, pruned *int) []T {
	if len(recs) < 2*max(*pruned, 8) {
		return recs
	}
	kept := recs[:0]
	for _, r := range recs {
		if !r.isEnded() {
			kept = append(kept, r)
		}
	}
	clear(recs[len(kept):])
	*pruned = len(kept)
	return kept
}

func (r *taskRec) isEnded() bool { return r.ended.Load() }

// pruneTasksLocked drops the ended task records, keeping them to be used
// again: thousands of short tasks cost a few records, not one each.
func (t *tracker) pruneTasksLocked() {
	kept := t.tasks[:0]
	for _, r := range t.tasks {
		if r.ended.Load() {
			t.free = append(t.free, r)
		} else {
			kept = append(kept, r)
		}
	}
	clear(t.tasks[len(kept):])
	t.tasks = kept
	t.prunedTasks = len(kept)
}
func (t *tracker) isEnded() bool { return t.ended.Load() }

// track makes the tracker of n, if n is to be tracked: asked to by its
// options or the process, or nested in a tracked nursery.
func (n *Nursery) track(ctx context.Context, site uintptr) {
	var parent *tracker
	if trackedNow.active.Load() > 0 {
		parent, _ = ctx.Value(trackerKey{}).(*tracker)
		// A context can outlive its nursery (context.WithoutCancel of a
		// task's, kept by a goroutine of the caller's): the nursery is
		// then nested in the closest one still running, or is a root.
		for parent != nil && parent.ended.Load() {
			parent = parent.parent
		}
	}
	if parent == nil && (n.cfg == nil || !n.cfg.track) && !trackedNow.all.Load() {
		return
	}
	if n.cfg == nil {
		n.cfg = &config{}
	}
	t := &n.cfg.trk // in the config, made with it
	t.started, t.parent, t.site = time.Now(), parent, site
	t.tasks = t.taskBuf[:0]
	t.name = n.cfg.name
	n.cfg.tr = t // the nursery's context answers trackerKey with it
	trackedNow.active.Add(1)
	if parent != nil {
		parent.mu.Lock()
		parent.children = append(prune(parent.children, &parent.prunedChildren), t)
		parent.mu.Unlock()
		return
	}
	trackedNow.mu.Lock()
	trackedNow.roots = append(prune(trackedNow.roots, &trackedNow.pruned), t)
	trackedNow.mu.Unlock()
}

// untrack removes n's tracker from the tree, once every task has returned:
// nothing of a finished nursery is retained.
func (n *Nursery) untrack() {
	t := n.cfg.tr
	t.mu.Lock()
	t.tasks, t.free, t.children = nil, nil, nil // its tasks have returned: nothing holds the nursery through it
	t.mu.Unlock()
	t.ended.Store(true)
	if t.parent == nil {
		trackedNow.mu.Lock()
		if i := slices.Index(trackedNow.roots, t); i >= 0 {
			trackedNow.roots = slices.Delete(trackedNow.roots, i, i+1)
		}
		trackedNow.mu.Unlock()
	}
	trackedNow.active.Add(-1)
}

// taskCtx is the context the tasks and body of n run with: the nursery's,
// holding its tracker if it is tracked.
func (n *Nursery) taskCtx() context.Context { return n.ctx() }

// trackerOf is n's tracker, if n is tracked.
func (n *Nursery) trackerOf() *tracker {
	if n.cfg == nil {
		return nil
	}
	return n.cfg.tr
}

// open records a task of a tracked nursery; fn, the task's own function,
// names it.
func (t *tracker) open(name string, fn any) *taskRec {
	site, now := funcPC(fn), time.Now()
	t.mu.Lock()
	if len(t.tasks) >= 2*max(t.prunedTasks, 8) {
		t.pruneTasksLocked()
	}
	var rec *taskRec
	if k := len(t.free); k > 0 {
		rec, t.free = t.free[k-1], t.free[:k-1]
		rec.ended.Store(false)
	} else {
		rec = &taskRec{}
	}
	rec.name, rec.site, rec.started = name, site, now
	t.tasks = append(t.tasks, rec)
	t.mu.Unlock()
	return rec
}

// close marks the task ended: no lock, as thousands may end at once.
func (rec *taskRec) close() { rec.ended.Store(true) }

// markWaiting records that Run began to wait, if it had not yet.
func (t *tracker) markWaiting(at time.Time) {
	t.mu.Lock()
	if t.waiting.IsZero() {
		t.waiting = at
	}
	t.mu.Unlock()
}

// runTracked is the goroutine of a plain task of a tracked nursery: run,
// with the tracked context, and the task's record closed when it returns.
func (n *Nursery) runTracked(fn func(context.Context) error, rec *taskRec) {
	ctx := n.ctx()
	normal := false
	defer func() {
		if !normal {
			p, goexit := unwound(recover(), origin{})
			n.cancel(n.recordUnwound(p, goexit, origin{}))
		}
		rec.close()
		n.leave()
	}()
	if err := fn(ctx); err != nil && !n.knownEcho(err) {
		n.cancelWith(n.fail(ctx, err, origin{})) // inside the recover: it may call the error's methods
	}
	normal = true
}

// A NurseryInfo describes a tracked nursery that is running, as Tree
// returns it.
type NurseryInfo struct {
	// Name is the nursery's WithName, or "".
	Name string `json:"name,omitempty"`
	// Site is where the body is defined, as file:line: for a function
	// literal passed to Run, the call itself.
	Site string `json:"site"`
	// Started is when Run began.
	Started time.Time `json:"started"`
	// Waiting is when Run began to wait for its tasks (its body returned, or
	// it was cancelled); zero while the body runs and nothing cancelled it.
	Waiting time.Time `json:"waiting,omitzero"`
	// Tasks are the open tasks, oldest first.
	Tasks []TaskInfo `json:"tasks"`
	// Children are the tracked nurseries running inside this one's body or
	// tasks.
	Children []NurseryInfo `json:"children,omitempty"`
}

// A TaskInfo describes an open task of a tracked nursery.
type TaskInfo struct {
	// Name is the task's WithName, or "". It is the pprof label "task" of
	// the task's goroutine, by which goroutine profiles can be filtered.
	Name string `json:"name,omitempty"`
	// Func is the task function's name (for a function literal, the
	// function that wrote it, with a .funcN suffix).
	Func string `json:"func"`
	// Site is where the task function is defined, as file:line: for a
	// function literal passed to Go, Spawn or Start, the call itself.
	Site string `json:"site"`
	// Started is when the task was started (Go was called).
	Started time.Time `json:"started"`
}

// Tree returns the tracked nurseries running now, with their open tasks
// and the tracked nurseries nested in them. It is a snapshot: tasks start
// and end while it is taken.
func Tree() []NurseryInfo {
	trackedNow.mu.Lock()
	roots := slices.Clone(trackedNow.roots)
	trackedNow.mu.Unlock()
	return describeAll(roots)
}

func describeAll(ts []*tracker) []NurseryInfo {
	infos := make([]NurseryInfo, 0, len(ts))
	for _, t := range ts {
		if !t.ended.Load() {
			infos = append(infos, t.describe())
		}
	}
	slices.SortFunc(infos, func(a, b NurseryInfo) int { return a.Started.Compare(b.Started) })
	return infos
}

func (t *tracker) describe() NurseryInfo {
	type open struct {
		name    string
		site    uintptr
		started time.Time
	}
	t.mu.Lock()
	info := NurseryInfo{Name: t.name, Started: t.started, Waiting: t.waiting}
	var tasks []open
	for _, rec := range t.tasks { // under the lock: ended records are used again
		if !rec.ended.Load() {
			tasks = append(tasks, open{rec.name, rec.site, rec.started})
		}
	}
	children := slices.Clone(t.children)
	t.mu.Unlock()
	_, info.Site = funcAt(t.site)
	info.Tasks = make([]TaskInfo, 0, len(tasks))
	for _, rec := range tasks {
		fn, site := funcAt(rec.site)
		info.Tasks = append(info.Tasks, TaskInfo{Name: rec.name, Func: fn, Site: site, Started: rec.started})
	}
	slices.SortFunc(info.Tasks, func(a, b TaskInfo) int { return a.Started.Compare(b.Started) })
	info.Children = describeAll(children)
	return info
}

// funcPC is the entry of f, a func value (reflect.Value.Pointer's result),
// read without making f escape: the body of Run would otherwise be
// allocated on the heap for every Run, tracked or not.
func funcPC(f any) uintptr {
	type eface struct{ typ, data unsafe.Pointer }
	p := (*eface)(unsafe.Pointer(&f)).data
	if p == nil {
		return 0
	}
	return *(*uintptr)(p)
}

// funcAt names the function whose entry is pc, and where it is.
func funcAt(pc uintptr) (name, site string) {
	f := runtime.FuncForPC(pc)
	if f == nil {
		return "?", "?"
	}
	file, line := f.FileLine(f.Entry())
	return f.Name(), fmt.Sprintf("%s:%d", file, line)
}

// WriteTree writes the tracked nurseries running now, as Tree returns them,
// to w as indented text, for a signal handler or a test that fails: each
// nursery with its site and age, each open task with its name, function,
// site and age.
func WriteTree(w io.Writer) error {
	var b strings.Builder
	now := time.Now()
	infos := Tree()
	if len(infos) == 0 {
		b.WriteString("no tracked nursery is running\n")
	}
	for _, info := range infos {
		writeNursery(&b, info, now, "")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeNursery(b *strings.Builder, info NurseryInfo, now time.Time, indent string) {
	fmt.Fprintf(b, "%snursery", indent)
	if info.Name != "" {
		fmt.Fprintf(b, " %q", info.Name)
	}
	fmt.Fprintf(b, " run at %s, for %v", info.Site, now.Sub(info.Started).Round(time.Millisecond))
	if !info.Waiting.IsZero() {
		fmt.Fprintf(b, ", waiting for its tasks for %v", now.Sub(info.Waiting).Round(time.Millisecond))
	}
	fmt.Fprintf(b, ": %d open task", len(info.Tasks))
	if len(info.Tasks) != 1 {
		b.WriteString("s")
	}
	b.WriteString("\n")
	for _, t := range info.Tasks {
		writeTask(b, t, now, indent+"  ")
	}
	for _, c := range info.Children {
		writeNursery(b, c, now, indent+"  ")
	}
}

func writeTask(b *strings.Builder, t TaskInfo, now time.Time, indent string) {
	b.WriteString(indent)
	b.WriteString("task")
	if t.Name != "" {
		fmt.Fprintf(b, " %q (pprof label task=%s)", t.Name, t.Name)
	}
	fmt.Fprintf(b, " %s at %s, for %v\n", t.Func, t.Site, now.Sub(t.Started).Round(time.Millisecond))
}

// TreeHandler returns an http.Handler that serves the tree of tracked
// nurseries: as text (what WriteTree writes), or as JSON (Tree's result)
// with ?format=json or an Accept header asking for application/json. Mount
// it beside net/http/pprof, whose goroutine profile the tasks' names (pprof
// label "task") let you filter:
//
//	mux.Handle("/debug/nurseries", nursery.TreeHandler())
func TreeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			_ = enc.Encode(Tree())
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_ = WriteTree(w)
	})
}
