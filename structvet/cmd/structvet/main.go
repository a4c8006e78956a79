// Command structvet reports unstructured concurrency in Go code: goroutines
// that nothing waits for, waits skipped on some path, sleeps and contexts
// that cut the chain of cancellation. It runs alone or under go vet:
//
//	go run github.com/structured-go/structured/structvet/cmd/structvet@latest ./...
//	go vet -vettool=$(command -v structvet) ./...
//
// Each rule can be chosen or left out by its name (-barego, -barego=false);
// see the module's README for the rules and the //structvet:ignore comment.
package main

import (
	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/structured-go/structured/structvet"
)

func main() {
	multichecker.Main(structvet.Analyzers()...)
}
