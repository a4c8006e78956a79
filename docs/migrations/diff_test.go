package migrations_test

// The check that keeps the diffs on the migration pages true. A ```diff
// block preceded by a marker
//
//	<!-- diff: docs/migrations/cenkalti_test.go RetryConfig.middlewareBackoffV5 RetryConfig.middleware -->
//
// must be, line for line, the diff from the first declaration to the
// second, both in that file (relative to the module's root): the code of
// the port before and after, which the Examples of this package run. The
// ```go blocks of the pages are checked by docs/docscheck_test.go.

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// moduleRoot is the structured module's root, seen from this directory.
const moduleRoot = "../.."

var diffMarker = regexp.MustCompile(`^<!--\s*diff:\s*(\S+)\s+(\S+)\s+(\S+)\s*-->$`)

// declText returns the text of the declaration name (F or T.M) in file.
func declText(file, name string) (string, error) {
	src, err := os.ReadFile(filepath.Join(moduleRoot, filepath.FromSlash(file)))
	if err != nil {
		return "", err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		return "", err
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		key := fd.Name.Name
		if fd.Recv != nil && len(fd.Recv.List) == 1 {
			t := fd.Recv.List[0].Type
			if s, ok := t.(*ast.StarExpr); ok {
				t = s.X
			}
			if id, ok := t.(*ast.Ident); ok {
				key = id.Name + "." + key
			}
		}
		if key == name {
			return string(src[fset.Position(fd.Pos()).Offset:fset.Position(fd.End()).Offset]), nil
		}
	}
	return "", fmt.Errorf("%s declares no function %s", file, name)
}

// lineDiff returns the diff from a to b, each line prefixed with " ", "-"
// or "+": a longest common subsequence kept, and in each change the lines
// removed before the lines added.
func lineDiff(a, b []string) []string {
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out = append(out, " "+a[i])
			i++
			j++
		case j == len(b) || i < len(a) && lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, "-"+a[i])
			i++
		default:
			out = append(out, "+"+b[j])
			j++
		}
	}
	return out
}

func TestLineDiff(t *testing.T) {
	got := strings.Join(lineDiff([]string{"a", "b", "c", "d"}, []string{"a", "x", "c", "d", "e"}), "|")
	if want := " a|-b|+x| c| d|+e"; got != want {
		t.Fatalf("lineDiff = %q, want %q", got, want)
	}
}

// diffBlocks returns, for each marked ```diff block of a page, the marker's
// three fields and the block's lines.
func diffBlocks(text string) (marks [][3]string, blocks [][]string) {
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		m := diffMarker.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			continue
		}
		if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```diff" {
			marks = append(marks, [3]string{m[1], m[2], m[3]})
			blocks = append(blocks, nil) // a marker without its block
			continue
		}
		block := []string{}
		for i += 2; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			block = append(block, strings.TrimRight(lines[i], " "))
		}
		marks = append(marks, [3]string{m[1], m[2], m[3]})
		blocks = append(blocks, block)
	}
	return marks, blocks
}

func TestEveryDiffOnTheMigrationPagesIsTheDiffOfItsCode(t *testing.T) {
	pages, err := filepath.Glob("../migrating-from-*.md")
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]int{}
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		marks, blocks := diffBlocks(string(text))
		for k, m := range marks {
			if blocks[k] == nil {
				t.Errorf("%s: the marker %v is not followed by a ```diff block", page, m)
				continue
			}
			before, err1 := declText(m[0], m[1])
			after, err2 := declText(m[0], m[2])
			if err1 != nil || err2 != nil {
				t.Errorf("%s: %v %v", page, err1, err2)
				continue
			}
			want := lineDiff(strings.Split(before, "\n"), strings.Split(after, "\n"))
			for i := range want {
				want[i] = strings.TrimRight(want[i], " ")
			}
			if strings.Join(blocks[k], "\n") != strings.Join(want, "\n") {
				t.Errorf("%s: the diff from %s to %s in %s has drifted from the code; it is now:\n```diff\n%s\n```", page, m[1], m[2], m[0], strings.Join(want, "\n"))
			}
			checked[filepath.Base(page)]++
		}
	}
	for _, page := range []string{
		"migrating-from-cenkalti-backoff.md",
		"migrating-from-retry-go.md",
		"migrating-from-go-retry.md",
		"migrating-from-conc.md",
		"migrating-from-rill.md",
		"migrating-from-x-time-rate.md",
		"migrating-from-x-sync-semaphore.md",
	} {
		if checked[page] == 0 {
			t.Errorf("docs/%s shows no checked diff of a port", page)
		}
	}
}
