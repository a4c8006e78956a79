package structvet_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/structured-go/structured/structvet"
)

// testdata/recall holds known leaks in the small form of leaks seen in
// real code: the traps the project's recipes show, the leaks the rules
// were found to miss, classic ones. Each is marked on its line, "// leak
// SV002: ..." where a rule must report it, "// missed: ..." where the rules
// are known not to. The README quotes the share found.

// marker is one marked line of testdata/recall.
type marker struct {
	line int
	rule string // "" for a leak the rules miss
	note string
}

var markerRE = regexp.MustCompile(`^\s*[^/\s].*// (leak (SV\d{3})|missed): (.*)$`)

func recallMarkers(t *testing.T, path string) []marker {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []marker
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if m := markerRE.FindStringSubmatch(sc.Text()); m != nil {
			out = append(out, marker{line: n, rule: m[2], note: m[3]})
		}
	}
	return out
}

// recallFindings runs the rules over testdata/recall and returns the
// findings, by line, each as "SV002: message".
func recallFindings(t *testing.T, rules []*analysis.Analyzer) map[int][]string {
	t.Helper()
	cfg := &packages.Config{Mode: packages.LoadAllSyntax, Dir: filepath.Join("testdata", "recall")}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		for _, e := range p.Errors {
			t.Fatalf("testdata/recall: %v", e)
		}
	}
	graph, err := checker.Analyze(rules, pkgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[int][]string)
	for act := range graph.All() {
		if !act.IsRoot {
			continue
		}
		for _, d := range act.Diagnostics {
			line := act.Package.Fset.Position(d.Pos).Line
			out[line] = append(out[line], d.Message)
		}
	}
	return out
}

// recall checks the findings of every rule against the markers, for the
// rules given: each leak marked with one of them is reported by it (and,
// where the marker names the returns, the finding names them all), each
// one marked missed is not, and nothing else is reported. It returns how
// many leaks the rules found, and how many are marked.
func recall(t *testing.T, all map[int][]string, rules []*analysis.Analyzer) (found, known int) {
	t.Helper()
	on := make(map[string]bool)
	for _, a := range rules {
		_, id, _ := strings.Cut(a.URL, "#")
		on[strings.ToUpper(id)] = true
	}
	findings := make(map[int][]string)
	for line, msgs := range all {
		for _, msg := range msgs {
			if id, _, _ := strings.Cut(msg, ":"); on[id] {
				findings[line] = append(findings[line], msg)
			}
		}
	}
	for _, m := range recallMarkers(t, filepath.Join("testdata", "recall", "leaks.go")) {
		known++
		got := findings[m.line]
		delete(findings, m.line)
		switch {
		case m.rule == "" || !on[m.rule]:
			if len(got) > 0 {
				t.Errorf("leaks.go:%d (%s) is reported: %q", m.line, m.note, got)
			}
		case !slices.ContainsFunc(got, func(msg string) bool { return strings.HasPrefix(msg, m.rule+": ") }):
			t.Errorf("leaks.go:%d: %s not reported (%s); got %q", m.line, m.rule, m.note, got)
		default:
			found++
			if strings.HasPrefix(m.note, "the returns on lines") && !slices.ContainsFunc(got, func(msg string) bool { return strings.Contains(msg, m.note) }) {
				t.Errorf("leaks.go:%d: the finding does not name every return (%s): %q", m.line, m.note, got)
			}
		}
	}
	for line, got := range findings {
		t.Errorf("leaks.go:%d: reported, but not marked as a leak: %q", line, got)
	}
	return found, known
}

// The README quotes the share of the known leaks that the rules find, by
// default and with the experimental rules: this test checks both figures.
func TestRecallOnKnownLeaks(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(strings.Fields(string(raw)), " ") // line breaks aside
	all := recallFindings(t, slices.Concat(structvet.Analyzers(), structvet.Experimental()))
	for _, tc := range []struct {
		name  string
		rules []*analysis.Analyzer
	}{
		{"by default", structvet.Analyzers()},
		{"with -experimental", slices.Concat(structvet.Analyzers(), structvet.Experimental())},
	} {
		found, known := recall(t, all, tc.rules)
		claim := fmt.Sprintf("finds %d of the %d known leaks %s", found, known, tc.name)
		if !strings.Contains(readme, claim) {
			t.Errorf("README.md does not say that structvet %s", claim)
		}
	}
}
