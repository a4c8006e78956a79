package barego

import (
	"go.uber.org/goleak"
	"testing"
	"testing/synctest"
	"time"
)

// Not reported: the bubble waits for every goroutine in it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		go work()
		go func() { go work() }()
	})
}

func TestOutsideBubble(t *testing.T) {
	go work() // want `SV002: nothing waits for this goroutine before TestOutsideBubble returns`
}

// Not reported: the path that skips the receive has failed the test.
func TestTimeoutFails(t *testing.T) {
	done := make(chan struct{})
	go func() { defer close(done); work() }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Error("timeout")
	}
}

// Reported: a passing test leaves the goroutine behind.
func TestTimeoutPasses(t *testing.T) {
	done := make(chan struct{})
	go func() { defer close(done); work() }() // want `SV002: this goroutine outlives TestTimeoutPasses`
	select {
	case <-done:
		t.Error("done too soon")
	case <-time.After(time.Second):
	}
}
