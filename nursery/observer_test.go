//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/structured-go/structured/nursery"
)

// recorder is an Observer that records what it is told, one line per
// call, and checks the order of the calls of each nursery.
type recorder struct {
	mu      sync.Mutex
	lines   []string
	open    map[*nursery.NurseryEvent]int // tasks started and not ended
	ended   map[*nursery.NurseryEvent]bool
	results map[string]nursery.TaskResult
	events  map[string]*nursery.TaskEvent
	t       *testing.T
}

type recorderKey struct{}

func newRecorder(t *testing.T) *recorder {
	return &recorder{t: t, open: map[*nursery.NurseryEvent]int{}, ended: map[*nursery.NurseryEvent]bool{},
		results: map[string]nursery.TaskResult{}, events: map[string]*nursery.TaskEvent{}}
}

func (r *recorder) NurseryStarted(ctx context.Context, n *nursery.NurseryEvent) (context.Context, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	parent := ""
	if n.Parent != nil {
		parent = " in " + n.Parent.Name
	}
	r.lines = append(r.lines, "start "+n.Name+parent)
	return context.WithValue(ctx, recorderKey{}, "nursery "+n.Name), !strings.HasPrefix(n.Name, "unwatched")
}

func (r *recorder) NurseryEnded(ctx context.Context, n *nursery.NurseryEvent, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open[n] != 0 {
		r.t.Errorf("nursery %q ended with %d tasks not ended", n.Name, r.open[n])
	}
	if ctx.Value(recorderKey{}) != "nursery "+n.Name {
		r.t.Errorf("nursery %q ended with a context NurseryStarted did not return", n.Name)
	}
	r.ended[n] = true
	r.lines = append(r.lines, fmt.Sprintf("end %s: %v", n.Name, err))
}

func (r *recorder) TaskStarted(ctx context.Context, t *nursery.TaskEvent) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended[t.Nursery] {
		r.t.Errorf("task %q started after its nursery ended", t.Name)
	}
	r.open[t.Nursery]++
	r.events[t.Name] = t
	return context.WithValue(ctx, recorderKey{}, "task "+t.Name)
}

func (r *recorder) TaskEnded(ctx context.Context, t *nursery.TaskEvent, res nursery.TaskResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.open[t.Nursery]--
	if ctx.Value(recorderKey{}) != "task "+t.Name {
		r.t.Errorf("task %q ended with a context TaskStarted did not return", t.Name)
	}
	r.results[t.Name] = res
}

var errBroke = errors.New("broke")

// An observer sees each nursery start and end, nested ones too, and each
// task end with its outcome: ok, failed, cancelled (with the task whose
// failure cancelled it), panicked, exited; its contexts are the ones the
// body and tasks run with.
func TestObserverSeesOutcomesAndCauses(t *testing.T) {
	r := newRecorder(t)
	var sawCtx bool
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			sawCtx = ctx.Value(recorderKey{}) == "task ok"
			return nil
		}, nursery.WithName("ok"))
		n.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, nursery.WithName("echo"))
		n.Go(func(ctx context.Context) error {
			return nursery.Run(ctx, func(ctx context.Context, m *nursery.Nursery) error {
				m.Go(func(ctx context.Context) error { <-ctx.Done(); return fmt.Errorf("inner: %w", ctx.Err()) }, nursery.WithName("inner"))
				return nil
			}, nursery.WithName("nested"))
		}, nursery.WithName("holder"))
		n.Go(func(ctx context.Context) error { runtime.Goexit(); return nil }, nursery.WithName("exits"))
		return nil
	}, nursery.WithName("outer"), nursery.WithObserver(r))
	if !errors.Is(err, nursery.ErrGoexit) {
		t.Fatalf("Run() = %v, want the Goexit's error", err)
	}
	if !sawCtx {
		t.Error("the task did not run with the context TaskStarted returned")
	}
	want := map[string]nursery.Outcome{"ok": nursery.TaskOK, "echo": nursery.TaskCancelled, "inner": nursery.TaskCancelled, "holder": nursery.TaskCancelled, "exits": nursery.TaskExited}
	for name, o := range want {
		if got := r.results[name].Outcome; got != o {
			t.Errorf("task %q ended %v, want %v", name, got, o)
		}
	}
	if c := r.results["echo"].Cause; c != r.events["exits"] {
		t.Errorf("the echo's cause is %+v, want the task that exited", c)
	}
	if !slices.Contains(r.lines, "start nested in outer") || !slices.Contains(r.lines, "start outer") {
		t.Errorf("calls %q: want the nested nursery observed, with its parent", r.lines)
	}
	if last := r.lines[len(r.lines)-1]; !strings.HasPrefix(last, "end outer: ") {
		t.Errorf("the last call is %q, want the outer nursery's end", last)
	}
}

// A failure is TaskFailed and the cause of its siblings' cancellation; a
// panic is TaskPanicked, and NurseryEnded sees the *PanicError Run panics
// with; a Race's losers are TaskLostRace.
func TestObserverSeesFailuresPanicsAndRaces(t *testing.T) {
	r := newRecorder(t)
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { return errBroke }, nursery.WithName("fails"))
		n.Go(func(ctx context.Context) error { <-ctx.Done(); return context.Cause(ctx) }, nursery.WithName("sibling"))
		return nil
	}, nursery.WithName("f"), nursery.WithObserver(r))
	if !errors.Is(err, errBroke) || r.results["fails"].Outcome != nursery.TaskFailed || r.results["fails"].Err != errBroke {
		t.Errorf("Run() = %v, fails ended %+v: want TaskFailed with its error", err, r.results["fails"])
	}
	if s := r.results["sibling"]; s.Outcome != nursery.TaskCancelled || s.Cause != r.events["fails"] {
		t.Errorf("the sibling ended %+v, want cancelled by fails", s)
	}

	p := recoverPanic(func() {
		_ = nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { panic("boom") }, nursery.WithName("panics"))
			return nil
		}, nursery.WithName("p"), nursery.WithObserver(r))
	})
	if res := r.results["panics"]; res.Outcome != nursery.TaskPanicked || p == nil {
		t.Errorf("panics ended %+v, Run panicked %v", res, p)
	}
	if !slices.ContainsFunc(r.lines, func(l string) bool { return strings.HasPrefix(l, "end p: ") && strings.Contains(l, "boom") }) {
		t.Errorf("NurseryEnded did not see the panic: %q", r.lines)
	}

	nursery.SetObserver(r)
	defer nursery.SetObserver(nil)
	v, err := nursery.Race(t.Context(),
		func(ctx context.Context) (int, error) { return 1, nil },
		func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() },
	)
	if v != 1 || err != nil {
		t.Fatalf("Race() = %v, %v", v, err)
	}
	var lost int
	r.mu.Lock()
	for _, res := range r.results {
		if res.Outcome == nursery.TaskLostRace {
			lost++
		}
	}
	r.mu.Unlock()
	if lost != 1 {
		t.Errorf("%d tasks lost the race, want 1: %+v", lost, r.results)
	}
}

// Outcomes have names.
func TestOutcomeNames(t *testing.T) {
	for o, want := range map[nursery.Outcome]string{nursery.TaskOK: "ok", nursery.TaskFailed: "failed", nursery.TaskPanicked: "panicked",
		nursery.TaskCancelled: "cancelled", nursery.TaskLostRace: "lost race", nursery.TaskExited: "exited", 42: "Outcome(42)"} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", int(o), got, want)
		}
	}
}

// WithObserver(nil) panics, naming the argument.
func TestWithObserverNilPanics(t *testing.T) {
	p := recoverPanic(func() { nursery.WithObserver(nil) })
	if p == nil || !strings.Contains(fmt.Sprint(p), "WithObserver(nil)") {
		t.Errorf("WithObserver(nil) panicked with %v", p)
	}
}

// A nursery the Observer chose not to watch is not ended to it, nor are its
// tasks observed; the nurseries nested in it are offered all the same.
func TestObserverChoosesWhatToWatch(t *testing.T) {
	r := newRecorder(t)
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { return nil }, nursery.WithName("unseen"))
		n.Go(func(ctx context.Context) error {
			return nursery.Run(ctx, func(ctx context.Context, m *nursery.Nursery) error {
				m.Go(func(ctx context.Context) error { return nil }, nursery.WithName("seen"))
				return nil
			}, nursery.WithName("watched"))
		})
		return nil
	}, nursery.WithName("unwatched"), nursery.WithObserver(r))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.results["unseen"]; ok {
		t.Error("a task of an unwatched nursery was observed")
	}
	if _, ok := r.results["seen"]; !ok || !slices.Contains(r.lines, "start watched in unwatched") || !slices.Contains(r.lines, "end watched: <nil>") {
		t.Errorf("the nested nursery was not observed: %q", r.lines)
	}
	if slices.ContainsFunc(r.lines, func(l string) bool { return strings.HasPrefix(l, "end unwatched") }) {
		t.Errorf("an unwatched nursery ended to the observer: %q", r.lines)
	}
}

// raceObserver records each task's result and the context TaskStarted
// returned, by event, and closes failed when a task has failed.
type raceObserver struct {
	mu      sync.Mutex
	results map[*nursery.TaskEvent]nursery.TaskResult
	ctxs    map[*nursery.TaskEvent]context.Context
	failed  chan struct{}
}

type raceKey struct{}

func (o *raceObserver) NurseryStarted(ctx context.Context, n *nursery.NurseryEvent) (context.Context, bool) {
	return ctx, true
}
func (o *raceObserver) NurseryEnded(context.Context, *nursery.NurseryEvent, error) {}
func (o *raceObserver) TaskStarted(ctx context.Context, t *nursery.TaskEvent) context.Context {
	ctx = context.WithValue(ctx, raceKey{}, t)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ctxs[t] = ctx
	return ctx
}
func (o *raceObserver) TaskEnded(ctx context.Context, t *nursery.TaskEvent, r nursery.TaskResult) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.results[t] = r
	if r.Outcome == nursery.TaskFailed {
		close(o.failed)
	}
}

// A Race's losers are TaskLostRace with the winner as their Cause, even
// when a function failed before the win; the winner's event gives the
// context TaskStarted returned for it; the observers name the functions
// given to Race, not a wrapper of the nursery's.
func TestObserverLinksRaceLosersToTheWinner(t *testing.T) {
	for range 50 {
		o := &raceObserver{results: map[*nursery.TaskEvent]nursery.TaskResult{}, ctxs: map[*nursery.TaskEvent]context.Context{}, failed: make(chan struct{})}
		nursery.SetObserver(o)
		fails := func(ctx context.Context) (int, error) { return 0, errBroke }
		wins := func(ctx context.Context) (int, error) { <-o.failed; return 7, nil }
		loses := func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() }
		v, err := nursery.Race(t.Context(), fails, wins, loses, loses)
		nursery.SetObserver(nil)
		if v != 7 || err != nil {
			t.Fatalf("Race() = %v, %v; want 7, nil", v, err)
		}
		var winner *nursery.TaskEvent
		var lost, failed int
		for ev, r := range o.results {
			fn, _, _ := ev.Location()
			switch r.Outcome {
			case nursery.TaskOK:
				winner = ev
				if !strings.Contains(fn, "TestObserverLinksRaceLosersToTheWinner.func2") {
					t.Errorf("the winner is named %q, want the function given to Race", fn)
				}
			case nursery.TaskLostRace:
				lost++
			case nursery.TaskFailed:
				failed++
			}
		}
		if winner == nil || lost != 2 || failed != 1 {
			t.Fatalf("results %v: want a winner, two losers, one failure", o.results)
		}
		if got := winner.Context(); got == nil || got != o.ctxs[winner] || got.Value(raceKey{}) != winner {
			t.Errorf("the winner's Context() is %v, want the one TaskStarted returned", got)
		}
		for ev, r := range o.results {
			if r.Outcome == nursery.TaskLostRace && r.Cause != winner {
				t.Errorf("a loser's Cause is %+v, want the winner %+v", r.Cause, winner)
			}
			if r.Outcome != nursery.TaskLostRace && r.Cause != nil {
				t.Errorf("task %v ended %v with a Cause", ev, r.Outcome)
			}
		}
	}
}

// A task's Cause is the task whose failure cancelled the nursery, and only
// that: when the parent, Cancel or the body's own failure cancelled it
// first, a task that fails afterwards (a cleanup returning an error) is the
// cause of nothing, and the others end with no Cause.
func TestCauseIsOnlyTheFailureThatCancelled(t *testing.T) {
	for _, how := range []string{"parent", "Cancel", "body"} {
		r := newRecorder(t)
		parent, cancel := context.WithCancel(t.Context())
		cleanup := make(chan struct{})
		err := nursery.Run(parent, func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, nursery.WithName("echo"))
			n.Go(func(ctx context.Context) error {
				<-ctx.Done()
				close(cleanup)
				return errors.New("cleanup failed")
			}, nursery.WithName("late"))
			switch how {
			case "parent":
				cancel()
			case "Cancel":
				n.Cancel(nil)
			case "body":
				return errBroke
			}
			return nil
		}, nursery.WithName(how), nursery.WithObserver(r))
		cancel()
		<-cleanup
		if err == nil {
			t.Fatalf("%s: Run() = nil, want the late failure", how)
		}
		if res := r.results["late"]; res.Outcome != nursery.TaskFailed || res.Cause != nil {
			t.Errorf("%s: the late task ended %v with Cause %v, want failed with none", how, res.Outcome, res.Cause)
		}
		if res := r.results["echo"]; res.Outcome != nursery.TaskCancelled || res.Cause != nil {
			t.Errorf("%s: the echo ended %v with Cause %+v, want cancelled with no Cause: the late failure did not cancel it", how, res.Outcome, res.Cause)
		}
	}
}

// panickyObserver panics in TaskEnded, and counts its calls per task.
type panickyObserver struct {
	mu    sync.Mutex
	ended map[*nursery.TaskEvent]int
}

func (o *panickyObserver) NurseryStarted(ctx context.Context, _ *nursery.NurseryEvent) (context.Context, bool) {
	return ctx, true
}
func (o *panickyObserver) NurseryEnded(context.Context, *nursery.NurseryEvent, error) {}
func (o *panickyObserver) TaskStarted(ctx context.Context, _ *nursery.TaskEvent) context.Context {
	return ctx
}
func (o *panickyObserver) TaskEnded(_ context.Context, t *nursery.TaskEvent, _ nursery.TaskResult) {
	o.mu.Lock()
	o.ended[t]++
	o.mu.Unlock()
	panic("observer broke")
}

// A panic in an Observer's TaskEnded is a panic of the task: Run re-raises
// it, after telling the Observer once of each task; Spawn's and Start's
// hand-over to the caller is not done a second time (which closed a closed
// channel and crashed the process).
func TestAPanickingObserverIsAPanicOfTheTask(t *testing.T) {
	for _, how := range []string{"Go", "GoPlain", "Spawn", "Start", "Race"} {
		o := &panickyObserver{ended: map[*nursery.TaskEvent]int{}}
		p := recoverPanic(func() {
			_ = nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
				switch how {
				case "Go":
					n.Go(func(ctx context.Context) error { return nil }, nursery.WithName("x"))
				case "GoPlain":
					n.Go(func(ctx context.Context) error { return nil })
				case "Spawn":
					task := nursery.Spawn(n, func(ctx context.Context) (int, error) { return 1, nil })
					_, _ = task.Wait(ctx)
				case "Start":
					_, _ = nursery.Start(ctx, n, func(ctx context.Context, started func(int)) error { return nil })
				case "Race":
					_, _ = nursery.Race(ctx, func(ctx context.Context) (int, error) { return 1, nil })
				}
				return nil
			}, nursery.WithObserver(o))
		})
		if e, ok := p.(error); !ok || !strings.Contains(e.Error(), "observer broke") {
			t.Errorf("%s: Run panicked with %v, want the observer's panic", how, p)
		}
		o.mu.Lock()
		for ev, n := range o.ended {
			if n != 1 {
				t.Errorf("%s: TaskEnded called %d times for task %q, want once", how, n, ev.Name)
			}
		}
		o.mu.Unlock()
	}
}

// plainObserver records, by the task function's name, how the tasks
// started by Go without options ended, and gives each a context that
// names its event.
type plainObserver struct {
	mu      sync.Mutex
	results map[string]nursery.TaskResult
	events  map[string]*nursery.TaskEvent
	ctxOK   map[string]bool // TaskEnded got the context TaskStarted returned
}

type plainKey struct{}

func (o *plainObserver) NurseryStarted(ctx context.Context, _ *nursery.NurseryEvent) (context.Context, bool) {
	return ctx, true
}
func (o *plainObserver) NurseryEnded(context.Context, *nursery.NurseryEvent, error) {}
func (o *plainObserver) TaskStarted(ctx context.Context, t *nursery.TaskEvent) context.Context {
	return context.WithValue(ctx, plainKey{}, t)
}
func (o *plainObserver) TaskEnded(ctx context.Context, t *nursery.TaskEvent, r nursery.TaskResult) {
	fn, _, _ := t.Location()
	name := fn[strings.LastIndexByte(fn, '.')+1:]
	o.mu.Lock()
	defer o.mu.Unlock()
	o.results[name], o.events[name] = r, t
	o.ctxOK[name] = ctx.Value(plainKey{}) == t && t.Context() == ctx
}

func plainOK(context.Context) error    { return nil }
func plainFails(context.Context) error { return errBroke }
func plainEcho(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}
func plainPanics(context.Context) error { panic("plain boom") }
func plainExits(context.Context) error  { runtime.Goexit(); return nil }

// Tasks started by Go without options (which take a path of their own
// when the nursery has no limit and is not tracked) are observed as the
// others are: each outcome, the cause of a cancellation with the context
// TaskStarted gave it, and panics and Goexits.
func TestObserverSeesPlainTasks(t *testing.T) {
	o := &plainObserver{results: map[string]nursery.TaskResult{}, events: map[string]*nursery.TaskEvent{}, ctxOK: map[string]bool{}}
	run := func(fns ...func(context.Context) error) (err error, p any) {
		p = recoverPanic(func() {
			err = nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
				for _, fn := range fns {
					n.Go(fn)
				}
				return nil
			}, nursery.WithObserver(o))
		})
		return err, p
	}
	if err, _ := run(plainOK, plainEcho, plainFails); !errors.Is(err, errBroke) {
		t.Fatalf("Run() = %v, want errBroke", err)
	}
	if _, p := run(plainPanics); p == nil {
		t.Fatal("Run did not re-raise the task's panic")
	}
	if err, _ := run(plainExits); !errors.Is(err, nursery.ErrGoexit) {
		t.Fatalf("Run() = %v, want the Goexit's error", err)
	}
	want := map[string]nursery.Outcome{"plainOK": nursery.TaskOK, "plainEcho": nursery.TaskCancelled,
		"plainFails": nursery.TaskFailed, "plainPanics": nursery.TaskPanicked, "plainExits": nursery.TaskExited}
	o.mu.Lock()
	defer o.mu.Unlock()
	for name, out := range want {
		if got := o.results[name].Outcome; got != out {
			t.Errorf("%s ended %v, want %v", name, got, out)
		}
		if !o.ctxOK[name] {
			t.Errorf("%s: TaskEnded's context, or the event's Context(), is not what TaskStarted returned", name)
		}
	}
	cause := o.results["plainEcho"].Cause
	if cause != o.events["plainFails"] {
		t.Fatalf("the echo's Cause is %+v, want the failing task's event", cause)
	}
	if cause.Context().Value(plainKey{}) != cause {
		t.Error("the Cause's Context() is not the one TaskStarted returned for it")
	}
}

// goexitingObserver's TaskEnded calls runtime.Goexit, as a t.FailNow in
// it would; its TaskStarted panics if startPanics.
type goexitingObserver struct{ startPanics bool }

func (goexitingObserver) NurseryStarted(ctx context.Context, _ *nursery.NurseryEvent) (context.Context, bool) {
	return ctx, true
}
func (goexitingObserver) NurseryEnded(context.Context, *nursery.NurseryEvent, error) {}
func (o goexitingObserver) TaskStarted(ctx context.Context, _ *nursery.TaskEvent) context.Context {
	if o.startPanics {
		panic("TaskStarted broke")
	}
	return ctx
}

// unwrapPanics is an error whose Unwrap panics.
type unwrapPanics struct{}

func (unwrapPanics) Error() string { return "unwrap panics" }
func (unwrapPanics) Unwrap() error { panic("Unwrap broke") }
func (goexitingObserver) TaskEnded(context.Context, *nursery.TaskEvent, nursery.TaskResult) {
	runtime.Goexit()
}

// An Observer whose TaskEnded calls runtime.Goexit, told of a task that
// returned, panicked, called Goexit itself, or returned an error whose
// Unwrap panics, or whose TaskStarted panicked: the task is still counted
// out, and Run returns (or re-raises the panic), on both paths a task
// takes (Go without options, and with a name). In a synctest bubble, a
// Run that waited forever would be reported as a deadlock.
func TestObserverGoexitInTaskEndedEndsTheRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, task := range []struct {
			name string
			fn   func(context.Context) error
		}{
			{"returns", func(context.Context) error { return nil }},
			{"panics", func(context.Context) error { panic("boom") }},
			{"exits", func(context.Context) error { runtime.Goexit(); return nil }},
			{"fails with an error whose Unwrap panics", func(context.Context) error { return unwrapPanics{} }},
		} {
			for _, opts := range [][]nursery.TaskOption{nil, {nursery.WithName("named")}} {
				for _, obs := range []goexitingObserver{{}, {startPanics: true}} {
					done := make(chan struct{})
					go func() {
						defer close(done)
						defer func() { _ = recover() }()
						err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
							n.Go(task.fn, opts...)
							return nil
						}, nursery.WithObserver(obs))
						if !errors.Is(err, nursery.ErrGoexit) {
							t.Errorf("task that %s (options %d, %+v): Run() = %v, want the Goexit's error", task.name, len(opts), obs, err)
						}
					}()
					<-done
				}
			}
		}
	})
}
