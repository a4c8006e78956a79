package nursery

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
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
	ids    atomic.Uint64
	mu     sync.Mutex
	roots  trackerList
}

// SetTracking turns tracking on or off for every Run that starts from now
// on, as WithTracking does for one. Nurseries already running are not
// affected.
func SetTracking(on bool) { trackedNow.all.Store(on) }

// WithTracking tracks the nursery and the nurseries nested in it (in its
// body or its tasks): they appear in Tree, WriteTree and TreeHandler while
// they run, with their open tasks. It costs each task a record of its name
// and function, made without a lock.
func WithTracking() Option { return trackingOption{} }

// trackingOption is WithTracking's, a type of its own so that Run sees it
// before it makes the config, and makes it with room for the tracker
// (WithStuckReport, which tracks too, gets a tracker of its own).
type trackingOption struct{}

func (trackingOption) applyToRun(c *config) { c.track = true }

// trackerKey is the context key under which a tracked nursery's context
// holds its tracker, for the nurseries nested in it.
type trackerKey struct{}

// A tracker is the record of one tracked nursery. It holds nothing of the
// Nursery itself: a Run stuck waiting for its tasks stays unreachable to
// the garbage collector's leak detection (Go's goroutineleak profile),
// tracked or not.
type tracker struct {
	id             uint64
	name           string
	site           uintptr // the body's entry: where Run was called, for a function literal
	started        time.Time
	parent         *tracker
	untilCancelled bool        // UntilCancelled: the body's return does not start a wait
	ended          atomic.Bool // Run has returned

	// The times below are offsets from started (read with time.Since, one
	// read of the monotonic clock), plus one: zero means not yet.
	stamp     atomic.Int64 // the last time the nursery read the clock
	returned  atomic.Int64 // the body returned
	cancelled atomic.Int64 // the nursery was seen cancelled
	cause     atomic.Pointer[string]

	// The task records live in chunks that are filled without a lock and
	// never reused: a task costs its record a slot, and a chunk is
	// allocated every chunkSize tasks, whatever the scheduling. mu guards
	// chunks (those that may hold open records) and kids.
	cur       atomic.Pointer[recChunk]
	mu        sync.Mutex
	chunks    []*recChunk
	chunkBuf  [2]*recChunk
	first     recChunk
	firstRecs [3]taskRec // 3: the trackedConfig that holds the tracker stays within 512 bytes, the largest size the allocator types without a header
	kids      trackerList

	prev, next *tracker // in the parent's kids, or the roots
}

// chunkSize is the number of records in the chunks after the first.
const chunkSize = 64

// stampEvery is how often, in tasks started, a nursery reads the clock for
// its tasks' start times.
const stampEvery = 32

// newChunk makes a chunk of chunkSize records, in one allocation.
func newChunk() *recChunk {
	c := &struct {
		recChunk
		recs [chunkSize]taskRec
	}{}
	c.recChunk.recs = c.recs[:]
	return &c.recChunk
}

// A recChunk holds task records.
type recChunk struct {
	next  atomic.Int32 // slots handed out
	ended atomic.Int32 // records ended
	recs  []taskRec
}

// A taskRec is the record of one task of a tracked nursery. Its fields are
// written before state is set to recOpen, and never again.
type taskRec struct {
	state          atomic.Uint32
	untilCancelled bool
	name           string
	site           uintptr // the task function's entry
	started        int64   // the tracker's stamp when the task started
	chunk          *recChunk
}

const (
	recOpen  = 1
	recEnded = 2
)

// A trackerList is a list of trackers, linked through them.
type trackerList struct{ head *tracker }

func (l *trackerList) push(t *tracker) {
	t.prev, t.next = nil, l.head
	if l.head != nil {
		l.head.prev = t
	}
	l.head = t
}

func (l *trackerList) remove(t *tracker) {
	switch {
	case t.prev != nil:
		t.prev.next = t.next
	case l.head == t:
		l.head = t.next
	default:
		return // not in l
	}
	if t.next != nil {
		t.next.prev = t.prev
	}
	t.prev, t.next = nil, nil
}

func (l *trackerList) all() []*tracker {
	var ts []*tracker
	for t := l.head; t != nil; t = t.next {
		ts = append(ts, t)
	}
	return ts
}

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
		n.cfg = newConfig(true)
	}
	// The tracker lives in the config, made with it, unless the config had
	// no room (tracking began after it was made: WithStuckReport, Race's)
	// or the nursery is observed or traced: the tree must not keep its
	// observation, which holds its contexts, reachable (a Run stuck
	// waiting would vanish from Go's goroutineleak profile).
	t := n.cfg.trkRoom
	if t == nil || n.cfg.obs != nil {
		t = &tracker{}
	}
	t.id = trackedNow.ids.Add(1)
	t.started, t.parent, t.site = time.Now(), parent, site
	t.stamp.Store(1)
	t.name, t.untilCancelled = n.cfg.name, n.cfg.untilCancelled
	t.first.recs = t.firstRecs[:]
	t.chunkBuf[0] = &t.first
	t.chunks = t.chunkBuf[:1]
	t.cur.Store(&t.first)
	n.cfg.tr = t // the nursery's context answers trackerKey with it
	trackedNow.active.Add(1)
	if parent != nil {
		parent.mu.Lock()
		parent.kids.push(t)
		parent.mu.Unlock()
		return
	}
	trackedNow.mu.Lock()
	trackedNow.roots.push(t)
	trackedNow.mu.Unlock()
}

// untrack removes n's tracker from the tree, once every task has returned:
// nothing of a finished nursery is retained.
func (n *Nursery) untrack() {
	t := n.cfg.tr
	t.mu.Lock()
	t.chunks, t.kids = nil, trackerList{} // its tasks have returned
	t.ended.Store(true)
	t.mu.Unlock()
	if p := t.parent; p != nil {
		p.mu.Lock()
		p.kids.remove(t)
		p.mu.Unlock()
	} else {
		trackedNow.mu.Lock()
		trackedNow.roots.remove(t)
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

// now reads the clock, as an offset from the tracker's start, and keeps it
// as the stamp of the tasks that start next.
func (t *tracker) now() int64 {
	d := int64(time.Since(t.started)) + 1
	t.stamp.Store(d)
	return d
}

// open records a task of a tracked nursery; fn, the task's own function,
// names it. It takes no lock but every chunkSize tasks, and reads the clock
// every stampEvery tasks after the first chunk's.
func (t *tracker) open(name string, fn any, untilCancelled bool) *taskRec {
	site := funcPC(fn)
	for {
		c := t.cur.Load()
		i := c.next.Add(1) - 1
		if int(i) >= len(c.recs) {
			t.grow(c)
			continue
		}
		rec := &c.recs[i]
		rec.name, rec.site, rec.untilCancelled, rec.chunk = name, site, untilCancelled || t.untilCancelled, c
		if i%stampEvery == 0 && c != &t.first {
			rec.started = t.now() // the first chunk's records share the nursery's start
		} else {
			rec.started = t.stamp.Load()
		}
		rec.state.Store(recOpen)
		return rec
	}
}

// grow replaces the full chunk c by a new one, unless another open has,
// and drops the chunks whose records have all ended.
func (t *tracker) grow(c *recChunk) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur.Load() != c {
		return
	}
	kept := t.chunks[:0]
	for _, k := range t.chunks {
		if int(k.ended.Load()) < len(k.recs) {
			kept = append(kept, k)
		}
	}
	clear(t.chunks[len(kept):])
	nc := newChunk()
	t.chunks = append(kept, nc)
	t.cur.Store(nc)
}

// close marks the task ended: no lock, as thousands may end at once.
func (rec *taskRec) close() {
	rec.state.Store(recEnded)
	rec.chunk.ended.Add(1)
}

// markReturned records that the body returned.
func (t *tracker) markReturned() { t.returned.Store(t.now()) }

// markCancelled records that the nursery was cancelled with cause, if it
// was not recorded yet.
func (t *tracker) markCancelled(cause error) {
	if t.cancelled.Load() != 0 {
		return
	}
	d := t.now()
	if t.cancelled.CompareAndSwap(0, d) && cause != nil {
		msg := safeError(cause) // a task's own error: its Error may panic
		t.cause.Store(&msg)
	}
}

// at is the time of an offset kept by the tracker; zero for none.
func (t *tracker) at(d int64) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return t.started.Add(time.Duration(d - 1))
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
	// ID tells the nursery apart from the others of the process while it
	// runs: it is never given to another.
	ID uint64 `json:"id"`
	// Name is the nursery's WithName, or "".
	Name string `json:"name,omitempty"`
	// Site is where the body is defined, as file:line: for a function
	// literal passed to Run, the call itself.
	Site string `json:"site"`
	// Started is when Run began.
	Started time.Time `json:"started"`
	// Returned is when the body returned; zero while it runs.
	Returned time.Time `json:"returned,omitzero"`
	// Cancelled is when the nursery was cancelled (by Cancel, a failure,
	// or, for a nursery nested in a tracked one or with a stuck report,
	// its parent), and Cause says why; zero while it is not.
	Cancelled time.Time `json:"cancelled,omitzero"`
	Cause     string    `json:"cause,omitempty"`
	// Waiting is when Run began to wait for tasks it does not expect to
	// run on: the earlier of Returned and Cancelled, or, for a nursery run
	// UntilCancelled, Cancelled; zero while it is not waiting.
	Waiting time.Time `json:"waiting,omitzero"`
	// UntilCancelled is set for a nursery run with UntilCancelled.
	UntilCancelled bool `json:"untilCancelled,omitempty"`
	// OpenTasks is the number of open tasks; Tasks lists them, oldest
	// first, or the part of them asked for (TreeHandler's ?limit=).
	OpenTasks int        `json:"openTasks"`
	Tasks     []TaskInfo `json:"tasks"`
	// Children are the tracked nurseries running inside this one's body or
	// tasks.
	Children []NurseryInfo `json:"children,omitempty"`
}

// WaitedFor is how long, as of now, the nursery's Run has waited for its
// task t: since the body returned or the nursery was cancelled, whichever
// came first, or, for a task meant to run until cancelled, since the
// cancellation; zero while the Run does not wait for it. It is the wait
// that the stuck report, the page's stuck marks and nurseries -stuck judge.
func (n NurseryInfo) WaitedFor(t TaskInfo, now time.Time) time.Duration {
	since := n.Waiting
	if t.UntilCancelled {
		since = n.Cancelled
	}
	if since.IsZero() {
		return 0
	}
	return now.Sub(since)
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
	// Started is when the task was started (Go was called), to within the
	// time since its nursery last read the clock: to spare each task a read
	// of the clock, a tracked nursery reads it when it starts, when its
	// body returns, once every 32 tasks it starts after its first three,
	// and whenever the tree is read, and stamps the tasks in between with
	// the last reading. A task never started earlier than its Started
	// says: its age in the tree may be longer than its true age, by the
	// time since that reading, never shorter.
	Started time.Time `json:"started"`
	// UntilCancelled is set for a task started with UntilCancelled.
	UntilCancelled bool `json:"untilCancelled,omitempty"`
	// Count is the number of identical open tasks (the same name, function
	// and site) that this one stands for in a folded list, such as the
	// stuck report's; zero in Tree.
	Count int `json:"count,omitempty"`
	// Stack is where the task's goroutine is, with TreeHandler's
	// ?stacks=1: the goroutine profile's entry for it, if one could be
	// matched to the task.
	Stack string `json:"stack,omitempty"`
}

// Tree returns the tracked nurseries running now, with their open tasks
// and the tracked nurseries nested in them. It is a snapshot: tasks start
// and end while it is taken.
func Tree() []NurseryInfo {
	trackedNow.mu.Lock()
	roots := trackedNow.roots.all()
	trackedNow.mu.Unlock()
	return describeAll(roots, newFuncCache())
}

// A funcCache names task functions once per snapshot.
type funcCache map[uintptr][2]string

func newFuncCache() funcCache { return funcCache{} }

func (c funcCache) at(pc uintptr) (name, site string) {
	if v, ok := c[pc]; ok {
		return v[0], v[1]
	}
	name, site = funcAt(pc)
	c[pc] = [2]string{name, site}
	return name, site
}

func describeAll(ts []*tracker, fc funcCache) []NurseryInfo {
	infos := make([]NurseryInfo, 0, len(ts))
	for _, t := range ts {
		if !t.ended.Load() {
			infos = append(infos, t.describe(fc))
		}
	}
	slices.SortStableFunc(infos, func(a, b NurseryInfo) int { return a.Started.Compare(b.Started) })
	return infos
}

// describe is the snapshot of t.
func (t *tracker) describe(fc funcCache) NurseryInfo {
	t.now() // tasks started from now on are stamped at least this late
	t.mu.Lock()
	chunks := slices.Clone(t.chunks)
	kids := t.kids.all()
	t.mu.Unlock()
	info := NurseryInfo{
		ID: t.id, Name: t.name, Started: t.started, UntilCancelled: t.untilCancelled,
		Returned: t.at(t.returned.Load()), Cancelled: t.at(t.cancelled.Load()),
	}
	if c := t.cause.Load(); c != nil {
		info.Cause = *c
	}
	info.Waiting = info.Cancelled
	if !t.untilCancelled && !info.Returned.IsZero() && (info.Waiting.IsZero() || info.Returned.Before(info.Waiting)) {
		info.Waiting = info.Returned
	}
	_, info.Site = fc.at(t.site)
	for _, c := range chunks {
		k := min(int(c.next.Load()), len(c.recs))
		for i := range k {
			rec := &c.recs[i]
			if rec.state.Load() != recOpen {
				continue
			}
			fn, site := fc.at(rec.site)
			info.Tasks = append(info.Tasks, TaskInfo{Name: rec.name, Func: fn, Site: site, Started: t.at(rec.started), UntilCancelled: rec.untilCancelled})
		}
	}
	if info.Tasks == nil {
		info.Tasks = []TaskInfo{}
	}
	slices.SortStableFunc(info.Tasks, func(a, b TaskInfo) int { return a.Started.Compare(b.Started) })
	info.OpenTasks = len(info.Tasks)
	info.Children = describeAll(kids, fc)
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
	return f.Name(), file + ":" + strconv.Itoa(line)
}

// FoldTasks folds identical tasks (the same name, function and site) into
// one entry each, the oldest of them, with their number as Count, in the
// order of their oldest: the folded lists of the stuck report, the page and
// the text of TreeHandler, and the command nurseries.
func FoldTasks(tasks []TaskInfo) []TaskInfo {
	type key struct{ name, fn, site string }
	index := make(map[key]int, 8)
	var out []TaskInfo
	for _, t := range tasks {
		k := key{t.Name, t.Func, t.Site}
		if i, ok := index[k]; ok {
			out[i].Count++
			continue
		}
		index[k] = len(out)
		t.Count = 1
		out = append(out, t)
	}
	return out
}

// WriteTree writes the tracked nurseries running now, as Tree returns them,
// to w as indented text, for a signal handler or a test that fails: each
// nursery with its site and age, each open task with its name, function,
// site and age; identical tasks of a nursery (the same name, function and
// site) on one line, with their number (×N). Names, and the causes of
// cancellations, are quoted as Go strings, so that none can forge a line.
func WriteTree(w io.Writer) error {
	return writeTreeText(w, Tree(), time.Now(), pageOf(0, 0))
}

// A page says which part of each nursery's (folded) tasks to show.
type page struct{ offset, limit int }

func pageOf(offset, limit int) page {
	if limit <= 0 {
		limit = int(^uint(0) >> 1)
	}
	return page{max(offset, 0), limit}
}

// cut returns the part of xs that p asks for, and how many come after it.
func cut[T any](xs []T, p page) ([]T, int) {
	lo := min(p.offset, len(xs))
	hi := lo + min(p.limit, len(xs)-lo)
	return xs[lo:hi], len(xs) - hi
}

func writeTreeText(w io.Writer, infos []NurseryInfo, now time.Time, p page) error {
	var b strings.Builder
	if len(infos) == 0 {
		b.WriteString("no tracked nursery is running\n")
	}
	for _, info := range infos {
		writeNursery(&b, info, now, "", p)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// age is how long ago t was, as the tree prints it.
func age(now, t time.Time) time.Duration { return now.Sub(t).Round(time.Millisecond) }

func writeNursery(b *strings.Builder, info NurseryInfo, now time.Time, indent string, p page) {
	fmt.Fprintf(b, "%snursery", indent)
	if info.Name != "" {
		fmt.Fprintf(b, " %q", info.Name)
	}
	fmt.Fprintf(b, " #%d run at %s, for %v", info.ID, info.Site, age(now, info.Started))
	if info.UntilCancelled {
		b.WriteString(", until cancelled")
	}
	if !info.Returned.IsZero() {
		fmt.Fprintf(b, ", body returned %v ago", age(now, info.Returned))
	}
	if !info.Cancelled.IsZero() {
		fmt.Fprintf(b, ", cancelled %v ago", age(now, info.Cancelled))
		if info.Cause != "" {
			fmt.Fprintf(b, " (%q)", info.Cause)
		}
	}
	if !info.Waiting.IsZero() {
		fmt.Fprintf(b, ", waiting for its tasks for %v", age(now, info.Waiting))
	}
	fmt.Fprintf(b, ": %d open task", info.OpenTasks)
	if info.OpenTasks != 1 {
		b.WriteString("s")
	}
	b.WriteString("\n")
	groups, more := cut(FoldTasks(info.Tasks), p)
	for _, t := range groups {
		writeTask(b, t, now, indent+"  ")
	}
	if more > 0 || p.offset > 0 {
		fmt.Fprintf(b, "%s  (%d more kinds of task after these; %d before)\n", indent, more, min(p.offset, len(info.Tasks)))
	}
	for _, c := range info.Children {
		writeNursery(b, c, now, indent+"  ", p)
	}
}

func writeTask(b *strings.Builder, t TaskInfo, now time.Time, indent string) {
	b.WriteString(indent)
	if t.Count > 1 {
		fmt.Fprintf(b, "%d× ", t.Count)
	}
	b.WriteString("task")
	if t.Name != "" {
		fmt.Fprintf(b, " %q", t.Name)
	}
	fmt.Fprintf(b, " %s at %s, for %v", t.Func, t.Site, age(now, t.Started))
	if t.Count > 1 {
		b.WriteString(" (the oldest)")
	}
	if t.UntilCancelled {
		b.WriteString(", until cancelled")
	}
	b.WriteString("\n")
	if t.Stack != "" {
		for _, l := range strings.Split(strings.TrimRight(t.Stack, "\n"), "\n") {
			fmt.Fprintf(b, "%s    %s\n", indent, strings.TrimSpace(l))
		}
	}
}
