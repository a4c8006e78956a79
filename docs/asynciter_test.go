package docs_test

import (
	"context"
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
