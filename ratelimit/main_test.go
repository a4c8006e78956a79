//go:build go1.25

package ratelimit_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recoverPanic runs f and returns what it panicked with, or nil.
func recoverPanic(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}
