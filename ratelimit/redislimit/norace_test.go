//go:build !race

package redislimit_test

// raceDetector says the tests run under the race detector, which slows
// every goroutine several times over.
const raceDetector = false
