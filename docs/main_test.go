//go:build go1.25

// Package docs_test keeps the cookbook in docs/ honest: every Go code block
// of its Markdown is checked against the source it names (docscheck_test.go),
// and the recipes' own Examples, which those blocks show, live in the other
// _test.go files of this directory, run by go test like any Example.
package docs_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
