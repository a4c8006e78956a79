// Package leaktest holds the tests of the nursery package that need Go's
// goroutineleak profile, an experiment of Go 1.26: they build only with
// GOEXPERIMENT=goroutineleakprofile, and leak goroutines on purpose, which
// their own TestMain tells goleak to expect.
package leaktest
