//go:build go1.25

package retry_test

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	errFlaky = errors.New("flaky: try again")
	errLast  = errors.New("flaky: the last failure")
)

// recoverPanic runs f and returns what it panicked with, or nil.
func recoverPanic(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

// bg is the background context of the tests.
var bg = context.Background()
