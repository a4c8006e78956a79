package otelnursery_test

// The cost of the spans, beside the same spans started by hand: each
// iteration runs both contenders (in turns, first one then the other),
// times each, and reports the median of their ratio in the same iteration,
// so that the machine's noise falls on both alike.
//
//	go test -run '^$' -bench . -count 6 ./otelnursery/

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/otelnursery"
)

const tasks = 100

func nop(context.Context) error { return nil }

// byHand is a nursery whose span and whose tasks' spans are started by hand.
func byHand(ctx context.Context, tracer trace.Tracer) {
	ctx, span := tracer.Start(ctx, "nursery")
	_ = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for range tasks {
			n.Go(func(ctx context.Context) error {
				_, s := tracer.Start(ctx, "task")
				defer s.End()
				return nil
			})
		}
		return nil
	})
	span.End()
}

// observed is the same nursery, its spans made by the Observer.
func observed(ctx context.Context, obs nursery.Observer) {
	_ = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for range tasks {
			n.Go(nop)
		}
		return nil
	}, nursery.WithObserver(obs))
}

// plain is the same nursery without spans.
func plain(ctx context.Context) {
	_ = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		for range tasks {
			n.Go(nop)
		}
		return nil
	})
}

func pair(b *testing.B, a, c func()) (ta, tc []time.Duration) {
	for i := 0; i < b.N; i++ {
		first, second := a, c
		if i%2 == 1 {
			first, second = c, a
		}
		t0 := time.Now()
		first()
		t1 := time.Now()
		second()
		t2 := time.Now()
		if i%2 == 0 {
			ta, tc = append(ta, t1.Sub(t0)), append(tc, t2.Sub(t1))
		} else {
			ta, tc = append(ta, t2.Sub(t1)), append(tc, t1.Sub(t0))
		}
	}
	return ta, tc
}

func report(b *testing.B, names [2]string, ta, tc []time.Duration) {
	rs := make([]float64, len(ta))
	var sa, sc time.Duration
	for i := range ta {
		rs[i] = float64(ta[i]) / float64(tc[i])
		sa += ta[i]
		sc += tc[i]
	}
	slices.Sort(rs)
	b.ReportMetric(rs[len(rs)/2], names[0]+"/"+names[1])
	b.ReportMetric(float64(sa.Nanoseconds())/float64(b.N*tasks), names[0]+"-ns/task")
	b.ReportMetric(float64(sc.Nanoseconds())/float64(b.N*tasks), names[1]+"-ns/task")
	b.ReportMetric(float64((sa-sc).Nanoseconds())/float64(b.N*tasks), "extra-ns/task")
}

// BenchmarkSampled: every span recorded (a span processor that drops them),
// the Observer's spans beside the same spans by hand.
func BenchmarkSampled(b *testing.B) {
	ctx, tracer, obs := sampled(b)
	ta, tc := pair(b, func() { observed(ctx, obs) }, func() { byHand(ctx, tracer) })
	report(b, [2]string{"observer", "byhand"}, ta, tc)
}

// BenchmarkUnsampled: under a parent that is not sampled, the Observer
// beside no Observer at all: what it costs a task to learn that it makes
// no span.
func BenchmarkUnsampled(b *testing.B) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	defer tp.Shutdown(context.Background())
	obs := otelnursery.Observer(otelnursery.WithTracerProvider(tp))
	ctx, root := tp.Tracer("bench").Start(context.Background(), "root")
	defer root.End()
	ta, tc := pair(b, func() { observed(ctx, obs) }, func() { plain(ctx) })
	report(b, [2]string{"observer", "none"}, ta, tc)
}

// BenchmarkUnsampledAllocs: allocations per task under an unsampled
// parent, the Observer's beyond a nursery's own.
func BenchmarkUnsampledAllocs(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	defer tp.Shutdown(context.Background())
	obs := otelnursery.Observer(otelnursery.WithTracerProvider(tp))
	ctx, root := tp.Tracer("bench").Start(context.Background(), "root")
	defer root.End()
	allocs(b, map[string]func(){"none": func() { plain(ctx) }, "observer": func() { observed(ctx, obs) }})
}

// BenchmarkSampledAllocs: allocations per task with every span sampled,
// the Observer's spans beside the same spans by hand.
func BenchmarkSampledAllocs(b *testing.B) {
	ctx, tracer, obs := sampled(b)
	allocs(b, map[string]func(){"byhand": func() { byHand(ctx, tracer) }, "observer": func() { observed(ctx, obs) }})
}

// sampled makes, for b, a provider that samples every span and drops it
// when it ends, its tracer, an Observer of it, and the context of a root
// span that ends with b.
func sampled(b *testing.B) (context.Context, trace.Tracer, nursery.Observer) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(discard{}), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	tracer := tp.Tracer("bench")
	ctx, root := tracer.Start(context.Background(), "root")
	b.Cleanup(func() {
		root.End()
		_ = tp.Shutdown(context.Background())
	})
	return ctx, tracer, otelnursery.Observer(otelnursery.WithTracerProvider(tp))
}

// allocs reports the allocations of each contender, in sub-benchmarks
// named in order.
func allocs(b *testing.B, contenders map[string]func()) {
	for _, name := range slices.Sorted(maps.Keys(contenders)) {
		run := contenders[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				run()
			}
		})
	}
}

type discard struct{}

func (discard) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discard) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discard) Shutdown(context.Context) error                  { return nil }
func (discard) ForceFlush(context.Context) error                { return nil }

// BenchmarkFrameUnderEnd: why the Observer keeps its frames small. An
// Observer that only starts and ends each task's span, with PAD bytes of
// frames more under span.End, beside the spans by hand: the span's End
// runs on the task's fresh goroutine, whose stack grows (and is copied)
// for every byte it has no room for.
func BenchmarkFrameUnderEnd(b *testing.B) {
	ctx, tracer, _ := sampled(b)
	for _, k := range []int{0, 1, 4, 8} {
		b.Run("PAD="+strconv.Itoa(k*256), func(b *testing.B) {
			ta, tc := pair(b, func() { observed(ctx, padObserver{tracer, k}) }, func() { byHand(ctx, tracer) })
			report(b, [2]string{"padded", "byhand"}, ta, tc)
		})
	}
}

// padObserver starts a span for each task, and ends it under k frames of
// 256 bytes.
type padObserver struct {
	tracer trace.Tracer
	k      int
}

func (p padObserver) NurseryStarted(ctx context.Context, _ *nursery.NurseryEvent) (context.Context, bool) {
	return ctx, true
}
func (p padObserver) NurseryEnded(context.Context, *nursery.NurseryEvent, error) {}
func (p padObserver) TaskStarted(ctx context.Context, _ *nursery.TaskEvent) context.Context {
	ctx, _ = p.tracer.Start(ctx, "task")
	return ctx
}
func (p padObserver) TaskEnded(ctx context.Context, _ *nursery.TaskEvent, _ nursery.TaskResult) {
	endUnder(trace.SpanFromContext(ctx), p.k)
}

var padSink byte

// endUnder ends s under k frames of 256 bytes.
//
//go:noinline
func endUnder(s trace.Span, k int) {
	if k <= 0 {
		s.End()
		return
	}
	pad256(s, k)
}

//go:noinline
func pad256(s trace.Span, k int) {
	var a [256]byte
	a[k%256] = 1
	padSink += a[(k*7)%256]
	endUnder(s, k-1)
}
