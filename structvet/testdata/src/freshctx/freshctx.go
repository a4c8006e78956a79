package freshctx

import "context"

func call(ctx context.Context) error { return nil }

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
