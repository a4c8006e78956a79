// Package tracetest checks, by parsing an execution trace, what the
// nursery package writes to runtime/trace while tracing is on. It is a
// module of its own so that the trace parser, golang.org/x/exp/trace, never
// becomes a dependency of the core.
package tracetest
