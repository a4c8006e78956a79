package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/structured-go/structured/cancel"
	"github.com/structured-go/structured/nursery"
)

// signalChapter interrupts a Run with SIGINT, as Ctrl-C would.
//
// In Python:
//
//	try:
//	    asyncio.run(main())       # Ctrl-C cancels main's task
//	except KeyboardInterrupt:
//	    ...
func signalChapter(ctx context.Context, server string) error {
	fmt.Println("A long request, and the tour sends itself SIGINT, as Ctrl-C would, to a Run with WithSignals:")
	var inFlight error
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			inFlight = get(ctx, server, "/100") // still running when the signal comes
			return nil
		})
		if err := cancel.Sleep(ctx, 2*unit); err != nil {
			return err
		}
		self, err := os.FindProcess(os.Getpid())
		if err != nil {
			return err
		}
		return self.Signal(os.Interrupt) // Ctrl-C
	}, nursery.WithSignals())
	fmt.Printf("  the request in flight: %v\n", inFlight)
	fmt.Printf("  Run: %v\n", err)
	var sig *nursery.SignalError
	if !errors.As(err, &sig) || sig.Signal != os.Interrupt || inFlight == nil {
		return fmt.Errorf("Run returned %v, want the *nursery.SignalError of SIGINT", err)
	}
	fmt.Println("  a second Ctrl-C during a shutdown that hangs would end the process at once")
	return nil
}
