//go:build go1.25

package nursery_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/structured-go/structured/cancel"
)

func TestMain(m *testing.M) {
	if os.Getenv(signalHelperEnv) != "" {
		signalHelper() // the child process of TestSignalSecondEndsProcess
		return
	}
	goleak.VerifyTestMain(m)
}

// sleep is cancel.Sleep: it waits for d, or returns the cause of ctx's end.
var sleep = cancel.Sleep

// recoverPanic runs f and returns what it panicked with, or nil.
func recoverPanic(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}
