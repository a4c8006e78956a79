//go:build goexperiment.goroutineleakprofile

package leaktest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The goroutines leaked on purpose are blocked forever: goleak is told of
// them, and of nothing else.
func TestMain(m *testing.M) {
	const test = "github.com/structured-go/structured/nursery/internal/leaktest_test.TestLeakProfileNamesTheTaskAndTheWaitingNursery"
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction(test+".func1"), goleak.IgnoreAnyFunction(test+".func1.1.1"))
}
