//go:build go1.25

package nursery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/structured-go/structured/nursery"
)

// panicHandler is a slog.Handler whose Handle panics.
type panicHandler struct{}

func (panicHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (panicHandler) Handle(context.Context, slog.Record) error { panic("the handler is broken") }
func (h panicHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h panicHandler) WithGroup(string) slog.Handler           { return h }

// A debugging aid must not be the crash: a logger whose handler panics
// while the stuck report is written, on a timer's goroutine, neither kills
// the process nor keeps the Run from returning.
func TestStuckReportSurvivesAPanickingHandler(t *testing.T) {
	defer nursery.SetStuckErrOutput(&syncBuffer{})()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		done := make(chan error)
		go func() {
			done <- nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("slow"))
				return nil
			}, nursery.WithStuckReport(time.Second, slog.New(panicHandler{})))
		}()
		time.Sleep(2 * time.Second)
		synctest.Wait() // the report was written, and its handler panicked
		close(release)
		if err := <-done; err != nil {
			t.Fatalf("Run() = %v, want nil", err)
		}
	})
}

// The report is written to standard error if the handler panics (the
// report is not lost), with the panic.
func TestStuckReportOfAPanickingHandlerGoesToStderr(t *testing.T) {
	var out syncBuffer
	defer nursery.SetStuckErrOutput(&out)()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		go func() {
			time.Sleep(2 * time.Second)
			close(release)
		}()
		_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("slow"))
			return nil
		}, nursery.WithStuckReport(time.Second, slog.New(panicHandler{})))
	})
	for _, want := range []string{`"slow"`, "has waited 1s for 1 task", "the stuck report's log handler panicked: the handler is broken"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("standard error does not say %q:\n%s", want, out.String())
		}
	}
}

// A Run waiting for 10,000 tasks makes a report of a few hundred bytes:
// their number, and the oldest kinds of them (identical tasks counted as
// one kind), not every task.
func TestStuckReportSummarisesManyTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		logger := slog.New(slog.NewJSONHandler(&logs, nil))
		release := make(chan struct{})
		go func() {
			time.Sleep(2 * time.Second)
			close(release)
		}()
		_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
			for i := range 10000 {
				n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName(fmt.Sprintf("kind-%d", i%8)))
			}
			return nil
		}, nursery.WithStuckReport(time.Second, logger))
		report := logs.String()
		if len(report) > 4000 {
			t.Errorf("the report of 10,000 tasks is %d bytes long, want at most 4000", len(report))
		}
		var rec struct {
			Msg   string
			Open  int
			Tasks []nursery.TaskInfo
		}
		if err := json.Unmarshal([]byte(report), &rec); err != nil {
			t.Fatalf("the report is not one JSON record: %v\n%s", err, report)
		}
		if rec.Open != 10000 || len(rec.Tasks) != 5 || rec.Tasks[0].Name != "kind-0" || rec.Tasks[0].Count != 1250 {
			t.Errorf("open=%d, tasks=%+v: want 10000 open, the 5 oldest kinds of 1250 each", rec.Open, rec.Tasks)
		}
		for _, want := range []string{"for 10000 tasks", `1250× "kind-0"`, "and 3 more kinds of task"} {
			if !strings.Contains(rec.Msg, want) {
				t.Errorf("the message does not say %q: %s", want, rec.Msg)
			}
		}
	})
}

// A server's nursery, whose body starts tasks meant to run until cancelled
// and returns, is not reported as stuck while it serves; once cancelled,
// a task that ignores the cancellation is, after the delay counted from
// the cancellation.
func TestStuckReportWaitsForTheCancellationOfTasksUntilCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		stop := make(chan struct{})
		ctx, cancelServer := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			done <- nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
				n.Go(func(ctx context.Context) error { <-ctx.Done(); return nil }, nursery.WithName("listener"), nursery.UntilCancelled())
				n.Go(func(ctx context.Context) error { <-stop; return nil }, nursery.WithName("deaf"), nursery.UntilCancelled())
				return nil
			}, nursery.WithStuckReport(5*time.Second, logger))
		}()
		time.Sleep(time.Hour)
		synctest.Wait()
		if got := logs.String(); got != "" {
			t.Fatalf("a serving nursery reported as stuck: %s", got)
		}
		cancelServer()
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if got := logs.String(); got != "" {
			t.Fatalf("a report before the delay after the cancellation: %s", got)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		report := logs.String()
		if !strings.Contains(report, `has waited 5s for 1 task: \"deaf\"`) {
			t.Errorf("the report does not name the task that ignores the cancellation, waited for 5s:\n%s", report)
		}
		close(stop)
		<-done
	})
}

// A nursery run UntilCancelled waits by design: its body's return starts
// no clock, for any of its tasks.
func TestStuckReportOfANurseryUntilCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			done <- nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
				n.Go(func(ctx context.Context) error { <-ctx.Done(); time.Sleep(time.Minute); return nil })
				return nil
			}, nursery.WithStuckReport(time.Second, logger), nursery.UntilCancelled())
		}()
		time.Sleep(time.Hour)
		synctest.Wait()
		if got := logs.String(); got != "" {
			t.Fatalf("a nursery run until cancelled reported before its cancellation: %s", got)
		}
		stop()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if !strings.Contains(logs.String(), "has waited 1s for 1 task") {
			t.Errorf("no report a second after the cancellation:\n%s", logs.String())
		}
		<-done
	})
}

// An unmarked task of a nursery that has tasks until cancelled is still
// reported when the body returns without stopping it.
func TestStuckReportStillNamesTheOtherTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		release := make(chan struct{})
		done := make(chan error)
		go func() {
			done <- nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("server"), nursery.UntilCancelled())
				n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("forgotten"))
				return nil
			}, nursery.WithStuckReport(time.Second, logger))
		}()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		report := logs.String()
		if !strings.Contains(report, `for 1 task: \"forgotten\"`) || strings.Contains(report, "server") {
			t.Errorf("the report should name the forgotten task only:\n%s", report)
		}
		close(release)
		<-done
	})
}
