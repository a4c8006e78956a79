//go:build go1.25

package nursery_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/structured-go/structured/nursery"
)

// A Run that waits too long says which tasks it waits for: here a body that
// returned without closing the channel its workers wait on. (In the example
// the log handler, once it has written the report, does what the body
// forgot, so that the example ends.)
func ExampleWithStuckReport() {
	jobs := make(chan int)
	text := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case "msg": // keep the example's output stable: no paths, no ages
				msg := a.Value.String()
				return slog.String("msg", msg[:strings.Index(msg, " at ")])
			case "open", "level":
				return a
			}
			return slog.Attr{}
		},
	})
	logger := slog.New(afterHandler{Handler: text, after: func() { close(jobs) }})
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for i := range 2 {
			n.Go(func(ctx context.Context) error {
				for range jobs {
				}
				return nil
			}, nursery.WithName(fmt.Sprintf("worker-%d", i)))
		}
		return nil // forgot close(jobs): Run waits for the workers
	}, nursery.WithStuckReport(10*time.Millisecond, logger))
	// Output: level=WARN msg="nursery: Run" open=2
}

// afterHandler runs after once it has handled a record.
type afterHandler struct {
	slog.Handler
	after func()
}

func (h afterHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	h.after()
	return err
}

// Tree returns the tracked nurseries that are running, nested as they are
// run, each with its open tasks: what a health check or a test can look at
// (WriteTree and TreeHandler print the same).
func ExampleTree() {
	ready, release := make(chan struct{}), make(chan struct{})
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			return nursery.Run(ctx, func(ctx context.Context, inner *nursery.Nursery) error {
				inner.Go(func(ctx context.Context) error { close(ready); <-release; return nil }, nursery.WithName("chunk 1"))
				return nil
			}, nursery.WithName("upload"))
		}, nursery.WithName("uploader"))
		<-ready
		for _, root := range nursery.Tree() {
			fmt.Printf("%s: %d open task(s)\n", root.Name, len(root.Tasks))
			for _, child := range root.Children {
				fmt.Printf("  %s: %d open task(s), the first %q\n", child.Name, len(child.Tasks), child.Tasks[0].Name)
			}
		}
		close(release)
		return nil
	}, nursery.WithName("backup"), nursery.WithTracking())
	// Output:
	// backup: 1 open task(s)
	//   upload: 1 open task(s), the first "chunk 1"
}

// WriteTree shows what tracked nurseries are running, and their open tasks:
// for a signal handler, a test that times out, or, served by TreeHandler, a
// debug endpoint beside net/http/pprof.
func ExampleWriteTree() {
	ready, release := make(chan struct{}), make(chan struct{})
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { close(ready); <-release; return nil }, nursery.WithName("uploader"))
		<-ready
		var b strings.Builder
		_ = nursery.WriteTree(&b)
		// Keep the output stable: the first words of each line.
		for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
			fields := strings.Fields(line)
			fmt.Println(strings.Join(fields[:2], " "))
		}
		close(release)
		return nil
	}, nursery.WithName("backup"), nursery.WithTracking())
	// Output:
	// nursery "backup"
	// task "uploader"
}
