package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/pool"
	"github.com/sourcegraph/conc/stream"

	"github.com/structured-go/structured/asynciter"
	"github.com/structured-go/structured/nursery"
)

// resize makes a thumbnail of an image, and fails for a broken one.
func resize(ctx context.Context, img string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if strings.HasPrefix(img, "broken") {
		return "", fmt.Errorf("%s: not a JPEG", img)
	}
	return "thumb-" + img, nil
}

// resizeAllConc resizes images 4 at a time with a conc pool.
func resizeAllConc(ctx context.Context, images []string) ([]string, error) {
	p := pool.NewWithResults[string]().WithContext(ctx).WithCancelOnError().WithFirstError().WithMaxGoroutines(4)
	for _, img := range images {
		p.Go(func(ctx context.Context) (string, error) {
			return resize(ctx, img)
		})
	}
	return p.Wait()
}

// resizeAll resizes them with a nursery.
func resizeAll(ctx context.Context, images []string) ([]string, error) {
	return nursery.Map(ctx, images, func(ctx context.Context, img string) (string, error) {
		return resize(ctx, img)
	}, nursery.WithLimit(4))
}

// The pool before and after. conc's results come in the order the tasks
// finished (sorted here to print them); nursery.Map's in the order of the
// images. Both stop at the first failure and return it.
func Example_concPool() {
	ctx := context.Background()
	images := []string{"c.jpg", "a.jpg", "b.jpg"}

	thumbs, err := resizeAllConc(ctx, images)
	slices.Sort(thumbs)
	fmt.Println("conc:   ", thumbs, err)
	thumbs, err = resizeAll(ctx, images)
	fmt.Println("nursery:", thumbs, err)

	_, err = resizeAllConc(ctx, []string{"a.jpg", "broken.jpg"})
	fmt.Println("conc:   ", err)
	_, err = resizeAll(ctx, []string{"a.jpg", "broken.jpg"})
	fmt.Println("nursery:", err)
	// Output:
	// conc:    [thumb-a.jpg thumb-b.jpg thumb-c.jpg] <nil>
	// nursery: [thumb-c.jpg thumb-a.jpg thumb-b.jpg] <nil>
	// conc:    broken.jpg: not a JPEG
	// nursery: broken.jpg: not a JPEG
}

// conc.WaitGroup is nursery.Run without a ctx or errors: the tasks are
// waited for, and a panic is re-raised in the caller, as Run does (with
// *nursery.PanicError, which keeps the task's stack).
func Example_concWaitGroup() {
	var mu sync.Mutex
	var warmed []string
	warm := func(cache string) {
		mu.Lock()
		defer mu.Unlock()
		warmed = append(warmed, cache)
	}

	// Before: conc.
	var wg conc.WaitGroup
	for _, c := range []string{"users", "orders"} {
		wg.Go(func() { warm(c) })
	}
	wg.Wait()

	// After: nursery.
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		for _, c := range []string{"users", "orders"} {
			n.Go(func(ctx context.Context) error { warm(c); return nil })
		}
		return nil
	})
	slices.Sort(warmed)
	fmt.Println(warmed, err)
	// Output: [orders orders users users] <nil>
}

// conc's stream runs tasks at once and their callbacks in order; so does
// asynciter.Map, with a range loop for the callbacks. It also stops at the
// first error, which a stream's task cannot return.
func Example_concStream() {
	lines := []string{"GET /", "POST /login", "GET /about"}
	method := func(line string) string { m, _, _ := strings.Cut(line, " "); return m }

	// Before: conc's stream.
	s := stream.New().WithMaxGoroutines(2)
	for _, line := range lines {
		s.Go(func() stream.Callback {
			m := method(line)
			return func() { fmt.Println("conc:", m) }
		})
	}
	s.Wait()

	// After: asynciter.Map.
	ctx := context.Background()
	methodCtx := func(ctx context.Context, line string) (string, error) { return method(line), nil }
	for m, err := range asynciter.Map(ctx, slices.Values(lines), methodCtx, asynciter.WithLimit(2)) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println("asynciter:", m)
	}
	// Output:
	// conc: GET
	// conc: POST
	// conc: GET
	// asynciter: GET
	// asynciter: POST
	// asynciter: GET
}

// conc's iter.MapErr runs every item and joins the errors; nursery.Map
// stops at the first; nursery.MapSettled runs every item and keeps each
// outcome.
func Example_concMapErr() {
	ctx := context.Background()
	images := []string{"a.jpg", "broken-1.jpg", "broken-2.jpg"}
	results, err := nursery.MapSettled(ctx, images, resize, nursery.WithLimit(2))
	for i, r := range results {
		fmt.Println(images[i], "->", r.Value, r.Err)
	}
	fmt.Println("MapSettled's own error:", err)
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	fmt.Println("joined, as MapErr does:", errors.Join(errs...) != nil)
	// Output:
	// a.jpg -> thumb-a.jpg <nil>
	// broken-1.jpg ->  broken-1.jpg: not a JPEG
	// broken-2.jpg ->  broken-2.jpg: not a JPEG
	// MapSettled's own error: <nil>
	// joined, as MapErr does: true
}
