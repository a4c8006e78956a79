package sleepctx

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Not reported: only the test's end ends its context, and the test is
// the one sleeping.
func TestPacing(t *testing.T) {
	ctx := t.Context()
	time.Sleep(time.Second)
	_ = ctx
}
