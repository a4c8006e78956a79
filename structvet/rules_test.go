package structvet_test

import (
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/structured-go/structured/structvet"
)

// Each rule's testdata package holds code that must be reported, marked
// with `// want` comments, and code that must not: analysistest fails on a
// missing finding and on an unexpected one alike.

func TestWaitSkipFindsSkippedWaits(t *testing.T) { // SV001
	t.Parallel()
	analysistest.Run(t, analysistest.TestData(), structvet.WaitSkip, "waitskip")
}

func TestBareGoFindsGoroutinesNothingWaitsFor(t *testing.T) { // SV002
	t.Parallel()
	analysistest.Run(t, analysistest.TestData(), structvet.BareGo, "barego")
}

func TestBareGoAllowsMainWithItsFlag(t *testing.T) { // SV002 -barego.main
	setFlag(t, structvet.BareGo, "main", "true")
	analysistest.Run(t, analysistest.TestData(), structvet.BareGo, "baregomain")
}

func TestBareGoAllowsTestsWithItsFlag(t *testing.T) { // SV002 -barego.tests
	setFlag(t, structvet.BareGo, "tests", "true")
	analysistest.Run(t, analysistest.TestData(), structvet.BareGo, "baregotests")
}

func TestSleepCtxSuggestsCancelSleep(t *testing.T) { // SV003
	t.Parallel()
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), structvet.SleepCtx, "sleepctx")
}

func TestFreshCtxFindsCutChains(t *testing.T) { // SV004
	t.Parallel()
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), structvet.FreshCtx, "freshctx")
}

func TestNurseryEscapeFindsStoredNurseries(t *testing.T) { // SV005
	t.Parallel()
	analysistest.Run(t, analysistest.TestData(), structvet.NurseryEscape, "nurseryescape")
}

func TestTaskCtxFindsIgnoredContexts(t *testing.T) { // SV006
	t.Parallel()
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), structvet.TaskCtx, "taskctx")
}

func TestChanLoopFindsBlockingLoops(t *testing.T) { // SV007
	t.Parallel()
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), structvet.ChanLoop, "chanloop")
}

func TestIgnoreDirectiveNeedsRuleAndReason(t *testing.T) {
	t.Parallel()
	analysistest.Run(t, analysistest.TestData(), structvet.BareGo, "ignore")
}

// setFlag sets an analyzer's flag for the rest of the test. Tests that set
// flags do not run in parallel: the parallel ones start after they end.
func setFlag(t *testing.T, a *analysis.Analyzer, name, value string) {
	t.Helper()
	f := a.Flags.Lookup(name)
	old := f.Value.String()
	if err := a.Flags.Set(name, value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Flags.Set(name, old) })
}

func TestRulesLeaveTestsOutWithTheirFlag(t *testing.T) { // -sleepctx.tests, -freshctx.tests
	setFlag(t, structvet.SleepCtx, "tests", "true")
	setFlag(t, structvet.FreshCtx, "tests", "true")
	analysistest.Run(t, analysistest.TestData(), structvet.SleepCtx, "alltests")
	analysistest.Run(t, analysistest.TestData(), structvet.FreshCtx, "alltestsfresh")
}
