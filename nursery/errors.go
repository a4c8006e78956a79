package nursery

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
)

var (
	// ErrClosed is wrapped by the panic of Go and Spawn, and returned by
	// Start, when they are called after Run has returned.
	ErrClosed = errors.New("nursery: closed")

	// ErrCancelled is context.Canceled: the cause of a nursery's (or a
	// Task's) cancellation when Cancel is called with a nil cause.
	//
	// Deprecated: Cancel(nil) uses context.Canceled as its cause, as a
	// context.CancelCauseFunc does; compare with context.Canceled.
	ErrCancelled = context.Canceled

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
//
// A panic that crosses nested nurseries (a task whose own Run panicked) is not
// wrapped again at each level: the outer nursery re-panics with the same
// Value, Stack and Task, and counts the levels it crossed, so that a crash
// report stays the size of one.
type PanicError struct {
	// Value is the value the task passed to panic. If the body of Run called
	// runtime.Goexit while tasks had failed, Value is an error wrapping
	// ErrGoexit, and Suppressed holds the tasks' errors, which Run could not
	// return.
	Value any
	// Stack is the stack of the goroutine that panicked, captured when the
	// panic was recovered (runtime/debug.Stack). Error includes it, so the
	// crash report of an unrecovered re-panic shows where the panic began.
	Stack []byte
	// Task is the name given with WithName, or "" for an unnamed task and
	// for the body.
	Task string
	// Suppressed holds the real errors the nurseries it crossed collected
	// besides the panic, in the order they happened, including later panics
	// as *PanicError values. A panic takes priority over errors, but does
	// not lose them.
	Suppressed []error

	body   bool
	goexit bool        // the body called runtime.Goexit; Value stands for it
	levels int         // nested nurseries crossed after the first
	from   *PanicError // the *PanicError this one re-raises, if any
}

// newPanicError describes a panic with value r, recovered in a task or body
// from o. A *PanicError value comes from a nested Run: it keeps its origin,
// and counts one more level.
func newPanicError(r any, o origin) *PanicError {
	if inner, ok := r.(*PanicError); ok {
		p := *inner
		p.Suppressed = append([]error(nil), inner.Suppressed...)
		p.levels++
		p.from = inner
		return &p
	}
	return &PanicError{Value: r, Stack: debug.Stack(), Task: o.name, body: o.body}
}

// maxSuppressedShown bounds how many suppressed errors Error lists, and
// maxErrorShown how much of each it shows: a crash report stays readable.
const (
	maxSuppressedShown = 5
	maxErrorShown      = 200
)

// Error describes the panic, lists the first few suppressed errors, and
// includes the original stack.
func (p *PanicError) Error() string {
	var b strings.Builder
	if p.goexit {
		b.WriteString("nursery: the body of Run called runtime.Goexit while tasks had failed")
	} else {
		fmt.Fprintf(&b, "nursery: panic in %s: %v", where(p.Task, p.body), p.Value)
	}
	if p.levels > 0 {
		fmt.Fprintf(&b, " (re-raised through %d nested nurseries)", p.levels)
	}
	if n := len(p.Suppressed); n > 0 {
		fmt.Fprintf(&b, "\n\n%d other error", n)
		if n > 1 {
			b.WriteString("s")
		}
		b.WriteString(":")
		for i, err := range p.Suppressed {
			if i == maxSuppressedShown {
				fmt.Fprintf(&b, "\n  ... and %d more", n-i)
				break
			}
			msg := shorten(err)
			if sub, ok := err.(*PanicError); ok {
				msg = shorten(fmt.Errorf("panic in %s: %v", where(sub.Task, sub.body), sub.Value))
			}
			b.WriteString("\n  - ")
			b.WriteString(msg)
		}
	}
	if len(p.Stack) > 0 {
		b.WriteString("\n\npanicking goroutine's stack:\n")
		b.Write(p.Stack)
	}
	return b.String()
}

// shorten is the first line of err's message, cut to maxErrorShown bytes.
// An Error method that panics does not take the report with it: a crash
// report must keep the original panic and its stack.
func shorten(err error) string {
	if err == nil {
		return "<nil>"
	}
	msg := safeError(err)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i] + " ..."
	}
	if len(msg) > maxErrorShown {
		msg = msg[:maxErrorShown] + "..."
	}
	return msg
}

// Unwrap returns Value if it is an error, so that errors.Is and errors.As see
// through a panic with an error value.
func (p *PanicError) Unwrap() error {
	if err, ok := p.Value.(error); ok {
		return err
	}
	return nil
}

// safeError is err.Error(), or words saying that it panicked.
func safeError(err error) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprintf("(%T whose Error method panicked: %v)", err, r)
		}
	}()
	return err.Error()
}
