module github.com/structured-go/structured/nursery/tracetest

go 1.26.0

require (
	github.com/structured-go/structured v0.0.0
	go.uber.org/goleak v1.3.0
)

require (
	go.uber.org/multierr v1.11.0 // indirect
	golang.org/x/exp v0.0.0-20261121134650-e1094eeca1b5
)

replace github.com/structured-go/structured => ../..
