//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.uber.org/goleak"

	"github.com/structured-go/structured/asynciter"
	"github.com/structured-go/structured/nursery"
)

// A panic in a stage behind the loop comes back in the loop's goroutine,
// as a *nursery.PanicError, once every stage has stopped.
func Example_iterPanic() {
	defer func() {
		p := recover().(*nursery.PanicError)
		fmt.Println("the loop's goroutine recovers:", p.Value)
	}()
	ctx := context.Background()
	parse := func(ctx context.Context, s string) (int, error) {
		if s == "x" {
			panic("parse: unexpected x") // a bug
		}
		return len(s), nil
	}
	for n, err := range asynciter.Map(ctx, slices.Values([]string{"a", "bb", "x"}), parse, asynciter.WithLimit(1)) {
		if err != nil {
			return
		}
		fmt.Println(n)
	}
	// Output:
	// 1
	// 2
	// the loop's goroutine recovers: parse: unexpected x
}

// numbers is the trap: a generator made of a goroutine and a channel. When
// its consumer stops early, the goroutine blocks on its send for ever.
func numbers(ctx context.Context) <-chan int {
	ch := make(chan int)
	go func() {
		defer close(ch)
		for i := range 1000 {
			ch <- i // structvet: SV007: no select on ctx.Done()
		}
	}()
	return ch
}

func Example_iterTrapChannelGenerator() {
	before := goleak.IgnoreCurrent()
	ctx := context.Background()
	ch := numbers(ctx)
	for v := range ch {
		if v == 3 {
			break // the producer is left blocked on its next send
		}
	}
	leaks := goleak.Find(before)
	fmt.Println("goroutines left blocked on a send:", strings.Count(fmt.Sprint(leaks), "in state chan send"))
	for range ch { // the clean-up the trap never does: drain it
	}
	// Output: goroutines left blocked on a send: 1
}

// lines is another package's producer: it sends on a channel and closes
// it, and does not watch ctx, as many do.
func lines(n int) (<-chan string, <-chan struct{}) {
	ch := make(chan string)
	finished := make(chan struct{})
	go func() {
		defer close(ch)       // last: whoever sees the channel closed finds finished closed
		defer close(finished) // first
		for i := range n {
			ch <- fmt.Sprintf("line %d", i) // no select on ctx.Done()
		}
	}()
	return ch, finished
}

// The trap: cancelling is not draining. Map stops reading its input when
// a call fails; the producer behind the channel is left blocked in its
// send.
func Example_iterTrapUpstreamIgnoresCtx() {
	before := goleak.IgnoreCurrent()
	ctx := context.Background()
	ch, finished := lines(1000)
	in := func(yield func(string) bool) { // ranges over the channel
		for l := range ch {
			if !yield(l) {
				return
			}
		}
	}
	parse := func(ctx context.Context, l string) (int, error) {
		if l == "line 3" {
			return 0, errors.New("line 3: malformed")
		}
		return len(l), nil
	}
	for _, err := range asynciter.Map(ctx, in, parse, asynciter.WithLimit(2)) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
	}
	leaks := goleak.Find(before)
	fmt.Println("producers left blocked in a send:", strings.Count(fmt.Sprint(leaks), "in state chan send"))
	for range ch { // the clean-up the trap never does: drain it
	}
	<-finished
	// Output:
	// error: line 3: malformed
	// producers left blocked in a send: 1
}

// The way out: read the channel with FromChan and DrainOnStop. When Map
// stops reading, FromChan drains the channel until the producer closes it,
// and the loop statement finishes after the producer has.
func Example_iterDrainUpstream() {
	ctx := context.Background()
	//structvet:ignore SV002 FromChan with DrainOnStop reads ch until the producer closes it, before the loop statement ends
	ch, finished := lines(1000)
	parse := func(ctx context.Context, l string) (int, error) {
		if l == "line 3" {
			return 0, errors.New("line 3: malformed")
		}
		return len(l), nil
	}
	in := asynciter.FromChan(ctx, ch, asynciter.DrainOnStop)
	for _, err := range asynciter.MapStream(ctx, in, parse, asynciter.WithLimit(2)) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
	}
	select {
	case <-finished:
		fmt.Println("the producer has finished")
	default:
		fmt.Println("the producer is still blocked")
	}
	// Output:
	// error: line 3: malformed
	// the producer has finished
}

// A stream that must go on past failures carries them as values.
func Example_iterSettled() {
	ctx := context.Background()
	fetch := func(ctx context.Context, url string) (int, error) {
		if url == "/missing" {
			return 404, errors.New("GET /missing: 404 Not Found")
		}
		return 200, nil
	}
	urls := slices.Values([]string{"/", "/missing", "/about"})
	for r, err := range asynciter.Map(ctx, urls, asynciter.Settled(fetch), asynciter.WithLimit(2)) {
		if err != nil {
			fmt.Println("the stream ended:", err) // ctx ended, or the input failed
			return
		}
		if r.Err != nil {
			fmt.Println("failed:", r.Err) // this URL failed; the others go on
			continue
		}
		fmt.Println(r.Value)
	}
	// Output:
	// 200
	// failed: GET /missing: 404 Not Found
	// 200
}
