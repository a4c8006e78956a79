// Package otelnursery makes OpenTelemetry spans of nurseries and their
// tasks: a span per nursery and per task, from a nursery.Observer.
//
//	err := nursery.Run(ctx, body, nursery.WithObserver(otelnursery.Observer()))
//
// or, for every Run of the program, nursery.SetObserver(otelnursery.Observer()).
//
// The spans' parent-child relations are guaranteed by the structure: a
// task's span is a child of its nursery's, and ends before it, because Run
// returns only after every task has; a nursery's span is a child of the
// span of the context Run is given (the task it runs in, for a nested one).
//
// Errors are recorded on the spans of what returned them: a task that fails
// or panics gets status Error with its error recorded (and error.type); a
// nursery whose Run returns an error, or panics, gets the same. So an error
// that goes up through nested nurseries is on the span of each task and
// nursery it goes up through, once on each. A task that returns only the echo of its
// cancellation is not an error: its status stays Unset, and if another
// task's failure cancelled it, its span links to that task's span
// (attribute nursery.link = "cancelled_by"). The functions that lost a
// nursery.Race are Unset too, with the outcome "lost race" and the same
// link to the winner's span.
//
// Span names are low in cardinality: "nursery NAME" (or "nursery") and the
// task's name, or its function's. Attributes: nursery.name,
// nursery.task.name, nursery.task.outcome, nursery.limit, code.function.name,
// code.file.path, code.line.number, error.type. A task that ends ok has
// none of them but those of WithAttributes: its span name says what ran,
// its parent's attributes where, and the absence of an outcome that it
// ended well. (An attribute costs an OpenTelemetry SDK span more than the
// span itself: a span with any attribute builds a map when it ends, to
// drop duplicates.) WithTaskAttributes gives ok tasks their outcome and
// code location too.
//
// The cost is kept to the spans that are recorded: by default (Recording)
// no span is started under a parent that is not recording (not sampled, or
// no span at all): the Observer declines such a nursery, whose tasks then
// start as if it had none, and the nursery costs a context lookup. AllSpans
// starts them anyway, for a sampler that decides on more than the parent.
package otelnursery

import (
	"context"
	"fmt"
	"reflect"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/structured-go/structured/nursery"
)

// ScopeName is the instrumentation scope of the spans: the tracer's name.
const ScopeName = "github.com/structured-go/structured/otelnursery"

// A Policy says which spans to start.
type Policy int

const (
	// Recording starts a span only under a parent span that is recording:
	// a Run outside any sampled span makes no spans at all. The default.
	Recording Policy = iota
	// AllSpans starts a span for every nursery and task, and leaves the
	// decision to the sampler.
	AllSpans
)

// An Option configures the Observer.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	provider  trace.TracerProvider
	attrs     []attribute.KeyValue
	policy    Policy
	taskAttrs bool
}

// WithTracerProvider sets the provider of the tracer (the global one,
// otel.GetTracerProvider(), by default). It panics if tp is nil.
func WithTracerProvider(tp trace.TracerProvider) Option {
	if tp == nil {
		panic("otelnursery: WithTracerProvider(nil): a TracerProvider is needed")
	}
	return optionFunc(func(c *config) { c.provider = tp })
}

// WithAttributes adds attributes to every span.
func WithAttributes(attrs ...attribute.KeyValue) Option {
	return optionFunc(func(c *config) { c.attrs = append(c.attrs, attrs...) })
}

// WithTaskAttributes gives the span of every task its outcome and code
// location (nursery.task.outcome, nursery.task.name, nursery.name and the
// code.* attributes), the tasks that end ok too; by default only the tasks
// that end otherwise carry them. With the OpenTelemetry SDK, it about
// doubles what a task's span costs.
func WithTaskAttributes() Option {
	return optionFunc(func(c *config) { c.taskAttrs = true })
}

// WithPolicy says which spans to start: Recording (the default) or
// AllSpans. It panics on any other value.
func WithPolicy(p Policy) Option {
	if p != Recording && p != AllSpans {
		panic(fmt.Sprintf("otelnursery: WithPolicy(%d): not a Policy", int(p)))
	}
	return optionFunc(func(c *config) { c.policy = p })
}

// Observer returns a nursery.Observer that makes the spans.
func Observer(opts ...Option) nursery.Observer {
	c := config{}
	for _, o := range opts {
		if o == nil {
			panic("otelnursery: Observer called with a nil Option")
		}
		o.apply(&c)
	}
	if c.provider == nil {
		c.provider = otel.GetTracerProvider()
	}
	return &observer{tracer: c.provider.Tracer(ScopeName), attrs: c.attrs, policy: c.policy, taskAttrs: c.taskAttrs}
}

type observer struct {
	tracer    trace.Tracer
	attrs     []attribute.KeyValue
	policy    Policy
	taskAttrs bool // WithTaskAttributes
}

// nurseryKey holds, in a nursery's context, the nursery's span record.
type nurseryKey struct{}

// A nurserySpan is what the observer keeps of an observed nursery: its
// span, and its event.
type nurserySpan struct {
	span trace.Span
	ev   *nursery.NurseryEvent
	// tasks says that its tasks get spans: by the policy, or because its
	// span records (it does until NurseryEnded, which ends it).
	tasks bool
}

func (o *observer) starts(ctx context.Context) bool {
	return o.policy == AllSpans || trace.SpanFromContext(ctx).IsRecording()
}

func code(function, file string, line int) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("code.function.name", function),
		attribute.String("code.file.path", file),
		attribute.Int("code.line.number", line),
	}
}

func (o *observer) NurseryStarted(ctx context.Context, n *nursery.NurseryEvent) (context.Context, bool) {
	if !o.starts(ctx) {
		return ctx, false // nor the tasks: they have the same parent
	}
	name := "nursery"
	if n.Name != "" {
		name = "nursery " + n.Name
	}
	ctx, span := o.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal))
	if span.IsRecording() {
		attrs := append(code(n.Location()), o.attrs...)
		if n.Name != "" {
			attrs = append(attrs, attribute.String("nursery.name", n.Name))
		}
		if n.Limit > 0 {
			attrs = append(attrs, attribute.Int("nursery.limit", n.Limit))
		}
		span.SetAttributes(attrs...)
	}
	ns := &nurserySpan{span: span, ev: n, tasks: o.policy == AllSpans || span.IsRecording()}
	return context.WithValue(ctx, nurseryKey{}, ns), true
}

func (o *observer) NurseryEnded(ctx context.Context, n *nursery.NurseryEvent, err error) {
	ns, ok := ctx.Value(nurseryKey{}).(*nurserySpan)
	if !ok || ns.ev != n {
		return // no span was started for it
	}
	if err != nil {
		recordError(ns.span, err)
	}
	ns.span.End()
}

func (o *observer) TaskStarted(ctx context.Context, t *nursery.TaskEvent) context.Context {
	if ns := spanOf(ctx, t); ns == nil || !ns.tasks {
		return ctx
	}
	// As in TaskEnded, the frame under tracer.Start is kept small.
	ctx, _ = o.tracer.Start(ctx, taskName(t)) // Internal, the default kind
	return ctx
}

// taskName is the name of t's span: the task's name, or its function's.
//
//go:noinline
func taskName(t *nursery.TaskEvent) string {
	if t.Name != "" {
		return t.Name
	}
	fn, _, _ := t.Location()
	return shortName(fn)
}

func (o *observer) TaskEnded(ctx context.Context, t *nursery.TaskEvent, r nursery.TaskResult) {
	span := taskSpan(ctx, t)
	if span == nil {
		return // no span was started for it
	}
	if r.Outcome != nursery.TaskOK || o.taskAttrs || len(o.attrs) > 0 {
		o.annotate(span, t, &r)
	}
	// This frame is small on purpose: span.End runs deep, on the task's
	// fresh goroutine, and every byte here is one its stack may have to
	// grow for.
	span.End()
}

// taskSpan is the span TaskStarted started for t, found in ctx, or nil.
//
//go:noinline
func taskSpan(ctx context.Context, t *nursery.TaskEvent) trace.Span {
	if ns := spanOf(ctx, t); ns == nil || !ns.tasks {
		return nil
	}
	return trace.SpanFromContext(ctx)
}

// annotate gives a task's span its attributes, error and link, as the
// task ended with r. It is kept out of TaskEnded's frame.
//
//go:noinline
func (o *observer) annotate(span trace.Span, t *nursery.TaskEvent, r *nursery.TaskResult) {
	switch {
	case !span.IsRecording():
	case r.Outcome == nursery.TaskOK && !o.taskAttrs:
		if len(o.attrs) > 0 {
			span.SetAttributes(o.attrs...)
		}
	default:
		// Every attribute at once, at the end: one slice, one copy.
		fn, file, line := t.Location()
		attrs := make([]attribute.KeyValue, 0, 6+len(o.attrs))
		attrs = append(attrs,
			attribute.String("nursery.task.outcome", r.Outcome.String()),
			attribute.String("code.function.name", fn),
			attribute.String("code.file.path", file),
			attribute.Int("code.line.number", line))
		if t.Name != "" {
			attrs = append(attrs, attribute.String("nursery.task.name", t.Name))
		}
		if t.Nursery.Name != "" {
			attrs = append(attrs, attribute.String("nursery.name", t.Nursery.Name))
		}
		span.SetAttributes(append(attrs, o.attrs...)...)
	}
	switch r.Outcome {
	case nursery.TaskFailed, nursery.TaskPanicked, nursery.TaskExited:
		recordError(span, r.Err)
	case nursery.TaskCancelled, nursery.TaskLostRace:
		// The task that cancelled it (by failing, or by winning the
		// race) ran with its own span in its context, if one was made.
		if r.Cause != nil && r.Cause.Context() != nil {
			if cause := taskSpan(r.Cause.Context(), r.Cause); cause != nil && cause.SpanContext().IsValid() {
				sc := cause.SpanContext()
				span.AddLink(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attribute.String("nursery.link", "cancelled_by")}})
			}
		}
	}
}

// spanOf is the record of the span of t's nursery, found in ctx (the
// nursery's, or the task's, made from it), or nil if none was started.
func spanOf(ctx context.Context, t *nursery.TaskEvent) *nurserySpan {
	ns, _ := ctx.Value(nurseryKey{}).(*nurserySpan)
	if ns == nil || ns.ev != t.Nursery {
		return nil
	}
	return ns
}

// recordError records err on span, once, with status Error. An error
// whose Error method panics is recorded in words saying so: the Observer
// must not make a failure a panic.
func recordError(span trace.Span, err error) {
	if !span.IsRecording() {
		return
	}
	var attrs []attribute.KeyValue
	if p, ok := err.(*nursery.PanicError); ok {
		attrs = append(attrs, attribute.String("exception.stacktrace", string(p.Stack)))
	}
	msg, ok := errorMessage(err)
	if ok {
		span.RecordError(err, trace.WithAttributes(attrs...))
	} else { // the event RecordError makes, without the Error that panics
		attrs = append(attrs, attribute.String("exception.type", errorType(err)), attribute.String("exception.message", msg))
		span.AddEvent("exception", trace.WithAttributes(attrs...))
	}
	span.SetAttributes(attribute.String("error.type", errorType(err)))
	span.SetStatus(codes.Error, msg)
}

// errorMessage is err.Error(), and true; or, if Error panics, words
// saying so, and false.
func errorMessage(err error) (msg string, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			msg, ok = fmt.Sprintf("(%s whose Error method panicked: %v)", errorType(err), r), false
		}
	}()
	return err.Error(), true
}

// errorType is the error's type, as error.type wants it.
func errorType(err error) string {
	t := reflect.TypeOf(err)
	if t == nil {
		return "_OTHER"
	}
	return t.String()
}

// shortName is a function's name without its package path: pkg.Func.
func shortName(fn string) string {
	for i := len(fn) - 1; i >= 0; i-- {
		if fn[i] == '/' {
			return fn[i+1:]
		}
	}
	return fn
}
