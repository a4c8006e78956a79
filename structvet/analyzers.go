package structvet

import "golang.org/x/tools/go/analysis"

// all is every rule, in the order of their IDs.
var all = []*analysis.Analyzer{WaitSkip, BareGo, SleepCtx, FreshCtx, NurseryEscape, TaskCtx, ChanLoop}

// experimental holds the rules that are off by default: on the held-out
// modules their findings were true less than 90% of the time, or too few
// to show they are true that often (the README has the figures).
var experimental = map[*analysis.Analyzer]bool{
	WaitSkip: true, // 1 of 6
	BareGo:   true, // 234 of 316 (74%)
	SleepCtx: true, // 1 of 1: too few
	FreshCtx: true, // 0 of 5
	ChanLoop: true, // 1 of 1: too few
}

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
// their IDs: on modules they were not tuned on, their findings were true
// less than 90% of the time, or too few to show they are true that often;
// a checker that cries wolf gets switched off with its true findings. The
// README has the figures. cmd/structvet runs them when they are named
// (-barego) or with -experimental.
func Experimental() []*analysis.Analyzer {
	var out []*analysis.Analyzer
	for _, a := range all {
		if experimental[a] {
			out = append(out, a)
		}
	}
	return out
}
