package structvet

import (
	"fmt"
	"go/ast"
	"go/token"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// ignorePrefix starts a comment that silences one finding:
//
//	//structvet:ignore SV002 the watcher ends with the process
//
// on the line of the finding or on the line above it. The rule may be given
// by its ID or its analyzer's name; the reason is required.
const ignorePrefix = "//structvet:ignore"

// docURL is where each rule's documentation lives: the module's README.
const docURL = "https://github.com/structured-go/structured/tree/main/structvet#"

// directive is one //structvet:ignore comment.
type directive struct {
	rules  []string // IDs or names, lower case
	reason string
	line   int
}

// reporter reports the findings of one rule in one package, leaving out those
// that a directive silences.
type reporter struct {
	pass     *analysis.Pass
	id, name string
	byFile   map[*token.File]map[int][]directive // lazily filled
}

func newReporter(pass *analysis.Pass, id string) *reporter {
	return &reporter{pass: pass, id: id, name: pass.Analyzer.Name}
}

// directives returns the directives of the file holding pos, by line.
func (r *reporter) directives(pos token.Pos) map[int][]directive {
	tf := r.pass.Fset.File(pos)
	if tf == nil {
		return nil
	}
	if r.byFile == nil {
		r.byFile = make(map[*token.File]map[int][]directive)
	}
	if d, ok := r.byFile[tf]; ok {
		return d
	}
	var lines map[int][]directive
	for _, f := range r.pass.Files {
		if r.pass.Fset.File(f.FileStart) != tf {
			continue
		}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				d, ok := parseDirective(c.Text)
				if !ok {
					continue
				}
				d.line = r.pass.Fset.Position(c.Slash).Line
				if lines == nil {
					lines = make(map[int][]directive)
				}
				lines[d.line] = append(lines[d.line], d)
			}
		}
	}
	r.byFile[tf] = lines
	return lines
}

// parseDirective parses a //structvet:ignore comment.
func parseDirective(text string) (directive, bool) {
	rest, ok := strings.CutPrefix(text, ignorePrefix)
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return directive{}, false
	}
	fields := strings.Fields(rest)
	var d directive
	if len(fields) > 0 {
		for _, r := range strings.Split(fields[0], ",") {
			d.rules = append(d.rules, strings.ToLower(r))
		}
		d.reason = strings.Join(fields[1:], " ")
	}
	return d, true
}

// matches reports whether d names this reporter's rule.
func (r *reporter) matches(d directive) bool {
	for _, name := range d.rules {
		if name == strings.ToLower(r.id) || name == r.name {
			return true
		}
	}
	return false
}

// report reports a finding at [pos, end), unless a directive with a reason
// silences it. A matching directive without a reason does not: the finding
// is reported with a note that says so.
func (r *reporter) report(pos, end token.Pos, msg string, fixes ...analysis.SuggestedFix) {
	if allow := allowTests[r.pass.Analyzer]; allow != nil && *allow && isTestFile(r.pass, pos) {
		return
	}
	line := r.pass.Fset.Position(pos).Line
	lines := r.directives(pos)
	for _, l := range []int{line, line - 1} {
		for _, d := range lines[l] {
			if !r.matches(d) {
				continue
			}
			if d.reason == "" {
				msg += fmt.Sprintf(" (the structvet:ignore on line %d needs a reason, so it does not apply)", l)
				continue
			}
			return
		}
	}
	r.pass.Report(analysis.Diagnostic{
		Pos:            pos,
		End:            end,
		Category:       r.id,
		Message:        r.id + ": " + msg,
		URL:            docURL + strings.ToLower(r.id),
		SuggestedFixes: fixes,
	})
}

// reportNode reports a finding spanning n.
func (r *reporter) reportNode(n ast.Node, msg string, fixes ...analysis.SuggestedFix) {
	r.report(n.Pos(), n.End(), msg, fixes...)
}

// allowTests holds, for each rule but SV002 (whose -barego.tests came
// first and works the same), whether its findings in _test.go files are
// left out: its -<name>.tests flag.
var allowTests = map[*analysis.Analyzer]*bool{}

// testsAllowedByDefault holds the rules whose findings in _test.go files
// are left out unless their -<name>.tests flag is set to false: a test
// sleeps to pace itself or to stand for slow work (SV003: none of nine
// findings in tests was true on the modules the rules were tuned on), and
// misuses this toolkit's API to see what happens (SV005, SV006: none of the
// eleven findings in this project's own tests is a mistake).
var testsAllowedByDefault = map[*analysis.Analyzer]bool{
	SleepCtx:      true,
	NurseryEscape: true,
	TaskCtx:       true,
}

func init() {
	for _, a := range []*analysis.Analyzer{WaitSkip, SleepCtx, FreshCtx, NurseryEscape, TaskCtx, ChanLoop} {
		allow := new(bool)
		allowTests[a] = allow
		a.Flags.BoolVar(allow, "tests", testsAllowedByDefault[a], "leave out findings in _test.go files")
	}
}

// isTestFile reports whether pos lies in a _test.go file.
func isTestFile(pass *analysis.Pass, pos token.Pos) bool {
	return strings.HasSuffix(pass.Fset.Position(pos).Filename, "_test.go")
}
