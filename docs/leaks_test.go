package docs_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"
	"strings"

	"github.com/structured-go/structured/nursery"
)

// A task's name is the pprof label "task" on its goroutine: a goroutine
// profile (or the /debug/pprof/goroutine page of net/http/pprof) says which
// task each goroutine belongs to.
func Example_leaksPprofLabels() {
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		running := make(chan struct{})
		n.Go(func(ctx context.Context) error {
			close(running)
			<-ctx.Done() // stuck, say, on a lock
			return nil
		}, nursery.WithName("flush"))
		<-running

		var profile bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&profile, 1)
		for _, line := range strings.Split(profile.String(), "\n") {
			if strings.Contains(line, `"task"`) {
				fmt.Println(line)
			}
		}
		n.Cancel(nil)
		return nil
	})
	// Output: # labels: {"task":"flush"}
}
