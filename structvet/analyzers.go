package structvet

import "golang.org/x/tools/go/analysis"

// all is every rule, in the order of their IDs.
var all = []*analysis.Analyzer{WaitSkip, BareGo, SleepCtx, FreshCtx, NurseryEscape, TaskCtx, ChanLoop}

// experimental holds the rules that are off by default: their findings
// were true less than 90% of the time on modules they were not tuned on
// (the README has the figures).
var experimental = map[*analysis.Analyzer]bool{}

// Analyzers returns the rules that are on by default, in the order of
// their IDs: WaitSkip (SV001), BareGo (SV002), SleepCtx (SV003), FreshCtx
// (SV004), NurseryEscape (SV005), TaskCtx (SV006) and ChanLoop (SV007),
// less those that Experimental returns.
func Analyzers() []*analysis.Analyzer {
	var out []*analysis.Analyzer
	for _, a := range all {
		if !experimental[a] {
			out = append(out, a)
		}
	}
	return out
}

// Experimental returns the rules that are off by default, in the order of
// their IDs: their findings were true less than 90% of the time on modules
// they were not tuned on, so that a checker that cries wolf does not get
// switched off with its true findings. cmd/structvet runs them when they
// are named (-chanloop) or with -experimental.
func Experimental() []*analysis.Analyzer {
	var out []*analysis.Analyzer
	for _, a := range all {
		if experimental[a] {
			out = append(out, a)
		}
	}
	return out
}
