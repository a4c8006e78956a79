//go:build go1.25 && unix

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/structured-go/structured/nursery"
)

// WithSignals makes the first SIGINT or SIGTERM cancel the nursery, as
// Ctrl-C cancels asyncio.run's main task; Run then returns a *SignalError.
func ExampleWithSignals() {
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			<-ctx.Done() // a server, serving until it is told to stop
			fmt.Println("shutting down:", context.Cause(ctx))
			return ctx.Err()
		})
		// The process is sent SIGTERM (here, by itself).
		return syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}, nursery.WithSignals())
	var sig *nursery.SignalError
	fmt.Println(errors.As(err, &sig), sig.Signal)
	// Output:
	// shutting down: nursery: received terminated
	// true terminated
}
