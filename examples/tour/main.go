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
	"strings"
	"time"

	"github.com/structured-go/structured/nursery"
)

// unit scales the delays of the Python originals, which are in seconds.
const unit = 10 * time.Millisecond

func main() {
	fmt.Printf(`A tour of structured concurrency in Go, in %d chapters.

The tour starts a slow HTTP server on this machine, which it calls %s:
GET /N answers "slept N" after N units of %v (/7 takes 70ms), and a few
other paths fail in ways the chapters explain. Each chapter prints the
lines of Go it runs, then what happened; the code is in examples/tour.
`, len(chapters), serverURL, unit)

	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		// The server is a task of this nursery like any other: Start
		// returns once it listens, and Run waits for it to stop.
		addr, err := nursery.Start(ctx, n, serveSlowly)
		if err != nil {
			return err
		}
		client = newClient(addr)
		defer client.CloseIdleConnections()
		for i, c := range chapters {
			fmt.Printf("\n== Chapter %d: %s\n\n", i+1, c.title)
			fmt.Printf("The code (%s):\n\n", "examples/tour/"+c.file)
			for _, line := range strings.Split(strings.Trim(c.code, "\n"), "\n") {
				fmt.Println("    " + line)
			}
			fmt.Println()
			if err := c.run(ctx, serverURL); err != nil {
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

	fmt.Println("\n== What the tour showed")
	fmt.Println()
	fmt.Printf("    %-3s %-47s %s\n", "", "Go", "Python")
	for i, c := range chapters {
		for j, row := range c.showed {
			num := ""
			if j == 0 {
				num = fmt.Sprint(i + 1)
			}
			fmt.Printf("    %-3s %-47s %s\n", num, row[0], row[1])
		}
	}
	fmt.Println(`
Two parts of the toolkit need more than this program, and have their own:
    ratelimit/redislimit, a rate limit and a semaphore shared by replicas through Redis:
        cd ratelimit/redislimit && go run ./examples/replicas      (needs a redis-server)
    structvet, which finds goroutines nothing waits for, skipped Waits, sleeps that ignore ctx:
        cd structvet && go install ./cmd/structvet      then, in the module to check: structvet ./...
        (once the module has a tagged version: go run github.com/structured-go/structured/structvet/cmd/structvet@latest ./...)

The tour is over: every goroutine it started has finished.
The cookbook, docs/README.md, has a recipe for each of these.`)
}

// round rounds d for printing.
func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
