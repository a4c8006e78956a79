package barego

import (
	"testing"
	"testing/synctest"
)

// Not reported: the bubble waits for every goroutine in it.
func TestInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		go work()
		go func() { go work() }()
	})
}

func TestOutsideBubble(t *testing.T) {
	go work() // want `SV002: nothing waits for this goroutine before TestOutsideBubble returns`
}
