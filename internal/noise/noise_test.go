package noise

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.uber.org/goleak"
	"go.uber.org/multierr"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestEcho(t *testing.T) {
	errA := errors.New("a")
	errCause := errors.New("cause")
	live := context.Background()
	cancelled, stop := context.WithCancelCause(live)
	stop(errCause)
	expired, stop2 := context.WithTimeout(live, -1)
	defer stop2()

	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"nil error", cancelled, nil, false},
		{"live ctx, Canceled", live, context.Canceled, false},
		{"Canceled", cancelled, context.Canceled, true},
		{"wrapped Canceled", cancelled, fmt.Errorf("op: %w", context.Canceled), true},
		{"the cause", cancelled, errCause, true},
		{"wrapped cause", cancelled, fmt.Errorf("op: %w", errCause), true},
		{"DeadlineExceeded", expired, context.DeadlineExceeded, true},
		{"DeadlineExceeded under a cancel", cancelled, context.DeadlineExceeded, true},
		{"a timeout", expired, Timeout("timeout: x"), false},
		{"ErrTimeout as the cause", causeCtx(ErrTimeout), ErrTimeout, true},
		{"real error", cancelled, errA, false},
		{"combined echoes", cancelled, multierr.Combine(context.Canceled, errCause), true},
		{"echo with a real error", cancelled, multierr.Combine(context.Canceled, errA), false},
		{"joined echo with a real error", cancelled, errors.Join(errCause, errA), false},
	}
	for _, tc := range tests {
		if got := Echo(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: Echo() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func causeCtx(cause error) context.Context {
	ctx, stop := context.WithCancelCause(context.Background())
	stop(cause)
	return ctx
}

func TestTimeoutError(t *testing.T) {
	err := Timeout("timeout: deadline of 1s exceeded")
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Fatalf("Timeout() does not match ErrTimeout and DeadlineExceeded only")
	}
	if err.Error() != "timeout: deadline of 1s exceeded" {
		t.Fatalf("Error() = %q", err.Error())
	}
	var te interface{ Timeout() bool }
	if !errors.As(err, &te) || !te.Timeout() {
		t.Fatal("not a net.Error-style timeout")
	}
}
