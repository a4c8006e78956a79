package sleepctx

import (
	"context"
	"fmt"
	"time"
)

// The fix removes the import of time, whose only use was the sleep.
func onlyUse(ctx context.Context) {
	fmt.Println("waiting")
	time.Sleep(1e9) // want `SV003`
}
