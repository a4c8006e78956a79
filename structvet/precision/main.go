// Command precision measures how often structvet's findings are true. It
// runs every rule (those off by default too, and in _test.go files whatever
// their -tests flags say) over a Go module, and lists the findings for
// reading by hand; then it counts the verdicts written on them.
//
//	go run ./precision list DIR > verdicts/heldout/NAME.txt
//	go run ./precision list -merge verdicts/heldout/NAME.txt DIR
//	go run ./precision score verdicts/heldout
//
// A listing has one line per finding, tab-separated:
//
//	path:line:col	SV002	?	message
//
// path is relative to DIR. Reading a finding means replacing "?" with
// "true" or "false" and the message with the reason, in one line. With
// -merge, the verdicts of a file written before are kept for the findings
// that are still there, new findings get "?", and the findings that are
// gone are named on stderr: run it after changing a rule.
//
// score reads every .txt file of a directory (one per module) and prints,
// per module and per rule, the findings and how many are true, for all the
// code and for the shipping code only (files not named _test.go). A "?"
// left in a file is an error.
//
// The command only reads the module it is given; it fetches nothing. The
// module's dependencies must be in the module cache (go mod download).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/structured-go/structured/structvet"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "list":
		err = list(os.Args[2:], os.Stdout, os.Stderr)
	case "score":
		err = score(os.Args[2:], os.Stdout)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "precision:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: precision list [-merge FILE] DIR | precision score DIR")
	os.Exit(2)
}

// A finding is one line of a listing or of a verdict file.
type finding struct {
	pos     string // path:line:col, path relative to the module
	rule    string // SV002
	verdict string // "?", "true" or "false"
	text    string // the message, or the reason of the verdict
}

func (f finding) key() string { return f.pos + "\t" + f.rule }

func (f finding) String() string {
	return f.pos + "\t" + f.rule + "\t" + f.verdict + "\t" + f.text
}

// test reports whether the finding lies in a _test.go file.
func (f finding) test() bool {
	path, _, _ := strings.Cut(f.pos, ":")
	return strings.HasSuffix(path, "_test.go")
}

func list(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	merge := fs.String("merge", "", "keep the verdicts of this file for the findings still there")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("list takes one module directory")
	}
	found, err := run(fs.Arg(0))
	if err != nil {
		return err
	}
	if *merge != "" {
		old, err := readVerdicts(*merge, true)
		if err != nil {
			return err
		}
		byKey := make(map[string]finding)
		for _, f := range old {
			byKey[f.key()] = f
		}
		for i, f := range found {
			if o, ok := byKey[f.key()]; ok {
				found[i] = o
				delete(byKey, f.key())
			}
		}
		for _, f := range old {
			if _, gone := byKey[f.key()]; gone {
				fmt.Fprintf(stderr, "gone: %s\n", f)
			}
		}
	}
	for _, f := range found {
		fmt.Fprintln(stdout, f)
	}
	return nil
}

// run runs every rule over the module in dir, tests included, and returns
// its findings in the order of their positions, each once.
func run(dir string) ([]finding, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	cfg := &packages.Config{Mode: packages.LoadAllSyntax, Dir: abs, Tests: true}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		return nil, err
	}
	var broken []string
	for _, p := range pkgs {
		if len(p.Errors) > 0 {
			broken = append(broken, p.ID)
		}
	}
	if len(broken) > 0 {
		fmt.Fprintf(os.Stderr, "precision: %d packages do not load and are left out: %s\n", len(broken), strings.Join(broken, ", "))
	}
	rules := append(structvet.Analyzers(), structvet.Experimental()...)
	for _, a := range rules {
		// Every finding, tests included: the defaults are what the
		// measurement decides.
		if f := a.Flags.Lookup("tests"); f != nil {
			if err := a.Flags.Set("tests", "false"); err != nil {
				return nil, err
			}
		}
	}
	graph, err := checker.Analyze(rules, pkgs, nil)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool)
	var out []finding
	for act := range graph.All() {
		if !act.IsRoot {
			continue
		}
		for _, d := range act.Diagnostics {
			out = appendFinding(out, seen, abs, act.Package.Fset.Position(d.Pos).String(), d)
		}
	}
	slices.SortFunc(out, func(a, b finding) int { return comparePos(a.pos, b.pos) })
	return out, nil
}

func appendFinding(out []finding, seen map[string]bool, dir, pos string, d analysis.Diagnostic) []finding {
	if rel, err := filepath.Rel(dir, pos); err == nil && !strings.HasPrefix(rel, "..") {
		pos = filepath.ToSlash(rel)
	}
	rule, msg, _ := strings.Cut(d.Message, ": ")
	msg = strings.ReplaceAll(msg, "\t", " ")
	msg = strings.ReplaceAll(msg, "\n", " ")
	f := finding{pos: pos, rule: rule, verdict: "?", text: msg}
	if seen[f.key()] {
		return out // a file of a package and of its test variant
	}
	seen[f.key()] = true
	return append(out, f)
}

// comparePos orders path:line:col strings by path, then line, then column.
func comparePos(a, b string) int {
	pa, la, ca := splitPos(a)
	pb, lb, cb := splitPos(b)
	if c := strings.Compare(pa, pb); c != 0 {
		return c
	}
	if la != lb {
		return la - lb
	}
	return ca - cb
}

func splitPos(s string) (path string, line, col int) {
	parts := strings.Split(s, ":")
	if len(parts) < 3 {
		return s, 0, 0
	}
	fmt.Sscan(parts[len(parts)-2], &line)
	fmt.Sscan(parts[len(parts)-1], &col)
	return strings.Join(parts[:len(parts)-2], ":"), line, col
}

// readVerdicts reads a listing or a verdict file. With unread false, a
// finding still marked "?" is an error.
func readVerdicts(path string, unread bool) ([]finding, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var out []finding
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "\t", 4)
		if len(parts) != 4 {
			return nil, fmt.Errorf("%s:%d: want path:line:col, rule, verdict and reason separated by tabs", path, n)
		}
		f := finding{pos: parts[0], rule: parts[1], verdict: parts[2], text: parts[3]}
		switch {
		case f.verdict == "true" || f.verdict == "false":
		case f.verdict == "?" && unread:
		case f.verdict == "?":
			return nil, fmt.Errorf("%s:%d: %s is not read yet", path, n, f.pos)
		default:
			return nil, fmt.Errorf("%s:%d: verdict %q, want true or false", path, n, f.verdict)
		}
		if f.verdict != "?" && strings.TrimSpace(f.text) == "" {
			return nil, fmt.Errorf("%s:%d: a verdict needs a reason", path, n)
		}
		out = append(out, f)
	}
	return out, sc.Err()
}

// tally counts findings and true ones.
type tally struct{ found, true int }

func (t *tally) add(f finding) {
	t.found++
	if f.verdict == "true" {
		t.true++
	}
}

func (t tally) String() string {
	if t.found == 0 {
		return "–"
	}
	return fmt.Sprintf("%d/%d", t.true, t.found)
}

func (t tally) percent() string {
	if t.found == 0 {
		return "–"
	}
	return fmt.Sprintf("%d%%", t.true*100/t.found)
}

var rules = []string{"SV001", "SV002", "SV003", "SV004", "SV005", "SV006", "SV007"}

func score(args []string, w io.Writer) error {
	if len(args) != 1 {
		return errors.New("score takes one directory of verdict files")
	}
	files, err := filepath.Glob(filepath.Join(args[0], "*.txt"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no .txt files in %s", args[0])
	}
	all := make(map[string]*tally)
	ship := make(map[string]*tally)
	for _, r := range rules {
		all[r], ship[r] = new(tally), new(tally)
	}
	fmt.Fprintf(w, "| module | %s |\n", strings.Join(rules, " | "))
	fmt.Fprintf(w, "|---|%s\n", strings.Repeat("---|", len(rules)))
	for _, path := range files {
		fs, err := readVerdicts(path, false)
		if err != nil {
			return err
		}
		mod := make(map[string]*tally)
		for _, r := range rules {
			mod[r] = new(tally)
		}
		for _, f := range fs {
			if mod[f.rule] == nil {
				return fmt.Errorf("%s: unknown rule %s", path, f.rule)
			}
			mod[f.rule].add(f)
			all[f.rule].add(f)
			if !f.test() {
				ship[f.rule].add(f)
			}
		}
		row := make([]string, len(rules))
		for i, r := range rules {
			row[i] = mod[r].String()
		}
		fmt.Fprintf(w, "| %s | %s |\n", strings.TrimSuffix(filepath.Base(path), ".txt"), strings.Join(row, " | "))
	}
	for _, t := range []struct {
		name string
		m    map[string]*tally
	}{{"true / found, tests included", all}, {"precision, tests included", all}, {"true / found, shipping code", ship}, {"precision, shipping code", ship}} {
		row := make([]string, len(rules))
		for i, r := range rules {
			if strings.HasPrefix(t.name, "precision") {
				row[i] = t.m[r].percent()
			} else {
				row[i] = t.m[r].String()
			}
		}
		fmt.Fprintf(w, "| **%s** | %s |\n", t.name, strings.Join(row, " | "))
	}
	return nil
}
