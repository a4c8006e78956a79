// Command pipeline streams log lines through a pipeline of async
// iterators: three sources read concurrently and merged, each line parsed
// by a pool of 4 workers, the server errors kept and written in batches.
// Then it shows the two ways a pipeline ends early: a source that fails,
// and a consumer that has seen enough. Either way, every stage has stopped
// by the time the loop statement ends.
//
// It checks that what it claims happened, and exits with status 1 if not.
//
//	go run ./examples/pipeline
package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/structured-go/structured/asynciter"
)

// An entry is one parsed log line.
type entry struct {
	method, path string
	status       int
}

// lines is the number of lines in each source.
const lines = 100

// source produces the lines of one log, like a reader of a file: every
// tenth line is a server error. badLine, if not zero, is a malformed line.
// read counts the lines produced, across sources.
func source(ctx context.Context, name string, badLine int, read *atomic.Int32) iter.Seq2[string, error] {
	return asynciter.Generate(ctx, func(ctx context.Context, yield func(string) bool) error {
		for i := 1; i <= lines; i++ {
			line := fmt.Sprintf("GET /%s/%d 200", name, i)
			if i%10 == 0 {
				line = fmt.Sprintf("POST /%s/%d 503", name, i)
			}
			if i == badLine {
				line = "garbage"
			}
			read.Add(1)
			if !yield(line) {
				return nil // the loop has stopped: stop reading
			}
		}
		return nil
	})
}

// parse parses a line; a malformed one is an error, which ends the stream.
func parse(ctx context.Context, line string) (entry, error) {
	var e entry
	if _, err := fmt.Sscanf(line, "%s %s %d", &e.method, &e.path, &e.status); err != nil {
		return entry{}, fmt.Errorf("malformed line %q: %w", line, err)
	}
	return e, nil
}

// serverErrors is the pipeline: the sources merged, parsed 4 at a time in
// the order they come, the server errors kept, in batches of at most 10 (or
// whatever 50ms brings).
func serverErrors(ctx context.Context, sources ...iter.Seq2[string, error]) iter.Seq2[[]entry, error] {
	merged := asynciter.Merge(ctx, sources...)
	parsed := asynciter.MapStream(ctx, merged, parse, asynciter.WithLimit(4), asynciter.WithUnordered())
	failed := asynciter.Filter(parsed, func(e entry) bool { return e.status >= 500 })
	return asynciter.Batch(ctx, failed, 10, 50*time.Millisecond)
}

func run(ctx context.Context) error {
	var read atomic.Int32

	fmt.Println("Three logs of 100 lines, merged, parsed 4 at a time, the server errors in batches of at most 10:")
	batches, errs := 0, 0
	for batch, err := range serverErrors(ctx, source(ctx, "a", 0, &read), source(ctx, "b", 0, &read), source(ctx, "c", 0, &read)) {
		if err != nil {
			return err
		}
		if len(batch) == 0 || len(batch) > 10 {
			return fmt.Errorf("a batch of %d entries", len(batch))
		}
		batches++
		errs += len(batch)
	}
	fmt.Printf("  read %d lines; %d server errors, written in %d batches\n", read.Load(), errs, batches)
	if read.Load() != 3*lines || errs != 3*lines/10 {
		return fmt.Errorf("read %d lines and found %d errors; want %d and %d", read.Load(), errs, 3*lines, 3*lines/10)
	}

	fmt.Println("\nThe same, with a malformed line at line 57 of log b:")
	read.Store(0)
	var got error
	for _, err := range serverErrors(ctx, source(ctx, "a", 0, &read), source(ctx, "b", 57, &read), source(ctx, "c", 0, &read)) {
		if err != nil {
			got = err
			break
		}
	}
	fmt.Println("  the loop got:", got)
	fmt.Printf("  the other logs were stopped, not read to their end: %v\n", read.Load() < 3*lines)
	if got == nil || !strings.Contains(got.Error(), `malformed line "garbage"`) {
		return fmt.Errorf("the loop got %v; want the malformed line", got)
	}

	fmt.Println("\nThe first batch only, then break:")
	read.Store(0)
	for batch, err := range serverErrors(ctx, source(ctx, "a", 0, &read), source(ctx, "b", 0, &read), source(ctx, "c", 0, &read)) {
		if err != nil {
			return err
		}
		fmt.Printf("  a batch of %d; break\n", len(batch))
		break // cancels every stage, and waits for them
	}
	fmt.Printf("  the logs were stopped, not read to their end: %v\n", read.Load() < 3*lines)
	if read.Load() >= 3*lines {
		return errors.New("the sources were read to their end after the break")
	}

	left := goroutinesIn("structured/asynciter.")
	fmt.Printf("\ngoroutines of the pipeline still alive: %d\n", left)
	if left != 0 {
		return fmt.Errorf("%d goroutines of the pipeline outlived their loops", left)
	}
	return nil
}

// goroutinesIn counts the goroutines with a function of pkg on their stack.
// A goroutine that has just been joined may still be returning, so it looks
// a few times before it answers.
func goroutinesIn(pkg string) int {
	buf := make([]byte, 1<<20)
	n := 0
	for range 50 {
		stacks := string(buf[:runtime.Stack(buf, true)])
		n = 0
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, pkg) {
				n++
			}
		}
		if n == 0 {
			return 0
		}
		time.Sleep(time.Millisecond)
	}
	return n
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "pipeline:", err)
		os.Exit(1)
	}
}
