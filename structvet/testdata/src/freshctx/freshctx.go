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
