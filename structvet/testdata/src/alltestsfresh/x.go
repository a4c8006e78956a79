package alltestsfresh

import (
	"context"
)

func call(ctx context.Context) error { return ctx.Err() }

// Reported: not a test file.
func pause(ctx context.Context) {
	call(context.Background()) // want `SV004`
}
