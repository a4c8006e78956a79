module github.com/structured-go/structured/bench

go 1.25.0

require (
	github.com/destel/rill v0.8.0
	github.com/sourcegraph/conc v0.3.0
	github.com/structured-go/structured v0.0.0
	golang.org/x/sync v0.22.0
)

require go.uber.org/multierr v1.11.0 // indirect

replace github.com/structured-go/structured => ..
