package freshctx

import (
	"context"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Not reported: a test's context carries no caller's cancellation.
func TestFresh(t *testing.T) {
	ctx := t.Context()
	call(ctx)
	call(context.Background())
}
