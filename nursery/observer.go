package nursery

import (
	"context"
	"errors"
	"runtime"
	"runtime/trace"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/structured-go/structured/internal/echo"
)

// An Observer is told when nurseries and their tasks start and end, as
// trio's Instrument is: the hook on which tracers, metrics and timelines
// are built (otelnursery, a module of its own, makes OpenTelemetry spans
// with one). Give one to a Run with WithObserver, or to every Run of the
// process with SetObserver; the nurseries nested in an observed one are
// observed by the same Observer.
//
// The calls for a nursery come in order: NurseryStarted before its body
// runs, TaskStarted and TaskEnded for each task on the task's own goroutine
// (TaskStarted before the task function is called, TaskEnded after it has
// returned, panicked or called runtime.Goexit), and NurseryEnded once
// every task has ended, before Run returns. Calls for different tasks come
// concurrently: an Observer must be safe for concurrent use. An Observer
// must not block, and must not panic: a panic in it is a panic of the task
// or the Run it was called for.
//
// While no Observer is given, a Run pays one atomic load for the chance of
// one, and a task a nil check; the same holds for the tasks of a nursery
// the Observer chose not to watch.
type Observer interface {
	// NurseryStarted is called with the context Run was given; the
	// context it returns is the one the nursery's is made from, which the
	// body and the tasks see (return ctx to add nothing). It also says
	// whether to watch the nursery: if not, NurseryEnded is not called for
	// it and its tasks are not observed, at no cost to them (a tracer
	// under a parent span that is not sampled); the nurseries nested in it
	// are offered to the Observer all the same.
	NurseryStarted(ctx context.Context, n *NurseryEvent) (context.Context, bool)
	// NurseryEnded is called with the context NurseryStarted returned,
	// and what Run returns: its error, or the *PanicError it panics with.
	NurseryEnded(ctx context.Context, n *NurseryEvent, err error)
	// TaskStarted is called with the task's context; the context it
	// returns is the one the task function is called with.
	TaskStarted(ctx context.Context, t *TaskEvent) context.Context
	// TaskEnded is called with the context TaskStarted returned, and how
	// the task ended.
	TaskEnded(ctx context.Context, t *TaskEvent, r TaskResult)
}

// A NurseryEvent describes an observed nursery. The same *NurseryEvent is
// passed to both calls for a nursery, and is each of its tasks' Nursery.
type NurseryEvent struct {
	// Name is the nursery's WithName, or "".
	Name string
	// Parent is the event of the observed nursery this one is nested in
	// (in its body or one of its tasks), or nil.
	Parent *NurseryEvent
	// Limit is the nursery's WithLimit, or 0.
	Limit int
	site  uintptr
}

// Location says where the nursery's body is defined: for a function
// literal passed to Run, where Run is called.
func (e *NurseryEvent) Location() (function, file string, line int) { return location(e.site) }

// A TaskEvent describes an observed task. The same *TaskEvent is passed to
// both calls for a task, and is the Cause of the tasks its failure
// cancelled.
type TaskEvent struct {
	// Name is the task's WithName, or "".
	Name string
	// Nursery is the event of the task's nursery.
	Nursery *NurseryEvent
	// UntilCancelled is set for a task meant to run until cancelled.
	UntilCancelled bool
	fn             uintptr
	ctx            context.Context // what TaskStarted returned
}

// Context is the context the task runs with: the one the Observer's
// TaskStarted returned for it, or nil while TaskStarted has not returned.
// Through TaskResult.Cause, an Observer finds in it what it made for the
// task that caused another's end (its span, to link to).
func (e *TaskEvent) Context() context.Context { return e.ctx }

// Location says where the task function is defined: for a function literal
// passed to Go, Spawn or Start, where it is called.
func (e *TaskEvent) Location() (function, file string, line int) { return location(e.fn) }

// location names the function whose entry is pc, and where it is defined,
// once per function: observers and the trace's regions ask for every task.
// Readers take no lock: the cache is a map that is replaced, never
// changed, when a function is added.
func location(pc uintptr) (function, file string, line int) {
	slot := &locations.recent[(pc>>4)%uintptr(len(locations.recent))]
	if e := slot.Load(); e != nil && e.pc == pc {
		return e.function, e.file, e.line
	}
	l := lookupLocation(pc)
	slot.Store(&locationEntry{pc: pc, funcLocation: l})
	return l.function, l.file, l.line
}

// lookupLocation is location without its table of recent answers.
func lookupLocation(pc uintptr) funcLocation {
	if m := locations.m.Load(); m != nil {
		if l, ok := (*m)[pc]; ok {
			return l
		}
	}
	var l funcLocation
	if f := runtime.FuncForPC(pc); f != nil {
		l.file, l.line = f.FileLine(f.Entry())
		l.function = f.Name()
	}
	locations.mu.Lock()
	old := locations.m.Load()
	m := make(map[uintptr]funcLocation, 1+lenOf(old))
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	m[pc] = l
	locations.m.Store(&m)
	locations.mu.Unlock()
	return l
}

func lenOf(m *map[uintptr]funcLocation) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

type funcLocation struct {
	function, file string
	line           int
}

// locations caches location's answers; mu orders the writers. recent
// holds the latest answer for each of 256 slots a function's entry falls
// in: one load (2 ns) finds a function that tasks start again and again,
// where the map costs a hash and a probe (19 ns).
var locations struct {
	mu     sync.Mutex
	m      atomic.Pointer[map[uintptr]funcLocation]
	recent [256]atomic.Pointer[locationEntry]
}

// A locationEntry is one of locations.recent: where the function whose
// entry is pc is.
type locationEntry struct {
	pc uintptr
	funcLocation
}

// An Outcome says how a task ended.
type Outcome int

const (
	// TaskOK: the task returned nil.
	TaskOK Outcome = iota
	// TaskFailed: the task returned an error of its own.
	TaskFailed
	// TaskPanicked: the task panicked; Err is the *PanicError.
	TaskPanicked
	// TaskCancelled: the task returned only the echo of its context's
	// cancellation (context.Canceled, the cause, or an error wrapping
	// nothing else).
	TaskCancelled
	// TaskLostRace: another function of a Race won, and this one was
	// cancelled.
	TaskLostRace
	// TaskExited: the task called runtime.Goexit.
	TaskExited
)

var outcomeNames = [...]string{"ok", "failed", "panicked", "cancelled", "lost race", "exited"}

// String names the outcome: "ok", "failed", "panicked", "cancelled",
// "lost race", "exited".
func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return "Outcome(" + itoa(int(o)) + ")"
	}
	return outcomeNames[o]
}

// A TaskResult says how a task ended.
type TaskResult struct {
	Outcome Outcome
	// Err is what the task returned, the *PanicError of its panic, or the
	// error that stands for its runtime.Goexit (wrapping ErrGoexit).
	Err error
	// Cause is, for a task cancelled because another task of its nursery
	// failed or panicked, that task's event; for a function that lost a
	// Race, the winner's; nil if the nursery was cancelled otherwise
	// (Cancel, its parent).
	Cause *TaskEvent
}

// WithObserver makes o observe the nursery and the nurseries nested in it.
// It panics if o is nil.
func WithObserver(o Observer) Option {
	if o == nil {
		panic("nursery: WithObserver(nil): an Observer is needed")
	}
	return optionFunc(func(c *config) { c.observer = o })
}

// SetObserver makes o observe every Run that starts from now on (nil: none),
// as WithObserver does for one. Nurseries already running are not
// affected. A Run given WithObserver is observed by its own Observer only.
func SetObserver(o Observer) {
	observedNow.mu.Lock()
	defer observedNow.mu.Unlock()
	old := observedNow.global.Load()
	if o == nil {
		observedNow.global.Store(nil)
	} else {
		observedNow.global.Store(&o)
	}
	switch {
	case old == nil && o != nil:
		observedNow.active.Add(1)
	case old != nil && o == nil:
		observedNow.active.Add(-1)
	}
}

// observedNow is the process's observing state: the observer of every Run,
// and how many reasons there are for a Run to look for one (the global
// observer, and the observed nurseries running, whose nested ones are
// observed too).
var observedNow struct {
	mu     sync.Mutex
	global atomic.Pointer[Observer]
	active atomic.Int64
}

// observerKey is the context key under which an observed nursery's context
// holds its observation, for the nurseries nested in it.
type observerKey struct{}

// An observation is what an observed nursery keeps of its observers.
type observation struct {
	obs      Observer        // nil if only traced
	watching bool            // obs watches this nursery and its tasks
	ctx      context.Context // what NurseryStarted returned
	ev       NurseryEvent
	traced   *trace.Task               // the nursery's trace task, if tracing was on when it started
	cause    atomic.Pointer[TaskEvent] // the task whose failure or Race win cancelled the nursery (cancelBy)
	logged   atomic.Bool               // the cancellation was logged to the trace
}

// A taskObservation is what an observed task keeps.
type taskObservation struct {
	o   *observation
	ev  TaskEvent
	ctx context.Context
}

// observe makes the observation of n, if n is to be observed: given an
// Observer, nested in an observed nursery, with SetObserver, or traced. It
// returns the context to make the nursery's from.
func (n *Nursery) observe(ctx context.Context, body any) context.Context {
	var obs Observer
	var parent *observation
	if n.cfg != nil && n.cfg.observer != nil {
		obs = n.cfg.observer
	}
	if observedNow.active.Load() != 0 {
		parent, _ = ctx.Value(observerKey{}).(*observation)
		if obs == nil && parent != nil {
			obs = parent.obs
		}
		if obs == nil {
			if g := observedNow.global.Load(); g != nil {
				obs = *g
			}
		}
	}
	traced := trace.IsEnabled()
	if obs == nil && !traced {
		return ctx
	}
	if n.cfg == nil {
		n.cfg = newConfig(mayTrack())
	}
	o := &observation{obs: obs}
	o.ev.Name, o.ev.site = n.cfg.name, funcPC(body)
	if parent != nil {
		o.ev.Parent = &parent.ev
	}
	if n.cfg.slots != nil {
		o.ev.Limit = cap(n.cfg.slots)
	}
	if traced {
		ctx, o.traced = trace.NewTask(ctx, "nursery")
		fn, file, line := o.ev.Location()
		trace.Log(ctx, "nursery", quote(o.ev.Name)+" "+fn+" at "+file+":"+itoa(line))
	}
	if obs != nil {
		ctx, o.watching = obs.NurseryStarted(ctx, &o.ev)
		observedNow.active.Add(1) // the nested nurseries look for it
	}
	o.ctx = ctx
	n.cfg.obs = o
	return ctx
}

// observed is Run's result, once every task has returned, told to the
// observers of an observed nursery: its error, or its panic.
func (n *Nursery) observed(result func() error) (err error) {
	o := n.cfg.obs
	normal := false
	defer func() {
		if !normal {
			r := recover()
			pe, _ := r.(*PanicError)
			o.end(n, pe)
			panic(r)
		}
	}()
	err = result()
	normal = true
	o.end(n, err)
	return err
}

// end tells the observers that the nursery ended with err.
func (o *observation) end(n *Nursery, err error) {
	if o.traced != nil {
		if err != nil {
			trace.Log(o.ctx, "nursery.result", safeError(err))
		}
		o.traced.End()
	}
	if o.obs != nil {
		if o.watching {
			o.obs.NurseryEnded(o.ctx, &o.ev, err)
		}
		observedNow.active.Add(-1)
	}
}

// observeTask prepares the observation of s, a task of an observed
// nursery, and returns the context to call it with.
func (n *Nursery) observeTask(s *spec) context.Context {
	o := n.cfg.obs
	t := s.obs // made with s by goObserved
	if t == nil {
		t = &taskObservation{}
	}
	t.o, t.ctx = o, s.ctx
	t.ev.Name, t.ev.Nursery, t.ev.fn = s.name, &o.ev, funcPC(s.user)
	t.ev.UntilCancelled = s.untilCancelled || n.cfg.untilCancelled
	if t.ev.fn == 0 {
		t.ev.fn = funcPC(s.fn)
	}
	s.obs = t
	if o.watching {
		t.ctx = o.obs.TaskStarted(s.ctx, &t.ev)
	}
	t.ev.ctx = t.ctx // before the task runs, so before it can cause anything
	return t.ctx
}

// call calls the task function, in a region of the trace if the nursery is
// traced: of the task's name, or its function's.
func (t *taskObservation) call(ctx context.Context, fn func(context.Context) error) (err error) {
	if t.o.traced == nil {
		return fn(ctx)
	}
	trace.WithRegion(ctx, t.regionType(), func() { err = fn(ctx) })
	return err
}

func (t *taskObservation) regionType() string {
	if t.ev.Name != "" {
		return t.ev.Name
	}
	return funcName(t.ev.fn)
}

func funcName(pc uintptr) string {
	name, _, _ := location(pc)
	return name
}

// ended tells the observers how the task ended: err returned, or panicked
// with p, or called runtime.Goexit (goexit); n is its nursery.
func (t *taskObservation) ended(n *Nursery, err error, p *PanicError, goexit error) {
	r := t.result(n, err, p, goexit)
	if t.o.watching {
		t.o.obs.TaskEnded(t.ctx, &t.ev, r)
	}
}

// result is how the task ended, for the observers; it logs it to the
// nursery's trace task if it is not ok.
func (t *taskObservation) result(n *Nursery, err error, p *PanicError, goexit error) TaskResult {
	r := TaskResult{Err: err}
	switch {
	case p != nil:
		r.Outcome, r.Err = TaskPanicked, p
	case goexit != nil:
		r.Outcome, r.Err = TaskExited, goexit
	case err == nil:
		r.Outcome = TaskOK
	case errors.Is(n.causeNow(), errLost) && echo.Of(t.ctx, err):
		r.Outcome = TaskLostRace
		if c := t.o.cause.Load(); c != &t.ev {
			r.Cause = c // the winner
		}
	case echo.Of(t.ctx, err):
		r.Outcome = TaskCancelled
		if c := t.o.cause.Load(); c != &t.ev {
			r.Cause = c
		}
	default:
		r.Outcome = TaskFailed
	}
	if t.o.traced != nil && r.Outcome != TaskOK {
		trace.Log(t.ctx, "nursery.task."+r.Outcome.String(), quote(t.ev.Name)+": "+safeError(r.Err))
	}
	return r
}

// causeNow is the cause of the nursery's cancellation, or nil.
func (n *Nursery) causeNow() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cause
}

// traceCancel logs the nursery's cancellation to its trace task, once.
func (n *Nursery) traceCancel(cause error) {
	o := n.cfg.obs
	if o.traced == nil || o.logged.Swap(true) {
		return
	}
	msg := "context canceled"
	if cause != nil {
		msg = safeError(cause) // a task's own error: its Error may panic
	}
	trace.Log(o.ctx, "nursery.cancel", msg)
}

func quote(s string) string {
	if s == "" {
		return "nursery"
	}
	return strconv.Quote(s)
}

func itoa(i int) string { return strconv.Itoa(i) }

// observesTasks reports whether the tasks of n are observed: watched by an
// Observer, or traced.
func (n *Nursery) observesTasks() bool {
	o := n.cfg.obs
	return o != nil && (o.watching || o.traced != nil)
}

// goObserved is Go for an observed nursery. A task that needs neither a
// slot nor a record in the tree takes a path of its own (observedTask);
// the others take the general one, where they are observed too.
func (n *Nursery) goObserved(fn func(ctx context.Context) error) {
	if n.cfg.tr == nil && !n.cfg.limited() {
		t := &observedTask{fn: fn}
		go n.runObserved(t)
		return
	}
	st := &struct { // one allocation for both
		spec
		obs taskObservation
	}{}
	s := &st.spec
	s.ctx, s.fn, s.user = n.taskCtx(), fn, fn
	if n.observesTasks() {
		s.obs = &st.obs
	}
	n.launch(s)
}

// An observedTask is a task started by Go, without options, in an observed
// nursery that has no limit and is not tracked: its function and its
// observation, in half the room of a spec and its observation.
type observedTask struct {
	fn  func(context.Context) error
	obs taskObservation
}

// runObserved is the goroutine of an observedTask: runSpec for a spec
// with nothing but a function and an observation. The Observer's calls are
// made from this frame, not from helpers: what they do runs on the task's
// fresh goroutine, whose stack grows (and is copied) for every call deeper
// than it has room for.
func (n *Nursery) runObserved(t *observedTask) {
	const (
		running = iota // a panic or Goexit is the task's (or TaskStarted's)
		ending         // the outcome is recorded; one now is TaskEnded's
		ended
	)
	state := running
	var cause error
	defer func() {
		switch state {
		case running:
			n.endUnwound(&t.obs, recover())
			return // endUnwound counted the task out
		case ending: // as endObservation does
			p, goexit := unwound(recover(), origin{})
			n.cancel(n.recordUnwound(p, goexit, origin{}))
			if cause != nil && goexit == nil {
				n.cancelBy(cause, &t.obs)
			}
		}
		n.leave()
	}()
	ctx := n.taskCtx()
	o := n.cfg.obs
	ob := &t.obs
	ob.o, ob.ctx = o, ctx
	ob.ev.Nursery, ob.ev.fn, ob.ev.UntilCancelled = &o.ev, funcPC(t.fn), n.cfg.untilCancelled
	if o.watching {
		ob.ctx = o.obs.TaskStarted(ctx, &ob.ev)
	}
	ob.ev.ctx = ob.ctx // before the task runs, so before it can cause anything
	var err error
	if o.traced == nil {
		err = t.fn(ob.ctx)
	} else {
		err = ob.call(ob.ctx, t.fn)
	}
	if err != nil {
		cause = n.fail(ctx, err, origin{}) // inside the recover: it may call the error's methods
	}
	state = ending // result may call the error's methods: as in endObservation
	r := ob.result(n, err, nil, nil)
	if o.watching {
		o.obs.TaskEnded(ob.ctx, &ob.ev, r)
	}
	state = ended
	if cause != nil {
		n.cancelBy(cause, ob)
	}
}

// endUnwound ends a plain observed task that panicked with r, or called
// runtime.Goexit (r is nil), or whose TaskStarted did: it records how,
// tells the Observer, and counts the task out, by a defer of its own, so
// that a Goexit of TaskEnded's cannot skip it (runSpec keeps the count in
// a defer apart for the same reason). Out of runObserved's frame, which
// stays small for the Observer's calls on the way that is taken.
func (n *Nursery) endUnwound(t *taskObservation, r any) {
	defer n.leave()
	p, goexit := unwound(r, origin{})
	n.cancelBy(n.recordUnwound(p, goexit, origin{}), t)
	n.endObservation(t, origin{}, nil, p, goexit)
}

// invoke calls the task function with ctx: observed, if it is.
func (s *spec) invoke(ctx context.Context) error {
	if s.obs != nil {
		return s.obs.call(ctx, s.fn)
	}
	return s.fn(ctx)
}

// observeEnd tells the observers of an observed task how it ended. A panic
// (or Goexit) of theirs is a panic of the task, as the Observer's doc says:
// recorded, it cancels the nursery, and Run re-raises it; it is not the
// task's outcome a second time.
func (n *Nursery) observeEnd(s *spec, err error, p *PanicError, goexit error) {
	if s.obs == nil {
		return
	}
	normal := false
	defer func() {
		if !normal {
			o := s.origin()
			op, ogoexit := unwound(recover(), o)
			n.cancel(n.recordUnwound(op, ogoexit, o))
		}
	}()
	s.obs.ended(n, err, p, goexit) // not through endObservation: one frame less under TaskEnded
	normal = true
}

// endObservation is observeEnd for the task observed by t, whose origin is
// o.
func (n *Nursery) endObservation(t *taskObservation, o origin, err error, p *PanicError, goexit error) {
	normal := false
	defer func() {
		if !normal {
			op, ogoexit := unwound(recover(), o)
			n.cancel(n.recordUnwound(op, ogoexit, o))
		}
	}()
	t.ended(n, err, p, goexit)
	normal = true
}

// endObserved tells the observers of an observed nursery that it ended
// with err (a *PanicError if Run panics).
func (n *Nursery) endObserved(err error) {
	if n.cfg != nil && n.cfg.obs != nil {
		n.cfg.obs.end(n, err)
	}
}

// noteCancel records the nursery's cancellation with cause in the tree and
// the trace, unless it is the end of Run.
func (n *Nursery) noteCancel(cause error) {
	if n.live.Load()&closedBit != 0 {
		return // Run ends its context as it returns: not a cancellation
	}
	if n.cfg.tr != nil {
		n.cfg.tr.markCancelled(cause)
	}
	if n.cfg.obs != nil {
		n.traceCancel(cause)
	}
}

// runTraced is the goroutine of a plain task of a traced nursery that no
// Observer watches: the task runs in a region of its function's name, and
// its failure, echo or panic is a log on the nursery's trace task. It
// costs no allocation more than a plain task. rec is its record in the
// tree, if the nursery is tracked.
func (n *Nursery) runTraced(fn func(context.Context) error, rec *taskRec) {
	ctx := n.ctx()
	normal := false
	defer func() {
		if !normal {
			p, goexit := unwound(recover(), origin{})
			cause := n.recordUnwound(p, goexit, origin{})
			outcome := TaskPanicked
			if goexit != nil {
				outcome = TaskExited
			}
			n.cfg.obs.traceEnd(ctx, "", fn, cause, outcome)
			n.cancel(cause)
		}
		if rec != nil {
			rec.close()
		}
		n.leave()
	}()
	var err error
	trace.WithRegion(ctx, funcName(funcPC(fn)), func() { err = fn(ctx) })
	if err != nil && !n.knownEcho(err) {
		outcome := TaskFailed
		if echo.Of(ctx, err) {
			outcome = TaskCancelled
		}
		n.cfg.obs.traceEnd(ctx, "", fn, err, outcome)
		n.cancelWith(n.fail(ctx, err, origin{})) // inside the recover: it may call the error's methods
	}
	normal = true
}

// traceEnd logs how a task that did not return nil ended to the nursery's
// trace task.
func (o *observation) traceEnd(ctx context.Context, name string, fn any, err error, outcome Outcome) {
	who := name
	if who == "" {
		who = funcName(funcPC(fn))
	}
	trace.Log(ctx, "nursery.task."+outcome.String(), quote(who)+": "+safeError(err))
}
