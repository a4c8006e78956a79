//go:build go1.25

package docs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/structured-go/structured/nursery"
)

func writeAudit(ctx context.Context, event string) error { return ctx.Err() }

// Start tasks now, wait for their results later: Spawn for a value,
// n.Spawn for a task that returns only an error.
func Example_spawn() {
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		u := nursery.Spawn(n, func(ctx context.Context) (user, error) { return loadUser(ctx, 42) })
		audit := n.Spawn(func(ctx context.Context) error { return writeAudit(ctx, "viewed 42") })

		// ... other work, while both tasks run ...

		got, err := u.Wait(ctx)
		if err != nil {
			return err
		}
		fmt.Println("user:", got.name)
		_, err = audit.Wait(ctx)
		return err
	})
	fmt.Println("Run:", err)
	// Output:
	// user: ada
	// Run: <nil>
}

// One task alone can be cancelled, with a cause. Its echo of that
// cancellation is not a failure of the nursery; Wait still returns it.
func Example_spawnCancel() {
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		prefetch := nursery.Spawn(n, func(ctx context.Context) (string, error) {
			<-ctx.Done() // a slow prefetch
			fmt.Println("prefetch stopped:", context.Cause(ctx))
			return "", ctx.Err()
		})
		prefetch.Cancel(errors.New("the user went elsewhere"))
		_, err := prefetch.Wait(ctx)
		fmt.Println("Wait:", err)
		return nil
	})
	fmt.Println("Run:", err)
	// Output:
	// prefetch stopped: the user went elsewhere
	// Wait: context canceled
	// Run: <nil>
}

// A task nobody waits on cannot lose its error: the nursery waits for it,
// and its failure is Run's.
func Example_spawnNeverAwaited() {
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Spawn(func(ctx context.Context) error {
			return errors.New("refresh cache: connection refused")
		}, nursery.WithName("refresh"))
		return nil // nobody calls Wait: Run waits all the same
	})
	fmt.Println(err)
	// Output: task "refresh": refresh cache: connection refused
}

// Wait gives up when its own ctx does; the task goes on, in the nursery.
func Example_spawnWaitDone() {
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		release := make(chan struct{})
		report := nursery.Spawn(n, func(ctx context.Context) (string, error) {
			<-release
			return "report ready", nil
		})
		select {
		case <-report.Done():
			fmt.Println("ready at once?")
		default:
			fmt.Println("not ready yet; carrying on")
		}
		close(release)
		v, err := report.Wait(ctx)
		fmt.Println(v, err)
		return nil
	})
	fmt.Println("Run:", err)
	// Output:
	// not ready yet; carrying on
	// report ready <nil>
	// Run: <nil>
}

// store stands for saving an item somewhere slow.
func store(ctx context.Context, mu *sync.Mutex, saved *[]string, item string) error {
	mu.Lock()
	defer mu.Unlock()
	*saved = append(*saved, item)
	return ctx.Err()
}

// runSaver runs fn with a save function whose saves happen in the
// background, at most 2 at once, and returns once fn has returned and
// every save has finished: the shape of a helper that, with errgroup,
// returned a group for its caller to Wait on later.
func runSaver(ctx context.Context, saved *[]string, fn func(ctx context.Context, save func(item string)) error) error {
	var mu sync.Mutex
	return nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		save := func(item string) {
			n.Go(func(ctx context.Context) error { return store(ctx, &mu, saved, item) })
		}
		return fn(ctx, save)
	}, nursery.WithLimit(2))
}

// The callback shape: the saver's tasks live inside the call of runSaver,
// and its caller's work runs in fn.
func Example_spawnCallbackShape() {
	var saved []string
	err := runSaver(context.Background(), &saved, func(ctx context.Context, save func(item string)) error {
		for _, item := range []string{"a", "b", "c"} {
			save(item) // returns at once, or waits while 2 saves run
		}
		return nil
	})
	slices.Sort(saved)
	fmt.Println(saved, err)
	// Output: [a b c] <nil>
}

// startSaver is the trap: it hands out its nursery, to be used after Run
// has returned.
func startSaver(ctx context.Context) *nursery.Nursery {
	var saver *nursery.Nursery
	_ = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		saver = n // the nursery escapes its Run: structvet's SV005
		return nil
	})
	return saver // Run has returned: the nursery is closed
}

func Example_spawnTrapEscapedNursery() {
	saver := startSaver(context.Background())
	defer func() {
		err := recover().(error)
		fmt.Println(errors.Is(err, nursery.ErrClosed), err)
	}()
	saver.Go(func(ctx context.Context) error { return nil }) // panics: nobody would wait for it
	// Output: true nursery: Go called after Run returned: nursery: closed
}
