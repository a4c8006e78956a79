// Package bench compares nursery.Run with its peers: go statements with a
// sync.WaitGroup, golang.org/x/sync/errgroup, and the pool package of
// github.com/sourcegraph/conc.
//
// It is a module of its own so that the peers never become dependencies of
// the structured module. Everything is in the benchmarks; see README.md for
// how to run them and read the results.
package bench
