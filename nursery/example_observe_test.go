//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/structured-go/structured/nursery"
)

// logOutcomes is an Observer that prints how each task ended.
type logOutcomes struct{ mu sync.Mutex }

func (l *logOutcomes) NurseryStarted(ctx context.Context, n *nursery.NurseryEvent) (context.Context, bool) {
	fmt.Printf("nursery %q started\n", n.Name)
	return ctx, true
}

func (l *logOutcomes) NurseryEnded(_ context.Context, n *nursery.NurseryEvent, err error) {
	fmt.Printf("nursery %q ended: %v\n", n.Name, err)
}

func (l *logOutcomes) TaskStarted(ctx context.Context, _ *nursery.TaskEvent) context.Context {
	return ctx
}

func (l *logOutcomes) TaskEnded(_ context.Context, t *nursery.TaskEvent, r nursery.TaskResult) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cause := ""
	if r.Cause != nil {
		cause = fmt.Sprintf(" by %q", r.Cause.Name)
	}
	fmt.Printf("task %q: %v%s\n", t.Name, r.Outcome, cause)
}

// An Observer is told when nurseries and tasks start and end, and how each
// task ended: here a failure, and the sibling it cancelled.
func ExampleWithObserver() {
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		failed := make(chan struct{})
		n.Go(func(ctx context.Context) error { <-failed; <-ctx.Done(); return ctx.Err() }, nursery.WithName("waits"))
		n.Go(func(ctx context.Context) error { defer close(failed); return errors.New("disk full") }, nursery.WithName("writes"))
		return nil
	}, nursery.WithName("backup"), nursery.WithObserver(&logOutcomes{}))
	// Output:
	// nursery "backup" started
	// task "writes": failed
	// task "waits": cancelled by "writes"
	// nursery "backup" ended: task "writes": disk full
}

// A browser gets the tree as a page: each nursery a section, its open
// tasks in a table, identical ones on one row with their number.
func ExampleTreeHandler() {
	h := nursery.TreeHandler()
	release := make(chan struct{})
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for range 3 {
			n.Go(func(ctx context.Context) error { <-release; return nil }, nursery.WithName("worker"))
		}
		req := httptest.NewRequest("GET", "/debug/nurseries", nil)
		req.Header.Set("Accept", "text/html")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		page := rec.Body.String()
		fmt.Println(rec.Header().Get("Content-Type"))
		fmt.Println("sections:", strings.Count(page, "<section"), "rows:", strings.Count(page, "<tr data-task="), "workers on one row:", strings.Contains(page, `data-count="3"`))
		close(release)
		return nil
	}, nursery.WithName("pool"), nursery.WithTracking())
	// Output:
	// text/html; charset=utf-8
	// sections: 1 rows: 1 workers on one row: true
}
