package otelnursery_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/structured-go/structured/nursery"
	"github.com/structured-go/structured/otelnursery"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errBroke = errors.New("broke")

func recorder(sampler sdktrace.Sampler) (*tracetest.SpanRecorder, trace.Tracer, nursery.Observer, func()) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sampler))
	return rec, tp.Tracer("test"), otelnursery.Observer(otelnursery.WithTracerProvider(tp)), func() { _ = tp.Shutdown(context.Background()) }
}

func attr(s sdktrace.ReadOnlySpan, key string) attribute.Value {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value
		}
	}
	return attribute.Value{}
}

// A span per nursery and per task, children of their nursery's, ended
// before it; the failing task and the nursery Error with the error recorded
// once each; the cancelled sibling Unset, linked to the failing task's span.
func TestSpansFollowTheStructure(t *testing.T) {
	rec, tracer, obs, shutdown := recorder(sdktrace.AlwaysSample())
	defer shutdown()
	ctx, root := tracer.Start(context.Background(), "request")
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { return nil }, nursery.WithName("ok"))
		n.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, nursery.WithName("echo"))
		n.Go(func(ctx context.Context) error { return errBroke }, nursery.WithName("fails"))
		n.Go(func(ctx context.Context) error {
			return nursery.Run(ctx, func(ctx context.Context, m *nursery.Nursery) error {
				m.Go(func(ctx context.Context) error { return nil })
				return nil
			}, nursery.WithName("inner"))
		}, nursery.WithName("holder"))
		return nil
	}, nursery.WithName("outer"), nursery.WithObserver(obs))
	root.End()
	if !errors.Is(err, errBroke) {
		t.Fatalf("Run() = %v", err)
	}
	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		spans[s.Name()] = s
	}
	outer, inner := spans["nursery outer"], spans["nursery inner"]
	if outer == nil || inner == nil || len(spans) != 8 {
		t.Fatalf("spans %v, want request, the two nurseries, five tasks", keys(spans))
	}
	if outer.Parent().SpanID() != root.SpanContext().SpanID() {
		t.Error("the nursery's span is not a child of the request's")
	}
	for _, name := range []string{"ok", "echo", "fails", "holder"} {
		s := spans[name]
		if s.Parent().SpanID() != outer.SpanContext().SpanID() {
			t.Errorf("task %q is not a child of its nursery's span", name)
		}
		if s.EndTime().After(outer.EndTime()) {
			t.Errorf("task %q ended after its nursery", name)
		}
	}
	if s := spans["otelnursery_test.TestSpansFollowTheStructure.func1.4.1.1"]; s == nil || s.Parent().SpanID() != inner.SpanContext().SpanID() {
		t.Errorf("the unnamed task of inner: %v", keys(spans))
	}
	if inner.Parent().SpanID() != spans["holder"].SpanContext().SpanID() {
		t.Error("the nested nursery is not a child of the task it runs in")
	}
	fails, echo := spans["fails"], spans["echo"]
	if fails.Status().Code != codes.Error || len(fails.Events()) != 1 || attr(fails, "error.type").AsString() != "*errors.errorString" {
		t.Errorf("fails: status %v, events %v", fails.Status(), fails.Events())
	}
	if outer.Status().Code != codes.Error || len(outer.Events()) != 1 {
		t.Errorf("outer: status %v, events %v", outer.Status(), outer.Events())
	}
	if echo.Status().Code != codes.Unset || len(echo.Events()) != 0 || attr(echo, "nursery.task.outcome").AsString() != "cancelled" {
		t.Errorf("echo: status %v, events %v, outcome %v: want Unset", echo.Status(), echo.Events(), attr(echo, "nursery.task.outcome"))
	}
	if links := echo.Links(); len(links) != 1 || links[0].SpanContext.SpanID() != fails.SpanContext().SpanID() {
		t.Errorf("echo's links %v, want one to fails", links)
	}
	for _, s := range []sdktrace.ReadOnlySpan{spans["ok"], spans["holder"], inner} {
		if s.Status().Code != codes.Unset {
			t.Errorf("%s: status %v, want Unset", s.Name(), s.Status())
		}
	}
	if attr(spans["fails"], "code.function.name").AsString() == "" || !strings.HasSuffix(attr(outer, "code.file.path").AsString(), "otelnursery_test.go") {
		t.Error("no code attributes")
	}
}

// Under a parent that is not recording, no span is started, by default;
// AllSpans starts them and lets the sampler decide.
func TestNoSpansUnderAParentNotRecording(t *testing.T) {
	rec, tracer, obs, shutdown := recorder(sdktrace.ParentBased(sdktrace.NeverSample()))
	defer shutdown()
	ctx, root := tracer.Start(context.Background(), "request")
	run := func(obs nursery.Observer) {
		_ = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			for range 10 {
				n.Go(func(ctx context.Context) error { return nil })
			}
			return nil
		}, nursery.WithObserver(obs))
	}
	run(obs)
	root.End()
	if n := len(rec.Started()); n != 0 {
		t.Errorf("%d spans started under an unsampled parent", n)
	}
	rec2 := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec2), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer tp.Shutdown(context.Background())
	run(otelnursery.Observer(otelnursery.WithTracerProvider(tp), otelnursery.WithPolicy(otelnursery.AllSpans)))
	if n := len(rec2.Ended()); n != 11 {
		t.Errorf("AllSpans: %d spans, want 11", n)
	}
}

// A panic is recorded with its stack on the task and the nursery.
func TestPanicsAreErrorsWithTheirStack(t *testing.T) {
	rec, tracer, obs, shutdown := recorder(sdktrace.AlwaysSample())
	defer shutdown()
	ctx, root := tracer.Start(context.Background(), "request")
	func() {
		defer func() { _ = recover() }()
		_ = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { panic("boom") }, nursery.WithName("panics"))
			return nil
		}, nursery.WithObserver(obs))
	}()
	root.End()
	var saw int
	for _, s := range rec.Ended() {
		if s.Name() == "panics" || s.Name() == "nursery" {
			saw++
			if s.Status().Code != codes.Error || len(s.Events()) != 1 || !strings.Contains(s.Events()[0].Attributes[len(s.Events()[0].Attributes)-1].Value.AsString(), "goroutine") {
				t.Errorf("%s: status %v, events %v", s.Name(), s.Status(), s.Events())
			}
		}
	}
	if saw != 2 {
		t.Errorf("%d spans of the panic, want 2", saw)
	}
}

// Bad options panic, naming the argument.
func TestBadOptionsPanic(t *testing.T) {
	for name, f := range map[string]func(){
		"WithTracerProvider(nil)": func() { otelnursery.WithTracerProvider(nil) },
		"WithPolicy(7)":           func() { otelnursery.WithPolicy(7) },
		"nil Option":              func() { otelnursery.Observer(nil) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "otelnursery: ") {
					t.Errorf("%s panicked with %v", name, r)
				}
			}()
			f()
		}()
	}
}

func keys(m map[string]sdktrace.ReadOnlySpan) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// A task that ends ok has no attributes but the Observer's own, by
// default (the SDK builds a map at the end of a span with any); one that
// ends otherwise has its outcome and code location. WithTaskAttributes
// gives ok tasks theirs too.
func TestOKTasksCarryAttributesOnlyWhenAsked(t *testing.T) {
	for _, detailed := range []bool{false, true} {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sdktrace.AlwaysSample()))
		opts := []otelnursery.Option{otelnursery.WithTracerProvider(tp), otelnursery.WithAttributes(attribute.String("service.part", "billing"))}
		if detailed {
			opts = append(opts, otelnursery.WithTaskAttributes())
		}
		ctx, root := tp.Tracer("test").Start(context.Background(), "request")
		_ = nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
			n.Go(func(ctx context.Context) error { return nil }, nursery.WithName("ok"))
			n.Go(func(ctx context.Context) error { return errBroke }, nursery.WithName("fails"))
			return nil
		}, nursery.WithName("outer"), nursery.WithObserver(otelnursery.Observer(opts...)))
		root.End()
		_ = tp.Shutdown(context.Background())
		spans := map[string]sdktrace.ReadOnlySpan{}
		for _, s := range rec.Ended() {
			spans[s.Name()] = s
		}
		ok, fails := spans["ok"], spans["fails"]
		if ok == nil || fails == nil {
			t.Fatalf("spans %v", keys(spans))
		}
		if got := attr(ok, "service.part").AsString(); got != "billing" {
			t.Errorf("detailed=%v: ok's service.part = %q, want billing", detailed, got)
		}
		wantOK := 1
		if detailed {
			wantOK = 1 + 6 // outcome, code.*, task and nursery names
			if attr(ok, "nursery.task.outcome").AsString() != "ok" || attr(ok, "code.line.number").AsInt64() == 0 {
				t.Errorf("detailed: ok's attributes %v", ok.Attributes())
			}
		}
		if len(ok.Attributes()) != wantOK {
			t.Errorf("detailed=%v: ok's attributes %v, want %d", detailed, ok.Attributes(), wantOK)
		}
		if attr(fails, "nursery.task.outcome").AsString() != "failed" || attr(fails, "code.function.name").AsString() == "" || attr(fails, "service.part").AsString() != "billing" {
			t.Errorf("detailed=%v: fails' attributes %v", detailed, fails.Attributes())
		}
	}
}

// The functions that lost a Race are Unset, with the outcome "lost race",
// and link to the winner's span; the spans are named after the functions
// given to Race.
func TestRaceLosersLinkToTheWinner(t *testing.T) {
	rec, tracer, obs, shutdown := recorder(sdktrace.AlwaysSample())
	defer shutdown()
	nursery.SetObserver(obs)
	defer nursery.SetObserver(nil)
	ctx, root := tracer.Start(context.Background(), "request")
	v, err := nursery.Race(ctx,
		func(ctx context.Context) (string, error) { return "primary", nil },
		func(ctx context.Context) (string, error) { <-ctx.Done(); return "", ctx.Err() },
		func(ctx context.Context) (string, error) { <-ctx.Done(); return "", ctx.Err() },
	)
	root.End()
	if v != "primary" || err != nil {
		t.Fatalf("Race() = %q, %v", v, err)
	}
	var winner sdktrace.ReadOnlySpan
	var losers []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if !strings.Contains(s.Name(), "TestRaceLosersLinkToTheWinner.func") {
			continue // the request, the Race's nursery
		}
		if attr(s, "nursery.task.outcome").AsString() == "lost race" {
			losers = append(losers, s)
		} else {
			winner = s
		}
	}
	if winner == nil || len(losers) != 2 {
		t.Fatalf("spans %v: want the winner and two losers, named after the functions", rec.Ended())
	}
	for _, l := range losers {
		if l.Status().Code != codes.Unset {
			t.Errorf("loser %s: status %v, want Unset", l.Name(), l.Status())
		}
		links := l.Links()
		if len(links) != 1 || links[0].SpanContext.SpanID() != winner.SpanContext().SpanID() || links[0].Attributes[0].Value.AsString() != "cancelled_by" {
			t.Errorf("loser %s links %v, want one cancelled_by link to the winner %s", l.Name(), links, winner.SpanContext().SpanID())
		}
	}
}

// Under AllSpans with a sampler that records nothing, the SDK's spans do
// not record and cannot be compared with ==: the Observer tells them apart
// by their IDs, and a Run with tasks that fail, echo and lose a race ends
// as without it.
func TestSpansThatDoNotRecord(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sdktrace.NeverSample()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	obs := otelnursery.Observer(otelnursery.WithTracerProvider(tp), otelnursery.WithPolicy(otelnursery.AllSpans))
	err := nursery.Run(context.Background(), func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		n.Go(func(ctx context.Context) error {
			_, err := nursery.Race(ctx,
				func(ctx context.Context) (int, error) { return 1, nil },
				func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() })
			if err != nil {
				return err
			}
			return errBroke
		})
		return nil
	}, nursery.WithObserver(obs))
	if !errors.Is(err, errBroke) {
		t.Fatalf("Run() = %v, want the failure", err)
	}
	if n := len(rec.Ended()); n != 0 {
		t.Errorf("%d spans recorded by a sampler that records none", n)
	}
}

// errPanicky is an error whose Error method panics.
type errPanicky struct{}

func (errPanicky) Error() string { panic("Error exploded") }

// A task that fails with an error whose Error method panics: Run returns
// the error (in the task's name), as it does without the Observer (the span's status used to
// call Error, and the Observer's panic became the Run's), and the task's
// and the nursery's spans say what happened.
func TestAnErrorWhoseErrorPanicsIsRecordedInWords(t *testing.T) {
	rec, tracer, obs, shutdown := recorder(sdktrace.AlwaysSample())
	defer shutdown()
	ctx, root := tracer.Start(context.Background(), "request")
	err := nursery.Run(ctx, func(ctx context.Context, n *nursery.Nursery) error {
		n.Go(func(context.Context) error { return errPanicky{} }, nursery.WithName("fails"))
		return nil
	}, nursery.WithObserver(obs))
	root.End()
	if !errors.As(err, new(errPanicky)) {
		t.Fatalf("Run() = %#v, want the errPanicky", err)
	}
	var saw int
	for _, s := range rec.Ended() {
		if s.Name() != "fails" && s.Name() != "nursery" {
			continue
		}
		saw++
		// The task's own error, in the Observer's words; the nursery's,
		// the task's wrapped in its name, in fmt's ("PANIC=Error method").
		want := "whose Error method panicked: Error exploded"
		if s.Name() == "nursery" {
			want = "PANIC=Error method: Error exploded"
		}
		if s.Status().Code != codes.Error || !strings.Contains(s.Status().Description, want) {
			t.Errorf("%s: status %v, want Error with %q", s.Name(), s.Status(), want)
		}
		if len(s.Events()) != 1 || s.Events()[0].Name != "exception" {
			t.Errorf("%s: events %v, want one exception", s.Name(), s.Events())
		}
	}
	if saw != 2 {
		t.Errorf("%d spans of the failure, want 2", saw)
	}
}
