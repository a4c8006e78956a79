// Package structvet finds goroutines that nothing waits for, and the waits,
// sleeps and contexts that let work outlive the function that started it:
// unstructured concurrency, reported before it ships. Each rule is a
// [golang.org/x/tools/go/analysis.Analyzer] with a stable ID; cmd/structvet
// runs them, alone or under go vet.
//
// Four rules are experimental, off unless named or asked for with
// -experimental (Experimental returns them): measured on public modules
// they were not tuned on, their findings were true less than 90% of the
// time, or too few to show they are. SV002, SV005 and SV006 are on by
// default. The module's README has the figures.
//
//	ID     analyzer       reports
//	SV001  waitskip       a group's Wait skipped on a path after Add or Go
//	SV002  barego         a go statement whose goroutine nothing waits for
//	SV003  sleepctx       time.Sleep where a context is in scope
//	SV004  freshctx       context.Background() or TODO() where a context is in scope
//	SV005  nurseryescape  a *nursery.Nursery stored, returned or sent away
//	SV006  taskctx        a task that ignores its ctx and passes another one on
//	SV007  chanloop       a send or receive in a task's loop that can block forever
//
// # Rules
//
// The analyzers hold no state between packages and may be run on many
// packages at once, as the drivers of golang.org/x/tools do; what they know
// about the functions a package calls, in other packages too, comes from
// go/analysis facts. Their flags (-barego.main, -<name>.tests, -taskctx.all)
// are package-level settings: set them before a run, not during one.
//
// A finding is silenced by a comment on its line or on the line above:
//
//	//structvet:ignore SV002 the profiler lives as long as the process
//
// The rule may be named by its ID or its analyzer's name, several separated
// by commas; the reason is required, and a comment without one silences
// nothing (the finding says so).
//
// The rules look at one function at a time, plus what the package shows
// about the fields a goroutine signals, plus facts about the functions it
// calls. They follow paths, not values: any wait on the path counts, and
// conditions are not evaluated (but for one tested twice that nothing
// changes in between). A finding names every return that is reached
// without waiting; the module's README lists what each rule leaves alone,
// and how precise each was on modules it was not tuned on.
//
// Packages that do not type-check are skipped, as go vet skips them.
package structvet
