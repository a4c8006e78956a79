package nursery

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// stuckReport is what WithStuckReport asked for.
type stuckReport struct {
	after  time.Duration
	logger *slog.Logger
}

// A stuckWatch reports, once, a Run that has waited too long for its tasks.
// Its clock starts when the body returns or the nursery is cancelled,
// whichever comes first; nothing of it outlives Run.
type stuckWatch struct {
	n      *Nursery
	r      *stuckReport
	once   sync.Once
	timer  *time.Timer
	mu     sync.Mutex // guards timer
	unlink func() bool
	wg     sync.WaitGroup // the cancellation hook and the report, while they may run
}

func (n *Nursery) watchStuck() *stuckWatch {
	w := &stuckWatch{n: n, r: n.cfg.stuck}
	w.wg.Add(1)
	w.unlink = context.AfterFunc(n.ctx(), func() {
		defer w.wg.Done()
		w.arm()
	})
	return w
}

// arm starts the clock, if it has not started.
func (w *stuckWatch) arm() {
	w.once.Do(func() {
		w.n.cfg.tr.markWaiting(time.Now())
		w.mu.Lock()
		defer w.mu.Unlock()
		w.wg.Add(1)
		w.timer = time.AfterFunc(w.r.after, func() {
			defer w.wg.Done()
			w.report()
		})
	})
}

// stop ends the watch once Run's tasks have all returned.
func (w *stuckWatch) stop() {
	if w.unlink() {
		w.wg.Done() // the hook will never run
	}
	w.once.Do(func() {}) // no clock starts from now on
	w.mu.Lock()
	if w.timer != nil && w.timer.Stop() {
		w.wg.Done() // the report will never run
	}
	w.mu.Unlock()
	w.wg.Wait()
}

// report logs the tasks the Run still waits for.
func (w *stuckWatch) report() {
	t := w.n.cfg.tr
	info := t.describe()
	now := time.Now()
	var b strings.Builder
	fmt.Fprintf(&b, "nursery: Run at %s has waited %v for %d task", info.Site, now.Sub(info.Waiting).Round(time.Millisecond), len(info.Tasks))
	if len(info.Tasks) != 1 {
		b.WriteString("s")
	}
	b.WriteString(":")
	for i, task := range info.Tasks {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(" ")
		if task.Name != "" {
			fmt.Fprintf(&b, "%q ", task.Name)
		}
		fmt.Fprintf(&b, "%s at %s, running for %v", task.Func, task.Site, now.Sub(task.Started).Round(time.Millisecond))
	}
	logger := w.r.logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Warn(b.String(),
		slog.String("run", info.Site),
		slog.Duration("waited", now.Sub(info.Waiting)),
		slog.Int("open", len(info.Tasks)),
		slog.Any("tasks", info.Tasks),
	)
}
