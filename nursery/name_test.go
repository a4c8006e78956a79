//go:build go1.25

package nursery_test

import (
	"bytes"
	"context"
	"errors"
	"runtime/pprof"
	"strings"
	"testing"

	"github.com/structured-go/structured/nursery"
)

// A named task's error names it, and errors.Is still reaches the cause.
func TestNameInError(t *testing.T) {
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { return errA }, nursery.WithName("fetch /7"))
		return nil
	})
	if !errors.Is(err, errA) || !strings.Contains(err.Error(), `task "fetch /7"`) {
		t.Fatalf("Run() = %v, want errA named after its task", err)
	}
}

// A named task's panic carries the name.
func TestNameInPanic(t *testing.T) {
	p := runPanics(t, t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(panickingTask, nursery.WithName("parser"))
		return nil
	})
	if p.Task != "parser" || !strings.Contains(p.Error(), `task "parser"`) {
		t.Fatalf("PanicError{Task: %q}: %s; want the task's name", p.Task, p.Error())
	}
}

// A named task's goroutine carries the pprof label "task", so a goroutine
// profile shows which task each goroutine belongs to; goroutines it starts
// inherit the label.
func TestNameAsPprofLabel(t *testing.T) {
	var label string
	var profile bytes.Buffer
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		ready, release := make(chan struct{}), make(chan struct{})
		n.Go(func(ctx context.Context) error {
			label, _ = pprof.Label(ctx, "task")
			return nursery.Run(ctx, func(ctx context.Context, inner *nursery.Nursery) error {
				inner.Go(func(ctx context.Context) error {
					close(ready)
					<-release
					return nil
				})
				return nil
			})
		}, nursery.WithName("worker-42"))
		<-ready
		err := pprof.Lookup("goroutine").WriteTo(&profile, 1)
		close(release)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if label != "worker-42" {
		t.Fatalf("pprof.Label(ctx, task) = %q, want worker-42", label)
	}
	if got := strings.Count(profile.String(), `"task":"worker-42"`); got < 2 {
		t.Fatalf("goroutine profile shows the label on %d stacks, want the task and its child:\n%s", got, profile.String())
	}
}

// Spawn and Start take names too.
func TestNameOnSpawnAndStart(t *testing.T) {
	err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
		_, err := nursery.Start(ctx, n, func(ctx context.Context, started func(string)) error {
			v, _ := pprof.Label(ctx, "task")
			started(v)
			return nil
		}, nursery.WithName("server"))
		if err != nil {
			return err
		}
		task := nursery.Spawn(n, func(ctx context.Context) (int, error) { return 0, errB }, nursery.WithName("job"))
		_, _ = task.Wait(ctx)
		return nil
	})
	if !strings.Contains(err.Error(), `task "job"`) {
		t.Fatalf("Run() = %v, want the spawned task's name", err)
	}
}
