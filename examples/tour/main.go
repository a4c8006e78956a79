// Command tour shows the patterns of async Python, the Go way, with the
// structured packages. It starts its own slow HTTP server on loopback and
// runs each chapter against it, checking as it goes that what it claims is
// what happened; it exits with status 1 if not.
//
//	go run ./examples/tour
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/structured-go/structured/nursery"
)

// unit scales the delays of the Python originals, which are in seconds.
const unit = 10 * time.Millisecond

type chapter struct {
	title string
	run   func(ctx context.Context, server string) error
}

var chapters = []chapter{
	{"Sequential vs concurrent fetch (asyncio.gather)", fetchChapter},
	{"One failure cancels its siblings (TaskGroup)", failureChapter},
	{"Timeouts: move on, fail, and clean up under a shield", timeoutChapter},
	{"Retries: backoff, server hints, budgets and hedged requests", retryChapter},
	{"At most 3 at once, at most 20 a second (Semaphore, Limiter)", rateChapter},
	{"A pipeline that stops early (async for, generators, batching)", pipelineChapter},
}

func main() {
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		// The server is a task of this nursery like any other: Start
		// returns once it listens, and Run waits for it to stop.
		server, err := nursery.Start(ctx, n, serveSlowly)
		if err != nil {
			return err
		}
		for i, c := range chapters {
			fmt.Printf("\n== Chapter %d: %s\n\n", i+1, c.title)
			if err := c.run(ctx, server); err != nil {
				return fmt.Errorf("chapter %d: %w", i+1, err)
			}
		}
		n.Cancel(nil) // stops the server; Run waits until it has
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
	fmt.Println("\nThe tour is over: every goroutine it started has finished.")
}

// round rounds d for printing.
func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
