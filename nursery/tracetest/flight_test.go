package tracetest

import (
	"context"
	"log/slog"
	"os"
	"runtime/trace"
	"strings"
	"sync"
	"testing"
	"time"

	xtrace "golang.org/x/exp/trace"

	"github.com/structured-go/structured/nursery"
)

// records is a slog.Handler that hands each record's message and
// attributes to a channel.
type records chan map[string]string

func (h records) Enabled(context.Context, slog.Level) bool { return true }
func (h records) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h records) WithGroup(string) slog.Handler            { return h }
func (h records) Handle(_ context.Context, r slog.Record) error {
	m := map[string]string{"msg": r.Message}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	h <- m
	return nil
}

// A stuck Run under a running flight recorder writes one snapshot, named in
// its report, that shows the stuck task's region open and its goroutine
// blocked in it, and the stuck log on the nursery's task; a second Run
// stuck in the same window names the same file. Not parallel: one recorder
// per process.
func TestStuckReportWritesAFlightRecording(t *testing.T) {
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{})
	if err := fr.Start(); err != nil {
		t.Fatal(err)
	}
	defer fr.Stop()
	dir := t.TempDir()
	logs := make(records, 2)
	logger := slog.New(logs)
	release := make(chan struct{})
	var wg sync.WaitGroup
	for _, name := range []string{"first", "second"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("stuck-"+name))
				return nil
			}, nursery.WithName(name), nursery.WithStuckReport(50*time.Millisecond, logger), nursery.WithStuckTrace(fr, dir))
		}()
	}
	r1, r2 := <-logs, <-logs
	close(release)
	wg.Wait()
	if r1["trace"] == "" || r1["trace"] != r2["trace"] {
		t.Fatalf("the reports name the files %q and %q: want one, the same", r1["trace"], r2["trace"])
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 {
		t.Errorf("%d files in the directory, want one snapshot", len(files))
	}
	f, err := os.Open(r1["trace"])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := xtrace.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	regionG := map[string]xtrace.GoID{}
	ended := map[string]bool{}
	blocked := map[xtrace.GoID]bool{}
	var stuckLog bool
	for {
		ev, err := r.ReadEvent()
		if err != nil {
			break
		}
		switch ev.Kind() {
		case xtrace.EventRegionBegin:
			regionG[ev.Region().Type] = ev.Goroutine()
		case xtrace.EventRegionEnd:
			ended[ev.Region().Type] = true
		case xtrace.EventLog:
			if ev.Log().Category == "nursery.stuck" && strings.Contains(ev.Log().Message, "stuck-") {
				stuckLog = true
			}
		case xtrace.EventStateTransition:
			st := ev.StateTransition()
			if st.Resource.Kind == xtrace.ResourceGoroutine {
				if _, to := st.Goroutine(); to == xtrace.GoWaiting {
					blocked[st.Resource.Goroutine()] = true
				}
			}
		}
	}
	g, ok := regionG["stuck-first"]
	if !ok || ended["stuck-first"] {
		t.Errorf("the snapshot shows the stuck task's region: %v, ended: %v; want open", ok, ended["stuck-first"])
	}
	if ok && !blocked[g] {
		t.Errorf("the snapshot does not show the stuck task's goroutine %d blocked", g)
	}
	if !stuckLog {
		t.Error("the snapshot has no nursery.stuck log")
	}
}

// WithStuckTrace wants a recorder, a directory and a stuck report.
func TestWithStuckTraceMisuse(t *testing.T) {
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{})
	for name, f := range map[string]func(){
		"nil recorder": func() { nursery.WithStuckTrace(nil, "d") },
		"no directory": func() { nursery.WithStuckTrace(fr, "") },
		"no report": func() {
			_ = nursery.Run(context.Background(), func(context.Context, *nursery.Nursery) error { return nil }, nursery.WithStuckTrace(fr, "d"))
		},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "WithStuckTrace") {
					t.Errorf("%s: panicked with %v", name, r)
				}
			}()
			f()
		}()
	}
}
