//go:build go1.25

package docs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"strings"
	"sync"

	"go.uber.org/goleak"

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

// uploadAll is the trap: a return between starting the goroutines and
// waiting for them. On that path the uploads go on after uploadAll has
// returned, with nobody to wait for them or see their errors.
func uploadAll(ctx context.Context, layers []string, check func() error, upload func(string)) error {
	var wg sync.WaitGroup
	for _, l := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			upload(l)
		}()
	}
	if err := check(); err != nil {
		return err // structvet: SV001: the uploads go on after this return
	}
	wg.Wait()
	return nil
}

func Example_leaksTrapEarlyReturn() {
	before := goleak.IgnoreCurrent()
	release := make(chan struct{})
	upload := func(string) { <-release } // slow uploads
	err := uploadAll(context.Background(), []string{"l1", "l2"}, func() error { return errors.New("manifest: bad media type") }, upload)
	fmt.Println(err)
	leaks := goleak.Find(before)
	fmt.Println("goroutines still uploading after uploadAll returned:", strings.Count(fmt.Sprint(leaks), "uploadAll.func1"))
	close(release) // the clean-up the trap never does
	// Output:
	// manifest: bad media type
	// goroutines still uploading after uploadAll returned: 2
}
