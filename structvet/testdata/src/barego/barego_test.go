package barego

import (
	"go.uber.org/goleak"
	"testing"
	"testing/synctest"
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
