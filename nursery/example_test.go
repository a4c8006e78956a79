//go:build go1.25

package nursery_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/structured-go/structured/nursery"
)

func ExampleRun() {
	var mu sync.Mutex
	sizes := map[string]int{}
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for _, name := range []string{"a.txt", "bb.txt", "ccc.txt"} {
			n.Go(func(ctx context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				sizes[name] = len(name)
				return nil
			})
		}
		return nil
	})
	// Run has waited for every task: sizes is complete.
	fmt.Println(err, sizes)
	// Output: <nil> map[a.txt:5 bb.txt:6 ccc.txt:7]
}

// The first failure cancels the siblings, whose context says why; Run
// returns the failure itself, without the siblings' cancellation errors.
func ExampleRun_failure() {
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			<-ctx.Done()
			fmt.Println("sibling cancelled:", context.Cause(ctx))
			return ctx.Err()
		})
		n.Go(func(ctx context.Context) error {
			return errors.New("disk full")
		})
		return nil
	})
	fmt.Println("Run:", err)
	// Output:
	// sibling cancelled: disk full
	// Run: disk full
}

// A panic in a task comes back to Run's caller, after the other tasks have
// returned.
func ExampleRun_panic() {
	defer func() {
		p := recover().(*nursery.PanicError)
		fmt.Println("recovered:", p.Value, "in task", p.Task)
	}()
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error {
			var m map[string]int
			m["x"] = 1 // a bug
			return nil
		}, nursery.WithName("writer"))
		return nil
	})
	// Output: recovered: assignment to entry in nil map in task writer
}

// Start waits until the task is ready, here until a server knows its
// address, and the task then runs on in the nursery.
func ExampleStart() {
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		addr, err := nursery.Start(ctx, n, func(ctx context.Context, started func(string)) error {
			started("127.0.0.1:8080") // e.g. after net.Listen succeeded
			<-ctx.Done()              // serve until the nursery is cancelled
			fmt.Println("server stopped")
			return nil
		})
		if err != nil {
			return err
		}
		fmt.Println("server ready at", addr)
		n.Cancel(nil) // done with the server
		return nil
	})
	fmt.Println("Run:", err)
	// Output:
	// server ready at 127.0.0.1:8080
	// server stopped
	// Run: <nil>
}

func ExampleSpawn() {
	_ = nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		sum := nursery.Spawn(n, func(ctx context.Context) (int, error) { return 1 + 2, nil })
		// ... do other work while the task runs ...
		v, err := sum.Wait(ctx)
		fmt.Println(v, err)
		return nil
	})
	// Output: 3 <nil>
}

func ExampleGather() {
	square := func(x int) func(context.Context) (int, error) {
		return func(ctx context.Context) (int, error) { return x * x, nil }
	}
	values, err := nursery.Gather(context.Background(), square(1), square(2), square(3))
	fmt.Println(values, err)
	// Output: [1 4 9] <nil>
}

func ExampleAllSettled() {
	results, err := nursery.AllSettled(context.Background(),
		func(ctx context.Context) (string, error) { return "ok", nil },
		func(ctx context.Context) (string, error) { return "", errors.New("not found") },
	)
	for _, r := range results {
		fmt.Printf("%q %v\n", r.Value, r.Err)
	}
	fmt.Println(err)
	// Output:
	// "ok" <nil>
	// "" not found
	// <nil>
}

// Race takes the first success and cancels the rest.
func ExampleRace() {
	primary := func(ctx context.Context) (string, error) {
		<-ctx.Done() // too slow: cancelled once the backup has won
		return "", ctx.Err()
	}
	backup := func(ctx context.Context) (string, error) { return "from backup", nil }
	failing := func(ctx context.Context) (string, error) { return "", errors.New("refused") }

	v, err := nursery.Race(context.Background(), primary, failing, backup)
	fmt.Println(v, err)
	// Output: from backup <nil>
}

// AsCompleted yields results as they finish; breaking out of the loop would
// cancel the rest and wait for them.
func ExampleAsCompleted() {
	gate := make(chan struct{})
	slow := func(ctx context.Context) (string, error) {
		<-gate
		return "slow", nil
	}
	fast := func(ctx context.Context) (string, error) { return "fast", nil }

	for i, r := range nursery.AsCompleted(context.Background(), slow, fast) {
		fmt.Println(i, r.Value, r.Err)
		if i == 1 {
			close(gate) // let the slow one finish
		}
	}
	// Output:
	// 1 fast <nil>
	// 0 slow <nil>
}
