// Package assert is a stub of testify's, for the checker's tests.
package assert

import "time"

type TestingT interface {
	Errorf(format string, args ...any)
}

func Eventually(t TestingT, condition func() bool, waitFor, tick time.Duration, msgAndArgs ...any) bool {
	return condition()
}
