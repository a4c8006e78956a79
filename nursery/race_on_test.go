//go:build go1.25 && race

package nursery_test

// raceEnabled is true when the tests run under the race detector, which
// makes goroutines about ten times as costly: heavy tests scale down.
const raceEnabled = true
