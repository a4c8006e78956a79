//go:build go1.25

package docs_test

// The check that keeps the Markdown of docs/ and the code it shows in step.
//
// Every fenced code block in docs/*.md names its language. Every ```go block
// is preceded by a marker naming where it comes from:
//
//	<!-- from: nursery/example_test.go ExampleMap -->
//
// a file (relative to the module's root) and, optionally, a declaration in
// it: a function, a method (T.M), a type, a variable or a constant. The
// block must appear in that declaration (or file) verbatim, line for line,
// up to the indentation of each line; a line "// ..." alone in the block
// stands for any number of lines left out. And the declaration must be code
// that CI runs: an Example with an output comment, a Test, or a function or
// variable they reach; or, in a package main under examples/ that .ci/run
// runs, main and what it reaches.
//
// Blocks in other languages (Python originals, shell commands) are not
// checked. Relative links must lead to files that exist, every page must be
// in the index (docs/README.md), and every recipe the index lists must
// answer the four questions and show its trap.

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// root is the module's root, seen from this directory.
const root = ".."

// pending holds pages that the index links to and that are written
// elsewhere: a link to one of them is accepted while it does not exist yet,
// and checked like any other once it does.
var pending = map[string]bool{}

// A block is one fenced code block of a Markdown file.
type block struct {
	doc    string // the Markdown file
	line   int    // of the opening fence, from 1
	lang   string
	lines  []string
	marked bool   // a marker precedes it
	source string // the marker's file, relative to the module's root
	name   string // the marker's declaration, or ""
}

func (b block) String() string { return fmt.Sprintf("%s:%d", b.doc, b.line) }

var markerRE = regexp.MustCompile(`^<!--\s*from:\s*(\S+)(?:\s+(\S+))?\s*-->$`)

// parseBlocks returns the fenced code blocks of a Markdown text.
func parseBlocks(docName, text string) ([]block, error) {
	var blocks []block
	lines := strings.Split(text, "\n")
	prev := "" // the last non-blank line outside a block
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(trimmed, "```") {
			if trimmed != "" {
				prev = trimmed
			}
			continue
		}
		indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " \t"))]
		b := block{doc: docName, line: i + 1, lang: strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))}
		if m := markerRE.FindStringSubmatch(prev); m != nil {
			b.marked, b.source, b.name = true, m[1], m[2]
		}
		closed := false
		for i++; i < len(lines); i++ {
			if strings.TrimSpace(lines[i]) == "```" {
				closed = true
				break
			}
			b.lines = append(b.lines, strings.TrimPrefix(lines[i], indent))
		}
		if !closed {
			return nil, fmt.Errorf("%s: the code block never ends", b)
		}
		blocks = append(blocks, b)
		prev = ""
	}
	return blocks, nil
}

// A decl is one top-level declaration of a package: its text, and the names
// it refers to.
type decl struct {
	text string
	refs []string
}

// A pkgIndex is what the check knows about the Go files of one directory.
type pkgIndex struct {
	files     map[string]string // base name -> text
	decls     map[string][]decl // "F", "T.M", "T", "V" -> declarations
	reachable map[string]bool   // names of the decls that CI runs
}

// indexPackage parses the Go files of a directory, given as base name ->
// text, and finds what CI runs of it: Examples with output and Tests; and
// main too if runByCI.
func indexPackage(files map[string]string, runByCI bool) (*pkgIndex, error) {
	fset := token.NewFileSet()
	idx := &pkgIndex{files: files, decls: map[string][]decl{}, reachable: map[string]bool{}}
	var roots []string
	var testFiles []*ast.File
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		src := files[name]
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		isTest := strings.HasSuffix(name, "_test.go")
		if isTest {
			testFiles = append(testFiles, f)
		}
		text := func(n ast.Node, docGroup *ast.CommentGroup) string {
			start := n.Pos()
			if docGroup != nil {
				start = docGroup.Pos()
			}
			return src[fset.Position(start).Offset:fset.Position(n.End()).Offset]
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				key := d.Name.Name
				if d.Recv != nil && len(d.Recv.List) == 1 {
					key = recvName(d.Recv.List[0].Type) + "." + key
				}
				idx.decls[key] = append(idx.decls[key], decl{text: text(d, d.Doc), refs: identsIn(d)})
				if isTest && strings.HasPrefix(d.Name.Name, "Test") && d.Recv == nil {
					roots = append(roots, key)
				}
				if runByCI && !isTest && f.Name.Name == "main" && key == "main" {
					roots = append(roots, key)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					docGroup := d.Doc
					if d.Lparen.IsValid() {
						docGroup = nil // one spec of a group: its own text only
					}
					switch s := s.(type) {
					case *ast.TypeSpec:
						n := ast.Node(s)
						if docGroup != nil {
							n = d
						}
						idx.decls[s.Name.Name] = append(idx.decls[s.Name.Name], decl{text: text(n, docGroup), refs: identsIn(s)})
					case *ast.ValueSpec:
						n := ast.Node(s)
						if docGroup != nil {
							n = d
						}
						for _, id := range s.Names {
							idx.decls[id.Name] = append(idx.decls[id.Name], decl{text: text(n, docGroup), refs: identsIn(s)})
						}
					}
				}
			}
		}
	}
	for _, ex := range doc.Examples(testFiles...) {
		if ex.Output != "" || ex.EmptyOutput {
			roots = append(roots, "Example"+ex.Name)
		}
	}
	// What the roots reach: a name refers to a function, a type, a
	// variable, or (as the last part of a selector) any method of that name.
	methods := map[string][]string{}
	for key := range idx.decls {
		if _, m, ok := strings.Cut(key, "."); ok {
			methods[m] = append(methods[m], key)
		}
	}
	work := roots
	for len(work) > 0 {
		key := work[len(work)-1]
		work = work[:len(work)-1]
		if idx.reachable[key] {
			continue
		}
		idx.reachable[key] = true
		for _, d := range idx.decls[key] {
			for _, r := range d.refs {
				if _, ok := idx.decls[r]; ok && !idx.reachable[r] {
					work = append(work, r)
				}
				for _, m := range methods[r] {
					if !idx.reachable[m] {
						work = append(work, m)
					}
				}
			}
		}
	}
	return idx, nil
}

func recvName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return recvName(e.X)
	case *ast.IndexExpr:
		return recvName(e.X)
	case *ast.IndexListExpr:
		return recvName(e.X)
	case *ast.Ident:
		return e.Name
	}
	return ""
}

func identsIn(n ast.Node) []string {
	var ids []string
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			ids = append(ids, id.Name)
		}
		return true
	})
	return ids
}

// normalize drops each line's indentation and trailing blanks.
func normalize(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSpace(l)
	}
	return out
}

func isElision(l string) bool { return l == "// ..." }

// contains reports whether blk appears in src, line for line, where an
// elision line of blk stands for any number of lines of src.
func contains(src, blk []string) bool {
	for start := range len(src) + 1 {
		if matchAt(src[start:], blk) {
			return true
		}
	}
	return false
}

func matchAt(src, blk []string) bool {
	if len(blk) == 0 {
		return true
	}
	if isElision(blk[0]) {
		for k := 0; k <= len(src); k++ {
			if matchAt(src[k:], blk[1:]) {
				return true
			}
		}
		return false
	}
	if len(src) == 0 || src[0] != blk[0] {
		return false
	}
	return matchAt(src[1:], blk[1:])
}

// checkBlock checks one ```go block against the package it names.
func checkBlock(b block, idx *pkgIndex) error {
	base := path.Base(b.source)
	src, ok := idx.files[base]
	if !ok {
		return fmt.Errorf("%s: %s does not exist", b, b.source)
	}
	blk := normalize(b.lines)
	if !slices.ContainsFunc(blk, func(l string) bool { return l != "" && !isElision(l) }) {
		return fmt.Errorf("%s: the block shows no code", b)
	}
	var texts []string
	if b.name == "" {
		texts = []string{src}
	} else {
		for _, d := range idx.decls[b.name] {
			if strings.Contains(src, d.text) {
				texts = append(texts, d.text)
			}
		}
		if len(texts) == 0 {
			return fmt.Errorf("%s: %s declares no %s", b, b.source, b.name)
		}
		if !idx.reachable[b.name] {
			return fmt.Errorf("%s: %s in %s is not run by CI: it is not an Example with an output comment, a Test, or a program's main under examples/ that .ci/run runs, nor reached by one", b, b.name, b.source)
		}
	}
	for _, t := range texts {
		if contains(normalize(strings.Split(t, "\n")), blk) {
			return nil
		}
	}
	where := b.source
	if b.name != "" {
		where = b.name + " in " + b.source
	}
	return fmt.Errorf("%s: the block is not in %s (the Markdown and the code have drifted apart); first line of the block: %q", b, where, firstCode(blk))
}

func firstCode(blk []string) string {
	for _, l := range blk {
		if l != "" && !isElision(l) {
			return l
		}
	}
	return ""
}

// checkMarkdown checks the code blocks of one Markdown file; load returns
// the index of the package of a source file named by a marker.
func checkMarkdown(docName, text string, load func(source string) (*pkgIndex, error)) []error {
	blocks, err := parseBlocks(docName, text)
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, b := range blocks {
		switch {
		case b.lang == "":
			errs = append(errs, fmt.Errorf("%s: a code block without a language: write ```go, ```python, ```sh, ...", b))
		case b.lang != "go":
			// Python originals, shell commands, output: not checked.
		case !b.marked:
			errs = append(errs, fmt.Errorf("%s: a Go block without a marker <!-- from: FILE NAME --> on the line before it", b))
		default:
			idx, err := load(b.source)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %v", b, err))
				continue
			}
			if err := checkBlock(b, idx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// A loader reads and indexes the packages of the module from disk, once
// each.
type loader struct {
	ciRun string
	cache map[string]*pkgIndex
}

func (l *loader) load(source string) (*pkgIndex, error) {
	dir := path.Dir(source)
	if idx, ok := l.cache[dir]; ok {
		return idx, nil
	}
	entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(dir)))
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".go") {
			b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(dir), e.Name()))
			if err != nil {
				return nil, err
			}
			files[e.Name()] = string(b)
		}
	}
	// .ci/run runs a program as "go run ./examples/NAME", or through its
	// helper, "run_example NAME", which checks the program's output.
	name := strings.TrimPrefix(dir, "examples/")
	runByCI := strings.HasPrefix(dir, "examples/") &&
		regexp.MustCompile(`(\./examples/|\brun_example )`+regexp.QuoteMeta(name)+`\b`).MatchString(l.ciRun)
	idx, err := indexPackage(files, runByCI)
	if err != nil {
		return nil, err
	}
	l.cache[dir] = idx
	return idx, nil
}

// markdownFiles returns the Markdown files of docs/, name -> text.
func markdownFiles(t *testing.T) map[string]string {
	t.Helper()
	names, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no Markdown files in docs/")
	}
	docs := map[string]string{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		docs[name] = string(b)
	}
	return docs
}

func TestEveryGoBlockComesFromCodeThatCIRuns(t *testing.T) {
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	l := &loader{ciRun: string(ci), cache: map[string]*pkgIndex{}}
	checked := 0
	for name, text := range markdownFiles(t) {
		for _, err := range checkMarkdown(name, text, l.load) {
			t.Error(err)
		}
		blocks, _ := parseBlocks(name, text)
		for _, b := range blocks {
			if b.lang == "go" {
				checked++
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d Go blocks in docs/: the cookbook is missing", checked)
	}
}

var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// links returns the relative link targets of a Markdown text, outside code
// blocks, without their #fragment.
func links(text string) []string {
	var out []string
	inCode := false
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inCode = !inCode
			continue
		}
		if inCode {
			continue
		}
		for _, m := range linkRE.FindAllStringSubmatch(l, -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			out = append(out, target)
		}
	}
	return out
}

func TestLinksLeadToFilesThatExist(t *testing.T) {
	for name, text := range markdownFiles(t) {
		for _, target := range links(text) {
			if _, err := os.Stat(filepath.FromSlash(target)); err == nil {
				continue
			}
			if pending[target] {
				continue
			}
			t.Errorf("%s: the link to %s leads nowhere", name, target)
		}
	}
}

func TestEveryPageIsInTheIndex(t *testing.T) {
	docs := markdownFiles(t)
	index, ok := docs["README.md"]
	if !ok {
		t.Fatal("docs/README.md, the index, is missing")
	}
	linked := map[string]bool{}
	for _, target := range links(index) {
		linked[target] = true
	}
	for name := range docs {
		if name != "README.md" && !linked[name] {
			t.Errorf("docs/%s is not linked from the index, docs/README.md", name)
		}
	}
}

// recipes returns the pages listed under the index's "## Recipes" heading.
func recipes(index string) []string {
	_, rest, ok := strings.Cut(index, "\n## Recipes\n")
	if !ok {
		return nil
	}
	section, _, _ := strings.Cut(rest, "\n## ")
	return links(section)
}

// The four questions every recipe answers, and its trap.
var recipeParts = []string{
	"## In Python",
	"## What happens when",
	"- **A task fails**",
	"- **The context is cancelled**",
	"- **A task panics**",
	"- **The caller stops early**",
	"## Don't do this",
}

func checkRecipe(name, text string) []error {
	var errs []error
	if !strings.HasPrefix(text, "# ") {
		errs = append(errs, fmt.Errorf("%s: a recipe starts with its title, the task it does (# ...)", name))
	}
	for _, part := range recipeParts {
		if !strings.Contains(text, "\n"+part) {
			errs = append(errs, fmt.Errorf("%s: the recipe has no %q", name, part))
		}
	}
	blocks, err := parseBlocks(name, text)
	if err != nil {
		return append(errs, err)
	}
	langs := map[string]int{}
	for _, b := range blocks {
		langs[b.lang]++
	}
	if langs["python"] == 0 {
		errs = append(errs, fmt.Errorf("%s: the recipe shows no Python original", name))
	}
	if langs["go"] < 2 {
		errs = append(errs, fmt.Errorf("%s: the recipe shows %d Go blocks; want the recipe and its trap at least", name, langs["go"]))
	}
	return errs
}

func TestEveryRecipeAnswersTheFourQuestions(t *testing.T) {
	docs := markdownFiles(t)
	list := recipes(docs["README.md"])
	if len(list) < 15 {
		t.Fatalf("the index lists %d recipes under ## Recipes, want 15 or more", len(list))
	}
	for _, name := range list {
		text, ok := docs[name]
		if !ok {
			if pending[name] {
				continue
			}
			t.Errorf("the index lists %s, which does not exist", name)
			continue
		}
		if pending[name] {
			continue // written elsewhere, with a form of its own
		}
		for _, err := range checkRecipe(name, text) {
			t.Error(err)
		}
	}
}

// The check itself, on small inputs: it must fail when the two drift apart.

const fakeSource = `package p_test

import "fmt"

func ExampleShown() {
	x := 1
	if x > 0 {
		fmt.Println("positive")
	}
	// Output: positive
}

func ExampleSilent() {
	fmt.Println("never compared")
}

func helper() int { return 2 }

func ExampleUsesHelper() {
	fmt.Println(helper())
	// Output: 2
}
`

func fakeLoad(source string) (*pkgIndex, error) {
	if path.Dir(source) != "p" {
		return nil, fmt.Errorf("no package %s", path.Dir(source))
	}
	return indexPackage(map[string]string{"example_test.go": fakeSource}, false)
}

func TestCheckMarkdownFindsDrift(t *testing.T) {
	tests := []struct {
		name, md string
		wantErr  string // "" for none
	}{
		{"verbatim", "<!-- from: p/example_test.go ExampleShown -->\n```go\nx := 1\nif x > 0 {\n\tfmt.Println(\"positive\")\n}\n```\n", ""},
		{"indented differently", "<!-- from: p/example_test.go ExampleShown -->\n```go\n    x := 1\n    if x > 0 {\n```\n", ""},
		{"elision", "<!-- from: p/example_test.go ExampleShown -->\n```go\nx := 1\n// ...\n// Output: positive\n```\n", ""},
		{"whole file", "<!-- from: p/example_test.go -->\n```go\nfunc helper() int { return 2 }\n```\n", ""},
		{"helper reached by an Example", "<!-- from: p/example_test.go helper -->\n```go\nfunc helper() int { return 2 }\n```\n", ""},
		{"python is not checked", "```python\nawait gather()\n```\n", ""},
		{"a changed line", "<!-- from: p/example_test.go ExampleShown -->\n```go\nx := 2\n```\n", "drifted apart"},
		{"lines out of order", "<!-- from: p/example_test.go ExampleShown -->\n```go\nif x > 0 {\nx := 1\n```\n", "drifted apart"},
		{"in the file but not in the declaration", "<!-- from: p/example_test.go ExampleShown -->\n```go\nfunc helper() int { return 2 }\n```\n", "drifted apart"},
		{"no marker", "```go\nx := 1\n```\n", "without a marker"},
		{"no language", "```\nx := 1\n```\n", "without a language"},
		{"a missing file", "<!-- from: p/gone_test.go -->\n```go\nx := 1\n```\n", "does not exist"},
		{"a missing declaration", "<!-- from: p/example_test.go ExampleGone -->\n```go\nx := 1\n```\n", "declares no ExampleGone"},
		{"an Example without output", "<!-- from: p/example_test.go ExampleSilent -->\n```go\nfmt.Println(\"never compared\")\n```\n", "not run by CI"},
		{"only elisions", "<!-- from: p/example_test.go ExampleShown -->\n```go\n// ...\n```\n", "shows no code"},
		{"an unclosed block", "<!-- from: p/example_test.go ExampleShown -->\n```go\nx := 1\n", "never ends"},
	}
	for _, tt := range tests {
		errs := checkMarkdown("t.md", tt.md, fakeLoad)
		switch {
		case tt.wantErr == "" && len(errs) > 0:
			t.Errorf("%s: checkMarkdown = %v, want no error", tt.name, errs)
		case tt.wantErr != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.wantErr)):
			t.Errorf("%s: checkMarkdown = %v, want one error containing %q", tt.name, errs, tt.wantErr)
		}
	}
}

func TestIndexPackageFindsWhatAProgramRuns(t *testing.T) {
	files := map[string]string{"main.go": `package main

var steps = []func(){stepOne}

func stepOne() {}

func unused() {}

func main() {
	for _, s := range steps {
		s()
	}
}
`}
	for _, runByCI := range []bool{true, false} {
		idx, err := indexPackage(files, runByCI)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]bool{"main": runByCI, "steps": runByCI, "stepOne": runByCI, "unused": false} {
			if got := idx.reachable[name]; got != want {
				t.Errorf("indexPackage(runByCI=%v): reachable[%s] = %v, want %v", runByCI, name, got, want)
			}
		}
	}
}

func TestCheckRecipeWantsTheFourQuestions(t *testing.T) {
	full := "# Do a thing\n\n## In Python\n\n```python\nx\n```\n\n## What happens when\n\n" +
		"- **A task fails**: a.\n- **The context is cancelled**: b.\n- **A task panics**: c.\n- **The caller stops early**: d.\n\n" +
		"## Don't do this\n\n<!-- from: p/x.go -->\n```go\na\n```\n<!-- from: p/x.go -->\n```go\nb\n```\n"
	if errs := checkRecipe("r.md", full); len(errs) != 0 {
		t.Errorf("checkRecipe(a full recipe) = %v, want none", errs)
	}
	noPanic := strings.Replace(full, "- **A task panics**: c.\n", "", 1)
	if errs := checkRecipe("r.md", noPanic); len(errs) != 1 || !bytes.Contains([]byte(errs[0].Error()), []byte("A task panics")) {
		t.Errorf("checkRecipe(no panic answer) = %v, want one error naming it", errs)
	}
}
