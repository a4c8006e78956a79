package structvet

import "golang.org/x/tools/go/analysis"

// Analyzers returns every rule of structvet, in the order of their IDs.
func Analyzers() []*analysis.Analyzer {
	return []*analysis.Analyzer{WaitSkip, BareGo}
}
