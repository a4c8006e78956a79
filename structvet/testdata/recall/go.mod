module example.com/leaks

go 1.25

require (
	github.com/structured-go/structured v0.0.0
	golang.org/x/sync v0.0.0
)

replace (
	github.com/structured-go/structured => ./stubs/structured
	golang.org/x/sync => ./stubs/xsync
)
