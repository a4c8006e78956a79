// With -barego.main, go statements in func main are allowed.
package main

func work() {}

func main() {
	go work()
	go func() {
		go work()
	}()
	helper()
}

func helper() {
	go work() // want `SV002: nothing waits for this goroutine before helper returns`
}
