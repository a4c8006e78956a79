package sleepctx

import (
	"context"
	"time"
)

// The fix must not use the name cancel: it is the CancelFunc here.
func shadowed(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	time.Sleep(time.Minute) // want `SV003`
	_ = ctx
}
