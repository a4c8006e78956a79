package freshctx

import (
	"context"
	"runtime/pprof"
)

func call(ctx context.Context) error { return ctx.Err() }

func cut(ctx context.Context) error {
	return call(context.Background()) // want `^SV004: context.Background\(\) cuts the chain of cancellation from ctx: pass ctx, or context.WithoutCancel\(ctx\) for work that must outlive it$`
}

func todo(parent context.Context) {
	call(context.TODO()) // want `SV004: context.TODO\(\) cuts the chain of cancellation from parent`
}

func inGoroutine(ctx context.Context) {
	go func() {
		call(context.Background()) // want `SV004`
	}()
}

func shadowing(ctx context.Context) {
	ctx, stop := context.WithCancel(context.Background()) // want `SV004`
	defer stop()
	call(ctx)
}

// Not reported.
func noCtx() {
	call(context.Background())
}

func nilDefault(ctx context.Context) {
	if ctx == nil {
		ctx = context.Background()
	}
	call(ctx)
}

func compared(ctx context.Context) bool {
	return ctx != context.Background()
}

func freshInScope() {
	ctx := context.Background()
	call(ctx)
	call(context.TODO())
}

func declaredNil() {
	var ctx context.Context
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	call(ctx)
}

func detached(ctx context.Context) {
	call(context.WithoutCancel(ctx))
}

type server interface {
	Shutdown(ctx context.Context) error
}

func shutdownAfterDone(ctx context.Context, srv server) {
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
}

func finalReport(ctx context.Context, events <-chan int) {
	for {
		select {
		case <-events:
			continue
		case <-ctx.Done():
		}
		break
	}
	report, stop := context.WithTimeout(context.Background(), 1)
	defer stop()
	call(report)
}

// Reported: the wait is another function's.
func waitIsAnotherFunctions(ctx context.Context) {
	go func() { <-ctx.Done() }()
	call(context.Background()) // want `SV004`
}

// Not reported: a context derived from a fresh one is fresh too, through
// a variable as well.
func derivedFresh(items []int) {
	base := context.Background()
	ctx, stop := context.WithTimeout(base, 1)
	defer stop()
	call(ctx)
	call(context.Background())
}

func derivedTwice() {
	ctx, stop := context.WithTimeout(context.Background(), 1)
	defer stop()
	ctx = context.WithValue(ctx, key{}, 1)
	call(ctx)
	call(context.Background())
}

type key struct{}

// Not reported: the callee does not use the context, or logs.
func ignores(ctx context.Context, msg string) {}

type logger interface {
	Printf(ctx context.Context, format string, args ...any)
	Infof(ctx context.Context, format string, args ...any)
}

func logs(ctx context.Context, log logger) {
	ignores(context.Background(), "hello")
	log.Printf(context.Background(), "starting")
	log.Infof(context.TODO(), "started")
	call(ctx)
}

// Reported: the callee uses it, and this logger's method is not a log
// line.
type store interface {
	Printf(ctx context.Context, format string, args ...any)
	Print(ctx context.Context) error
}

func notALogger(ctx context.Context, s store) {
	s.Printf(context.Background(), "x") // want `SV004`
}

// Not reported: the function chooses, on purpose, which context its
// callers get.
type options struct{ detach bool }

func contextFor(ctx context.Context, o options) context.Context {
	if o.detach {
		return context.Background()
	}
	return ctx
}

// Reported: every path returns a fresh context.
func alwaysFresh(ctx context.Context) context.Context {
	return context.Background() // want `SV004`
}

// Not reported: a context derived, as a second result, from a fresh one.
type group struct{}

func withGroup(ctx context.Context) (*group, context.Context) { return &group{}, ctx }

func freshGroup() {
	g, ctx := withGroup(context.Background())
	_ = g
	call(ctx)
	call(context.Background())
}

// Not reported: the callee reads the context's values, not its
// cancellation (runtime/pprof's SetGoroutineLabels too).
func labels(ctx context.Context) string {
	s, _ := ctx.Value(key{}).(string)
	return s
}

func resetLabels(ctx context.Context) {
	_ = labels(ctx)
	defer pprof.SetGoroutineLabels(context.Background())
	_ = labels(context.Background())
}
