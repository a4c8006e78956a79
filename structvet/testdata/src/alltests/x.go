package alltests

import (
	"context"
	"time"
)

// Reported: not a test file.
func pause(ctx context.Context) {
	time.Sleep(time.Second) // want `SV003`
}
