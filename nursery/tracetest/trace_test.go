package tracetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime/trace"
	"strings"
	"testing"

	"go.uber.org/goleak"
	xtrace "golang.org/x/exp/trace"

	"github.com/structured-go/structured/nursery"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errBroke = errors.New("broke")

// traced runs f under the execution tracer and returns the trace's events.
// Not parallel: one tracer per process.
func traced(t *testing.T, f func()) []xtrace.Event {
	t.Helper()
	if trace.IsEnabled() {
		t.Fatal("tracing is already on (go test -trace?): this test starts its own")
	}
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	f()
	trace.Stop()
	r, err := xtrace.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var evs []xtrace.Event
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// Each Run is a trace task of type "nursery", nested under its parent's;
// each task is one region, begun and ended on its own goroutine, of the
// task's name (or its function's); every region ends before its nursery's
// task; failures, panics and cancellations are logs on the nursery's task.
func TestTraceShowsNurseriesAsTasksAndTasksAsRegions(t *testing.T) {
	evs := traced(t, func() {
		err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return nil }, nursery.WithName("named"))
			n.Go(unnamed)
			n.Go(func(ctx context.Context) error {
				return nursery.Run(ctx, func(ctx context.Context, m *nursery.Nursery) error {
					m.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, nursery.WithName("waits"))
					m.Go(func(ctx context.Context) error { return errBroke }, nursery.WithName("fails"))
					return nil
				}, nursery.WithName("inner"))
			}, nursery.WithName("holder"))
			return nil
		}, nursery.WithName("outer"))
		if !errors.Is(err, errBroke) {
			t.Errorf("Run() = %v", err)
		}
		func() {
			defer func() { _ = recover() }()
			_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				n.Go(func(ctx context.Context) error { panic("boom") }, nursery.WithName("panics"))
				return nil
			}, nursery.WithName("panicky"))
		}()
	})

	type task struct {
		id, parent xtrace.TaskID
		name       string
		ended      bool
		endIndex   int
	}
	tasks := map[xtrace.TaskID]*task{}
	type region struct {
		typ        string
		task       xtrace.TaskID
		g          xtrace.GoID
		begin, end int
	}
	var regions []*region
	open := map[xtrace.GoID][]*region{}
	logs := map[xtrace.TaskID][]string{}
	for i, ev := range evs {
		switch ev.Kind() {
		case xtrace.EventTaskBegin:
			tk := ev.Task()
			if tk.Type == "nursery" {
				tasks[tk.ID] = &task{id: tk.ID, parent: tk.Parent}
			}
		case xtrace.EventTaskEnd:
			if tk, ok := tasks[ev.Task().ID]; ok {
				tk.ended, tk.endIndex = true, i
			}
		case xtrace.EventRegionBegin:
			r := &region{typ: ev.Region().Type, task: ev.Region().Task, g: ev.Goroutine(), begin: i, end: -1}
			if _, ok := tasks[r.task]; ok {
				regions = append(regions, r)
				open[r.g] = append(open[r.g], r)
			}
		case xtrace.EventRegionEnd:
			st := open[ev.Goroutine()]
			if len(st) > 0 && st[len(st)-1].typ == ev.Region().Type {
				st[len(st)-1].end = i
				open[ev.Goroutine()] = st[:len(st)-1]
			}
		case xtrace.EventLog:
			l := ev.Log()
			logs[l.Task] = append(logs[l.Task], l.Category+" "+l.Message)
			if l.Category == "nursery" {
				if tk, ok := tasks[l.Task]; ok {
					tk.name = l.Message
				}
			}
		}
	}
	byName := map[string]*task{}
	for _, tk := range tasks {
		for _, name := range []string{"outer", "inner", "panicky"} {
			if strings.HasPrefix(tk.name, `"`+name+`"`) {
				byName[name] = tk
			}
		}
	}
	outer, inner, panicky := byName["outer"], byName["inner"], byName["panicky"]
	if len(tasks) != 3 || outer == nil || inner == nil || panicky == nil {
		t.Fatalf("nursery tasks %v, want outer, inner and panicky", byName)
	}
	if inner.parent != outer.id || outer.parent != xtrace.NoTask && outer.parent != xtrace.BackgroundTask {
		t.Errorf("inner's parent task is %d, want outer's %d", inner.parent, outer.id)
	}
	want := map[string]xtrace.TaskID{
		"named": outer.id, "holder": outer.id, "github.com/structured-go/structured/nursery/tracetest.unnamed": outer.id,
		"waits": inner.id, "fails": inner.id, "panics": panicky.id,
	}
	seen := map[string]int{}
	for _, r := range regions {
		seen[r.typ]++
		tk := tasks[r.task]
		switch {
		case want[r.typ] != r.task:
			t.Errorf("region %q in task %d, want %d", r.typ, r.task, want[r.typ])
		case r.end < 0:
			t.Errorf("region %q never ended on its goroutine", r.typ)
		case !tk.ended || r.end > tk.endIndex:
			t.Errorf("region %q ended after its nursery's task", r.typ)
		}
	}
	for typ := range want {
		if seen[typ] != 1 {
			t.Errorf("%d regions %q, want one", seen[typ], typ)
		}
	}
	for id, wantLogs := range map[xtrace.TaskID][]string{
		inner.id:   {"nursery.task.failed \"fails\": broke", "nursery.cancel task \"fails\": broke", "nursery.task.cancelled \"waits\": context canceled"},
		panicky.id: {"nursery.task.panicked \"panics\": ", "nursery.cancel "},
	} {
		got := strings.Join(logs[id], "\n")
		for _, w := range wantLogs {
			if !strings.Contains(got, w) {
				t.Errorf("the logs of task %d do not say %q:\n%s", id, w, got)
			}
		}
	}
}

func unnamed(context.Context) error { return nil }

// errPanicky is an error whose Error method panics.
type errPanicky struct{}

func (errPanicky) Error() string { panic("Error exploded") }

// Under the tracer, a task that fails with an error whose Error method
// panics: the logs of the task's end, of the nursery's cancellation and of
// its result word it instead of crashing the process (the cancellation's
// log called Error outside any recover), and Run returns the error.
func TestTraceWordsAnErrorWhoseErrorPanics(t *testing.T) {
	var err error
	evs := traced(t, func() {
		err = nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(context.Context) error { return errPanicky{} })
			n.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
			return nil
		})
	})
	if _, ok := err.(errPanicky); !ok {
		t.Fatalf("Run() = %#v, want the errPanicky", err)
	}
	worded := 0
	for _, ev := range evs {
		if ev.Kind() == xtrace.EventLog && strings.Contains(ev.Log().Message, "whose Error method panicked") {
			worded++
		}
	}
	if worded == 0 {
		t.Error("no log of the trace words the error whose Error panicked")
	}
}
