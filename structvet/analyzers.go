package structvet

import "golang.org/x/tools/go/analysis"

// all is every rule, in the order of their IDs.
var all = []*analysis.Analyzer{WaitSkip, BareGo, SleepCtx, FreshCtx, NurseryEscape, TaskCtx, ChanLoop}

// experimental holds the rules that are off by default: on the held-out
// modules their findings were true less than 90% of the time, or too few
// to show they are true that often (the README has the figures). BareGo
// (SV002) left it with round 4: 85 of 93 (91%), 65 of 67 (97%) in
// shipping code.
var experimental = map[*analysis.Analyzer]bool{
	WaitSkip: true, // round 3: 1 of 1, too few; round 2: 1 of 6
	SleepCtx: true, // round 4: 0 of 9
	FreshCtx: true, // round 4: 1 of 9
	ChanLoop: true, // round 4: 0 of 4
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
