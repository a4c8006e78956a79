// Package timeout is a stand-in with the signatures of the real one.
package timeout

import (
	"context"
	"time"
)

func FailAfter(ctx context.Context, d time.Duration, fn func(ctx context.Context) error) error {
	return fn(ctx)
}
