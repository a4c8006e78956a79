// With -barego.tests, go statements in _test.go files are allowed.
package baregotests

func work() {}

func start() {
	go work() // want `SV002`
}
