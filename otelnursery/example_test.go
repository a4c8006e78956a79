package otelnursery_test

import (
	"context"
	"errors"
	"fmt"
	"sort"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/otelnursery"
)

// A span per nursery and per task, under the request's span: the failing
// task and the nursery with status Error, the task it cancelled Unset and
// linked to it.
func ExampleObserver() {
	spans := tracetest.NewSpanRecorder() // in a program: an exporter to a collector
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())
	obs := otelnursery.Observer(otelnursery.WithTracerProvider(tp))

	ctx, request := tp.Tracer("app").Start(context.Background(), "GET /report")
	_ = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, nursery.WithName("fetch-orders"))
		n.Go(func(ctx context.Context) error { return errors.New("quota exceeded") }, nursery.WithName("fetch-users"))
		return nil
	}, nursery.WithName("report"), nursery.WithObserver(obs))
	request.End()

	var lines []string
	for _, s := range spans.Ended() {
		lines = append(lines, fmt.Sprintf("%s: %s, %d link(s)", s.Name(), s.Status().Code, len(s.Links())))
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// GET /report: Unset, 0 link(s)
	// fetch-orders: Unset, 1 link(s)
	// fetch-users: Error, 0 link(s)
	// nursery report: Error, 0 link(s)
}
