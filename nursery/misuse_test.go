//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/structured-go/structured/nursery"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// Bad input panics at once with a message that says what was wrong.
func TestMisusePanicsClearly(t *testing.T) {
	var nilCtx context.Context
	body := func(ctx context.Context, n *nursery.Nursery) error { return nil }
	intFn := func(ctx context.Context) (int, error) { return 0, nil }
	tests := []struct {
		name string
		call func()
		want string
	}{
		{"Run nil ctx", func() { _ = nursery.Run(nilCtx, body) }, "nil context"},
		{"Run nil body", func() { _ = nursery.Run(context.Background(), nil) }, "nil body"},
		{"Run nil option", func() { _ = nursery.Run(context.Background(), body, nil) }, "nil Option"},
		{"Go nil fn", func() {
			_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				n.Go(nil)
				return nil
			})
		}, "nil function"},
		{"Go on zero Nursery", func() { new(nursery.Nursery).Go(func(context.Context) error { return nil }) }, "Run did not create"},
		{"Spawn nil nursery", func() { nursery.Spawn(nil, intFn) }, "nil Nursery"},
		{"Start nil fn", func() {
			_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				_, err := nursery.Start[int](ctx, n, nil)
				return err
			})
		}, "nil function"},
		{"Gather nil fn", func() { _, _ = nursery.Gather(context.Background(), intFn, nil) }, "nil function at index 1"},
		{"Race nil ctx", func() { _, _ = nursery.Race(nilCtx, intFn) }, "nil context"},
	}
	for _, tc := range tests {
		r := recoverPanic(tc.call)
		var msg string
		switch v := r.(type) {
		case string:
			msg = v
		case *nursery.PanicError:
			msg = v.Error() // misuse inside a body comes back through Run
		case error:
			msg = v.Error()
		}
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%s: panicked with %v, want a message containing %q", tc.name, r, tc.want)
		}
	}
}

// A nil TaskOption panics before the task is counted: the nursery is not
// left waiting for a task that never started. In the bubble, such a hang is
// reported at once as a deadlock.
func TestNilTaskOptionDoesNotHang(t *testing.T) {
	intFn := func(ctx context.Context) (int, error) { return 0, nil }
	for name, call := range map[string]func(n *nursery.Nursery){
		"Go":    func(n *nursery.Nursery) { n.Go(func(context.Context) error { return nil }, nil) },
		"Spawn": func(n *nursery.Nursery) { nursery.Spawn(n, intFn, nil) },
		"Start": func(n *nursery.Nursery) {
			_, _ = nursery.Start(context.Background(), n, func(ctx context.Context, started func(int)) error { return nil }, nil)
		},
	} {
		synctest.Test(t, func(t *testing.T) {
			var r any
			err := nursery.Run(t.Context(), func(ctx context.Context, n *nursery.Nursery) error {
				r = recoverPanic(func() { call(n) })
				return nil
			})
			if msg, _ := r.(string); err != nil || !strings.Contains(msg, "nil TaskOption") {
				t.Errorf("%s with a nil TaskOption: Run() = %v, panic %v", name, err, r)
			}
		})
	}
}

// Misuse of a zero Nursery or of Wait panics with a message naming it.
func TestMisuseOfNurseryAndTask(t *testing.T) {
	var nilCtx context.Context
	tests := []struct {
		name string
		call func()
		want string
	}{
		{"Cancel on zero Nursery", func() { new(nursery.Nursery).Cancel(nil) }, "Run did not create"},
		{"Start on zero Nursery", func() {
			_, _ = nursery.Start(context.Background(), new(nursery.Nursery), func(context.Context, func(int)) error { return nil })
		}, "Run did not create"},
		{"Wait nil ctx", func() {
			_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
				task := nursery.Spawn(n, func(ctx context.Context) (int, error) { return 0, nil })
				defer func() { _, _ = task.Wait(ctx) }()
				_, err := task.Wait(nilCtx)
				return err
			})
		}, "nil context"},
	}
	for _, tc := range tests {
		r := recoverPanic(tc.call)
		var msg string
		switch v := r.(type) {
		case string:
			msg = v
		case error:
			msg = v.Error()
		}
		if !contains(msg, tc.want) {
			t.Errorf("%s: panicked with %v, want a message containing %q", tc.name, r, tc.want)
		}
	}
}

// After Run has returned, every way of starting a task is refused with
// ErrClosed: Start returns it, Go, Spawn and n.Spawn panic with an error
// wrapping it, and none calls its function; Cancel does nothing.
func TestEveryStartAfterRunIsRefusedWithErrClosed(t *testing.T) {
	var kept *nursery.Nursery
	if err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		kept = n
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	called := false
	fn := func(context.Context) error { called = true; return nil }
	for name, start := range map[string]func(){
		"Go":       func() { kept.Go(fn) },
		"named Go": func() { kept.Go(fn, nursery.WithName("late")) },
		"Spawn":    func() { nursery.Spawn(kept, func(ctx context.Context) (int, error) { return 0, fn(ctx) }) },
		"n.Spawn":  func() { kept.Spawn(fn) },
	} {
		r := recoverPanic(start)
		if err, ok := r.(error); !ok || !errors.Is(err, nursery.ErrClosed) {
			t.Errorf("%s after Run: panicked with %v, want an error wrapping ErrClosed", name, r)
		}
	}
	if _, err := nursery.Start(context.Background(), kept, func(ctx context.Context, started func(int)) error {
		return fn(ctx)
	}); err != nursery.ErrClosed {
		t.Errorf("Start after Run = %v, want ErrClosed", err)
	}
	if r := recoverPanic(func() { kept.Cancel(errA) }); r != nil {
		t.Errorf("Cancel after Run panicked with %v, want nothing", r)
	}
	if called {
		t.Error("a function started after Run was called")
	}
}
