//go:build go1.25

package asynciter_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/structured-go/structured/nursery"
)

// A live counts the user callbacks (producers, mapped functions, inputs)
// that are running: after a loop statement has finished it must read zero
// at once, not eventually.
type live struct{ n, peak atomic.Int64 }

func (l *live) enter() func() {
	n := l.n.Add(1)
	for {
		p := l.peak.Load()
		if n <= p || l.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return func() { l.n.Add(-1) }
}

func (l *live) check(t *testing.T, what string) {
	t.Helper()
	if n := l.n.Load(); n != 0 {
		t.Fatalf("%s: %d callbacks still running after the loop statement finished", what, n)
	}
}

// mustPanic runs f and returns what it panicked with; it fails the test if f
// does not panic.
func mustPanic(t *testing.T, f func()) (v any) {
	t.Helper()
	defer func() { v = recover() }()
	f()
	t.Fatal("no panic")
	return nil
}

// mustPanicWith checks that f panics with a message containing want.
func mustPanicWith(t *testing.T, want string, f func()) {
	t.Helper()
	v := mustPanic(t, f)
	var msg string
	switch v := v.(type) {
	case string:
		msg = v
	case error:
		msg = v.Error()
	}
	if !strings.Contains(msg, want) {
		t.Fatalf("panic %q, want it to contain %q", msg, want)
	}
}

// panicValue returns the value of a *nursery.PanicError, or fails.
func panicValue(t *testing.T, v any) any {
	t.Helper()
	var pe *nursery.PanicError
	err, ok := v.(error)
	if !ok || !errors.As(err, &pe) {
		t.Fatalf("panicked with %T %v, want a *nursery.PanicError", v, v)
	}
	return pe.Value
}

var errBoom = errors.New("boom")
