package cancel

import (
	"context"
	"time"
)

// Sleep pauses for d, or until ctx is done. It returns nil after the full
// d, and context.Cause(ctx) if ctx ended first (also when it was already done,
// even for a d of zero or less).
func Sleep(ctx context.Context, d time.Duration) error {
	if ctx == nil {
		panic("cancel: Sleep called with a nil context")
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// SleepUntil is Sleep until t.
func SleepUntil(ctx context.Context, t time.Time) error {
	return Sleep(ctx, time.Until(t))
}
