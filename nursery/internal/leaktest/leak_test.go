//go:build goexperiment.goroutineleakprofile

package leaktest_test

// These tests need the goroutineleak profile of Go 1.26, an experiment:
// GOEXPERIMENT=goroutineleakprofile go test ./nursery/internal/leaktest/
// (.ci/run does).

import (
	"bytes"
	"context"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/structured-go/structured/nursery"
)

// A Run whose body returned while a task waits on a channel nobody else
// holds is a leak the garbage collector can prove: the goroutineleak
// profile names the task by its labels, and the waiting Run by its
// nursery's, tracked or not (the tree holds nothing of the Nursery that
// would make the wait look reachable).
func TestLeakProfileNamesTheTaskAndTheWaitingNursery(t *testing.T) {
	for _, tracked := range []bool{false, true} {
		name := "batch-untracked"
		opts := []nursery.Option{}
		if tracked {
			name = "batch-tracked"
			opts = append(opts, nursery.WithTracking())
		}
		started := make(chan struct{})
		go func() {
			_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				ch := make(chan int) // nobody else holds it
				n.Go(func(ctx context.Context) error { close(started); <-ch; return nil }, nursery.WithName("worker"))
				return nil
			}, append(opts, nursery.WithName(name))...)
		}()
		<-started
		var profile string
		for range 50 {
			var buf bytes.Buffer
			if err := pprof.Lookup("goroutineleak").WriteTo(&buf, 1); err != nil {
				t.Fatal(err)
			}
			profile = buf.String()
			if strings.Contains(profile, name) && strings.Contains(profile, "runBody") {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		var worker, waiter bool
		for _, g := range strings.Split(profile, "\n\n") {
			if !strings.Contains(g, `"nursery":"`+name+`"`) {
				continue
			}
			switch {
			case strings.Contains(g, "worker") && !strings.Contains(g, "runBody"):
				worker = true
			case strings.Contains(g, "runBody"):
				waiter = true
			}
		}
		if !worker || !waiter {
			t.Errorf("tracked=%v: the leak profile names the worker: %v, the waiting Run: %v; want both\n%s", tracked, worker, waiter, profile)
		}
	}
}
