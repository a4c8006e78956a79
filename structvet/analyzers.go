package structvet

import "golang.org/x/tools/go/analysis"

// Analyzers returns every rule of structvet, in the order of their IDs:
// WaitSkip (SV001), BareGo (SV002), SleepCtx (SV003), FreshCtx (SV004),
// NurseryEscape (SV005), TaskCtx (SV006) and ChanLoop (SV007).
func Analyzers() []*analysis.Analyzer {
	return []*analysis.Analyzer{WaitSkip, BareGo, SleepCtx, FreshCtx, NurseryEscape, TaskCtx, ChanLoop}
}

// Experimental returns the rules that are off by default: those whose
// findings were not true often enough on code they were not tuned on (see
// the README). cmd/structvet runs them when named or with -experimental.
func Experimental() []*analysis.Analyzer {
	return nil
}
