package nursery

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/structured-go/structured/internal/echo"
)

// A SignalError is the cause with which WithSignals cancels a nursery, and
// what Run then returns: the process was asked to stop.
type SignalError struct {
	Signal os.Signal
}

// Error names the signal, as "nursery: received interrupt".
func (e *SignalError) Error() string { return "nursery: received " + e.Signal.String() }

// Is makes errors.Is(err, context.Canceled) true: a signal cancelled the
// program, and code that picks its exit code by errors.Is(err,
// context.Canceled), as after signal.NotifyContext, keeps working.
func (e *SignalError) Is(target error) bool { return target == context.Canceled }

// WithSignals makes the first of the given signals (os.Interrupt and
// syscall.SIGTERM if none are given) cancel the nursery, as Ctrl-C cancels
// the main task of asyncio.run. The cancellation's cause is a *SignalError
// naming the signal, and Run returns that *SignalError unless a real error
// happened (the tasks' echoes of the cancellation, wrapped or not, are not
// real errors). A *SignalError matches context.Canceled with errors.Is.
//
// Once the first signal has arrived, the nursery stops listening: a second
// one gets the signal's default action, which for SIGINT and SIGTERM ends the
// process at once, so a user can interrupt a shutdown that hangs. (If
// something else in the process listens for the signal with signal.Notify,
// the second signal goes there instead.) Run stops listening when it returns.
//
// Use it in main, around the whole program:
//
//	err := nursery.Run(context.Background(), serve, nursery.WithSignals())
func WithSignals(sigs ...os.Signal) Option {
	if len(sigs) == 0 {
		sigs = []os.Signal{os.Interrupt, syscall.SIGTERM}
	}
	for i, s := range sigs {
		if s == nil {
			panic(fmt.Sprintf("nursery: WithSignals: nil signal at index %d", i))
		}
	}
	return optionFunc(func(c *config) { c.signals = sigs })
}

// runSignalled runs the nursery under a context that the first signal
// cancels; the watcher goroutine ends before it returns.
func (n *Nursery) runSignalled(ctx context.Context, body func(context.Context, *Nursery) error, sigs []os.Signal, site uintptr) error {
	sctx, stop := context.WithCancelCause(ctx)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	watcher := make(chan struct{})
	go func() {
		defer close(watcher)
		select {
		case sig := <-ch:
			// From now on a signal gets its default action: a second
			// Ctrl-C ends a shutdown that hangs.
			signal.Stop(ch)
			stop(&SignalError{Signal: sig})
		case <-sctx.Done():
		}
	}()
	defer func() {
		signal.Stop(ch)
		stop(nil)
		<-watcher
	}()
	err := n.runBody(sctx, body, site)
	if se, ok := context.Cause(sctx).(*SignalError); ok && (err == nil || echo.Match(err, sctx.Err(), se)) {
		return se // the tasks' echoes of the signal, "serve: context canceled", say no more
	}
	return err
}
