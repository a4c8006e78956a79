module github.com/structured-go/structured/docs/migrations

go 1.25.0

replace github.com/structured-go/structured => ../..

require (
	github.com/avast/retry-go/v4 v4.7.0
	github.com/cenkalti/backoff/v4 v4.3.0
	github.com/cenkalti/backoff/v5 v5.0.3
	github.com/destel/rill v0.8.0
	github.com/sethvargo/go-retry v0.5.0
	github.com/sourcegraph/conc v0.3.0
	github.com/structured-go/structured v0.0.0
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.14.0
	golang.org/x/time v0.15.0
)

require go.uber.org/multierr v1.11.0 // indirect
