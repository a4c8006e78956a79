package nursery

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrClosed is wrapped by the panic of Go and Spawn, and returned by
	// Start, when they are called after Run has returned. It is also the
	// cause of the nursery's context once Run has returned.
	ErrClosed = errors.New("nursery: closed")

	// ErrCancelled is the cause of a nursery's (or a Task's) cancellation
	// when Cancel is called with a nil cause.
	ErrCancelled = errors.New("nursery: cancelled")

	// ErrNotStarted is returned by Start when its function returned nil
	// without calling started.
	ErrNotStarted = errors.New("nursery: task returned without calling started")

	// ErrStartedTwice is wrapped by the panic of a started function called a
	// second time.
	ErrStartedTwice = errors.New("nursery: started called twice")

	// ErrGoexit is wrapped by the error recorded for a task that called
	// runtime.Goexit (as t.FailNow and t.SkipNow do) instead of returning.
	ErrGoexit = errors.New("nursery: runtime.Goexit called instead of returning")

	// ErrNoTasks is returned by Race when it is given no functions.
	ErrNoTasks = errors.New("nursery: no functions given")
)

// A PanicError is the value with which Run panics when the body or a task
// panicked. Run recovers the panic in the goroutine where it happened,
// captures that goroutine's stack there, cancels the nursery, waits for every
// task, and only then panics with the *PanicError in its own goroutine.
type PanicError struct {
	// Value is the value the task passed to panic.
	Value any
	// Stack is the stack of the goroutine that panicked, captured when the
	// panic was recovered (runtime/debug.Stack). Error includes it, so the
	// crash report of an unrecovered re-panic shows where the panic began.
	Stack []byte
	// Task is the name given with WithName, or "" for an unnamed task and
	// for the body.
	Task string
	// Suppressed holds the real errors the nursery collected besides the
	// panic, in the order they happened, including later panics as
	// *PanicError values. A panic takes priority over errors, but does not
	// lose them.
	Suppressed []error

	body bool
}

func newPanicError(v any, name string, body bool, stack []byte) *PanicError {
	return &PanicError{Value: v, Stack: stack, Task: name, body: body}
}

// Error describes the panic and includes the original stack.
func (p *PanicError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nursery: panic in %s: %v", where(p.Task, p.body), p.Value)
	if len(p.Suppressed) > 0 {
		fmt.Fprintf(&b, " (and %d other error", len(p.Suppressed))
		if len(p.Suppressed) > 1 {
			b.WriteString("s")
		}
		b.WriteString(")")
	}
	if len(p.Stack) > 0 {
		b.WriteString("\n\npanicking goroutine's stack:\n")
		b.Write(p.Stack)
	}
	return b.String()
}

// Unwrap returns Value if it is an error, so that errors.Is and errors.As see
// through a panic with an error value.
func (p *PanicError) Unwrap() error {
	if err, ok := p.Value.(error); ok {
		return err
	}
	return nil
}
