// Package goleak is a stand-in for go.uber.org/goleak in the checker's test
// data: its fixtures' tests have a TestMain, as the project's do.
package goleak

// VerifyTestMain runs the tests; the real one then checks for leaked
// goroutines.
func VerifyTestMain(m interface{ Run() int }) { m.Run() }
