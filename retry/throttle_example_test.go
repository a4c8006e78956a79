//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/structured-go/structured/retry"
)

// A downstream that refuses most calls: the throttle refuses them on the
// client's side instead, and spares the downstream the work of refusing.
func ExampleNewThrottle() {
	th := retry.NewThrottle(2, time.Minute) // the book's k of 2
	reached := 0
	for range 1000 {
		_ = th.Do(context.Background(), func(ctx context.Context) error {
			reached++
			return errors.New("429 Too Many Requests")
		})
	}
	fmt.Println("of 1000 calls, fewer than 30 reached the downstream:", reached < 30)
	fmt.Printf("refusing %.3f of the calls now\n", th.RefuseProbability())
	// Output:
	// of 1000 calls, fewer than 30 reached the downstream: true
	// refusing 0.999 of the calls now
}
