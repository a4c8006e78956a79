module github.com/structured-go/structured/ratelimit/redislimit

go 1.25

replace github.com/structured-go/structured => ../..

require (
	github.com/redis/go-redis/v9 v9.22.0
	github.com/structured-go/structured v0.0.0
	go.uber.org/goleak v1.3.0
	go.uber.org/multierr v1.11.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/sys v0.30.0 // indirect
)
