package sleepctx

import (
	"context"
	"time"
)

func poll(ctx context.Context) {
	time.Sleep(time.Second) // want `^SV003: time.Sleep goes on after ctx is done: use cancel.Sleep\(ctx, d\), which returns as soon as ctx is done$`
}

func inGoroutine(ctx context.Context, d time.Duration) {
	go func() {
		time.Sleep(d) // want `SV003: time.Sleep goes on after ctx is done`
	}()
}

func otherName(parent context.Context) {
	time.Sleep(2 * time.Second) // want `SV003: time.Sleep goes on after parent is done: use cancel.Sleep\(parent, d\)`
}

// Not reported: no context, a short constant pause, a fresh context.
func noCtx() {
	time.Sleep(time.Second)
}

func shortPause(ctx context.Context) {
	for ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

func freshOnly() {
	ctx := context.Background()
	_ = ctx
	time.Sleep(time.Second)
}

func declaredAfter() {
	time.Sleep(time.Second)
	ctx := context.TODO()
	_ = ctx
}

// Not reported: at the sleep, ctx is still the fresh one; it gets a
// deadline only later.
func freshUntilLater() {
	ctx := context.Background()
	time.Sleep(time.Second)
	ctx, stop := context.WithTimeout(ctx, time.Minute)
	defer stop()
	_ = ctx
}

// Reported: this fresh context has a deadline, so it can end.
func deadlineBefore(parent context.Context) {
	ctx, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	time.Sleep(time.Second) // want `SV003: time.Sleep goes on after ctx is done`
	_ = ctx
	_ = parent
}
