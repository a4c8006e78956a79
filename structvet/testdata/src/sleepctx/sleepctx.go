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

// Not reported: the function made the context itself, as a watchdog, and
// only it calls stop: nothing but the deadline ends it while it sleeps.
func watchdog() {
	ctx, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	time.Sleep(time.Second)
	_ = ctx
}

func watchdogThroughAVariable() {
	base := context.Background()
	ctx, stop := context.WithTimeout(base, time.Minute)
	time.Sleep(time.Second)
	stop()
	_ = ctx
}

func pacing(items []int) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	for range items {
		time.Sleep(200 * time.Millisecond)
	}
	_ = ctx
}

// Not reported: a spinner's pause.
func spinner(done func() bool) {
	ctx := context.TODO()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	for !done() {
		time.Sleep(100 * time.Millisecond)
	}
	_ = ctx
}

// Reported: something else can call stop while the function sleeps.
func stopHandedOn(onSignal func(func())) {
	ctx, stop := context.WithCancel(context.Background())
	onSignal(stop)
	time.Sleep(time.Second) // want `SV003: time.Sleep goes on after ctx is done`
	_ = ctx
}

func stopInAGoroutine(quit <-chan struct{}) {
	ctx, stop := context.WithCancel(context.Background())
	go func() {
		<-quit
		stop()
	}()
	time.Sleep(time.Second) // want `SV003: time.Sleep goes on after ctx is done`
	_ = ctx
}

// Reported: the goroutine sleeps while the function that made the context
// may cancel it.
func sleepsInItsGoroutine() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		time.Sleep(time.Second) // want `SV003: time.Sleep goes on after ctx is done`
		_ = ctx
	}()
}

// Reported: a context derived from the caller's is the caller's.
func derived(parent context.Context) {
	ctx, stop := context.WithTimeout(parent, time.Minute)
	defer stop()
	_ = ctx
	time.Sleep(time.Second) // want `SV003: time.Sleep goes on after ctx is done`
}
