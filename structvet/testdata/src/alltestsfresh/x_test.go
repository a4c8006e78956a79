package alltestsfresh

import (
	"context"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Not reported: the rules' -tests flags leave test files out.
func slow(ctx context.Context) {
	call(context.Background())
}
