//go:build go1.25 && !unix

package nursery_test

// Signals are tested on unix only; TestMain still looks for the helper's
// environment variable.
const signalHelperEnv = "NURSERY_SIGNAL_HELPER"

func signalHelper() {}
