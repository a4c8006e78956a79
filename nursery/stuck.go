package nursery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"sync"
	"time"
)

// WithStuckReport makes Run report once, through logger (slog.Default() if
// nil), the tasks it still waits for when it has waited longer than after
// since its body returned or since it was cancelled: how many, and the
// kinds of them (identical tasks, with the same name, function and site,
// counted as one kind), oldest first, with their names, functions and ages.
// It is the message that turns a hang into a diagnosis: a body that
// returned without stopping its workers, a task that ignores its context.
// It tracks the nursery (see WithTracking).
//
// Tasks meant to run until the nursery is cancelled, such as a server's
// listeners, say so with UntilCancelled: the wait for them starts when the
// nursery is cancelled, not when the body returns. A Run whose only open
// tasks are such tasks is not reported while it is not cancelled.
//
// If the logger's handler panics, the report is written to standard error
// instead, with the panic: a debugging aid does not crash the program.
// WithStuckReport panics if after <= 0.
func WithStuckReport(after time.Duration, logger *slog.Logger) Option {
	if after <= 0 {
		panic(fmt.Sprintf("nursery: WithStuckReport(%v): the delay must be positive", after))
	}
	return optionFunc(func(c *config) {
		c.track = true
		c.stuck = &stuckReport{after: after, logger: logger}
	})
}

// An UntilCancelledOption marks a task (given to Go, Spawn or Start) or a
// nursery (given to Run) as meant to run until cancelled. UntilCancelled
// makes one.
type UntilCancelledOption struct{}

func (UntilCancelledOption) applyToTask(s *spec)  { s.untilCancelled = true }
func (UntilCancelledOption) applyToRun(c *config) { c.untilCancelled = true }

// UntilCancelled says that a task, or every task of a nursery, is meant to
// run until the nursery is cancelled: a server's accept loop, a worker
// that serves a queue for the life of the program. The task runs as any
// other; only the stuck report (WithStuckReport) and the tree (TreeHandler)
// treat it apart: a Run waiting for such tasks is not waiting too long
// until it has been cancelled. Given to Run, it says so of every task of
// the nursery, and of the body's return: the nursery waits by design.
func UntilCancelled() UntilCancelledOption { return UntilCancelledOption{} }

// A snapshotter writes a snapshot of the execution trace, for the stuck
// report (WithStuckTrace), and returns the file's name.
type snapshotter interface {
	snapshot() (string, error)
}

// checkStuckTrace makes sure WithStuckTrace comes with the report it adds
// to.
func (c *config) checkStuckTrace() {
	if c.stuck == nil {
		panic("nursery: WithStuckTrace without WithStuckReport: the snapshot is taken when the report is made")
	}
}

// stuckReport is what WithStuckReport asked for.
type stuckReport struct {
	after  time.Duration
	logger *slog.Logger
}

// A stuckWatch reports, once, a Run that has waited too long for its tasks.
// Two clocks may run: one from the body's return, for the tasks not meant
// to run until cancelled, and one from the cancellation, for every task.
// Nothing of it outlives Run.
type stuckWatch struct {
	n      *Nursery
	r      *stuckReport
	unlink func() bool
	wg     sync.WaitGroup // the cancellation hook and the checks, while they may run

	mu       sync.Mutex
	timers   [2]*time.Timer // from the body's return, from the cancellation
	stopped  bool
	reported bool
}

const (
	clockReturned = iota
	clockCancelled
)

func (n *Nursery) watchStuck() *stuckWatch {
	w := &stuckWatch{n: n, r: n.cfg.stuck}
	w.wg.Add(1)
	w.unlink = context.AfterFunc(n.ctx(), func() {
		defer w.wg.Done()
		n.cfg.tr.markCancelled(context.Cause(n.ctx()))
		w.start(clockCancelled)
	})
	return w
}

// start starts a clock, if it has not started.
func (w *stuckWatch) start(clock int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped || w.timers[clock] != nil {
		return
	}
	if clock == clockReturned && w.n.cfg.untilCancelled {
		return // the nursery waits by design until cancelled
	}
	w.wg.Add(1)
	w.timers[clock] = time.AfterFunc(w.r.after, func() {
		defer w.wg.Done()
		w.check()
	})
}

// returned starts the clock of the body's return.
func (w *stuckWatch) returned() { w.start(clockReturned) }

// stop ends the watch once Run's tasks have all returned.
func (w *stuckWatch) stop() {
	if w.unlink() {
		w.wg.Done() // the hook will never run
	}
	w.mu.Lock()
	w.stopped = true
	for _, t := range w.timers {
		if t != nil && t.Stop() {
			w.wg.Done() // the check will never run
		}
	}
	w.mu.Unlock()
	w.wg.Wait()
}

// check reports the Run if some task has kept it waiting for longer than
// the delay, and no report was made.
func (w *stuckWatch) check() {
	info := w.n.cfg.tr.describe(newFuncCache())
	now := time.Now()
	var stuck []TaskInfo
	var waiting time.Time // since when the stuck tasks kept Run waiting
	for _, t := range info.Tasks {
		if d := info.WaitedFor(t, now); d > 0 && d >= w.r.after {
			stuck = append(stuck, t)
			if since := now.Add(-d); waiting.IsZero() || since.Before(waiting) {
				waiting = since
			}
		}
	}
	if len(stuck) == 0 {
		return // only tasks meant to run until cancelled, and it is not
	}
	w.mu.Lock()
	done := w.reported
	w.reported = true
	w.mu.Unlock()
	if !done {
		info.Waiting = waiting
		w.report(info, stuck, now)
	}
}

// reportKinds is the number of kinds of task a report names.
const reportKinds = 5

// stuckErrOutput is where a report goes if the logger panics.
var stuckErrOutput io.Writer = os.Stderr

// report logs the tasks the Run still waits for: how many, and the oldest
// kinds of them, so that a Run waiting for 10,000 tasks makes a line of a
// few hundred bytes, not megabytes.
func (w *stuckWatch) report(info NurseryInfo, stuck []TaskInfo, now time.Time) {
	kinds := FoldTasks(stuck)
	shown := kinds[:min(len(kinds), reportKinds)]
	var b strings.Builder
	b.WriteString("nursery: Run ")
	if info.Name != "" {
		fmt.Fprintf(&b, "%q ", info.Name)
	}
	fmt.Fprintf(&b, "at %s has waited %v for %d task", info.Site, age(now, info.Waiting), len(stuck))
	if len(stuck) != 1 {
		b.WriteString("s")
	}
	b.WriteString(":")
	for i, t := range shown {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(" ")
		if t.Count > 1 {
			fmt.Fprintf(&b, "%d× ", t.Count)
		}
		if t.Name != "" {
			fmt.Fprintf(&b, "%q ", t.Name)
		}
		fmt.Fprintf(&b, "%s at %s, running for %v", t.Func, t.Site, age(now, t.Started))
	}
	if more := len(kinds) - len(shown); more > 0 {
		fmt.Fprintf(&b, "; and %d more kinds of task", more)
	}
	attrs := []any{
		slog.String("run", info.Site),
		slog.Duration("waited", now.Sub(info.Waiting)),
		slog.Int("open", len(stuck)),
		slog.Any("tasks", shown),
	}
	if info.Name != "" {
		attrs = append(attrs, slog.String("nursery", info.Name))
	}
	if o := w.n.cfg.obs; o != nil && o.traced != nil {
		trace.Log(o.ctx, "nursery.stuck", b.String())
	}
	if s := w.n.cfg.stuckTrace; s != nil {
		if file, err := s.snapshot(); err != nil {
			attrs = append(attrs, slog.String("trace_error", err.Error()))
		} else {
			attrs = append(attrs, slog.String("trace", file))
		}
	}
	logger := w.r.logger
	if logger == nil {
		logger = slog.Default()
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stuckErrOutput, "%s\nnursery: the stuck report's log handler panicked: %v\n%s", b.String(), r, debug.Stack())
		}
	}()
	logger.Warn(b.String(), attrs...)
}

// bodyReturned records, for the tree and the stuck report, that the body
// of a tracked nursery has returned.
func (n *Nursery) bodyReturned(tr *tracker, stuck *stuckWatch) {
	tr.markReturned()
	if stuck != nil {
		stuck.returned()
	}
}

// waitLabelled waits for wg with the goroutine labelled as labelled is (a
// named nursery's labels), and then as ctx is: goroutine dumps and the
// goroutineleak profile name the nursery whose Run waits, not only the
// tasks it waits for.
func waitLabelled(wg *sync.WaitGroup, labelled, ctx context.Context) {
	pprof.SetGoroutineLabels(labelled)
	wg.Wait()
	pprof.SetGoroutineLabels(ctx)
}
