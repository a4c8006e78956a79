package baregotests

import "testing"

func TestAllowed(t *testing.T) {
	go work()
}
