//go:build go1.25

package main

import (
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// normalize drops each line's indentation.
func normalize(text string) []string {
	var out []string
	for _, l := range strings.Split(strings.Trim(text, "\n"), "\n") {
		out = append(out, strings.TrimSpace(l))
	}
	return out
}

// contains reports whether code appears in src line for line, where a
// line "..." of code stands for any number of lines of src.
func contains(src, code []string) bool {
	var match func(src, code []string) bool
	match = func(src, code []string) bool {
		if len(code) == 0 {
			return true
		}
		if code[0] == "..." {
			for k := 0; k <= len(src); k++ {
				if match(src[k:], code[1:]) {
					return true
				}
			}
			return false
		}
		return len(src) > 0 && src[0] == code[0] && match(src[1:], code[1:])
	}
	for start := range len(src) + 1 {
		if match(src[start:], code) {
			return true
		}
	}
	return false
}

// The code a chapter prints is the code it runs: each line is in the
// chapter's file, in that order.
func TestEveryChapterPrintsCodeItRuns(t *testing.T) {
	for i, c := range chapters {
		if c.file == "chapters.go" {
			t.Errorf("chapter %d: its code must come from the file that runs it, not from chapters.go", i+1)
			continue
		}
		src, err := os.ReadFile(c.file)
		if err != nil {
			t.Errorf("chapter %d: %v", i+1, err)
			continue
		}
		if !contains(normalize(string(src)), normalize(c.code)) {
			t.Errorf("chapter %d (%s): the code it prints is not in %s:\n%s", i+1, c.title, c.file, c.code)
		}
	}
}

// A chapter's title names the helpers it really uses, in parentheses at
// its end; each must be called in the chapter's file.
func TestEveryTitleNamesHelpersTheChapterUses(t *testing.T) {
	for i, c := range chapters {
		open := strings.LastIndex(c.title, "(")
		if open < 0 || !strings.HasSuffix(c.title, ")") {
			t.Errorf("chapter %d: the title %q does not end with the helpers it uses, in parentheses", i+1, c.title)
			continue
		}
		src, err := os.ReadFile(c.file)
		if err != nil {
			t.Errorf("chapter %d: %v", i+1, err)
			continue
		}
		names := c.title[open+1 : len(c.title)-1]
		for _, part := range strings.FieldsFunc(names, func(r rune) bool { return r == ',' || r == ';' || r == '+' }) {
			part = strings.TrimSpace(part)
			if pkg, ok := strings.CutPrefix(part, "package "); ok {
				if !strings.Contains(string(src), pkg+".") {
					t.Errorf("chapter %d: the title names package %s, which %s does not use", i+1, pkg, c.file)
				}
				continue
			}
			if strings.Contains(part, " ") {
				continue // words, not a helper
			}
			name := part[strings.LastIndex(part, ".")+1:]
			name, _, _ = strings.Cut(name, "(")
			if !strings.Contains(string(src), "."+name+"(") && !strings.Contains(string(src), " "+name+"(") &&
				!strings.Contains(string(src), "."+name+"[") && // a generic function, instantiated
				!strings.Contains(string(src), ".New"+name+"(") && !strings.Contains(string(src), ".New"+name+"[") { // a type, made by its constructor
				t.Errorf("chapter %d: the title names %s, which %s does not call", i+1, part, c.file)
			}
		}
		if len(c.showed) == 0 {
			t.Errorf("chapter %d: no row for the closing table", i+1)
		}
	}
}

func TestContainsAllowsElisionAndFindsDrift(t *testing.T) {
	src := normalize("a\n\tb\nc\nd\n")
	tests := []struct {
		code string
		want bool
	}{
		{"a\nb", true},
		{"b\n...\nd", true},
		{"a\nc", false},
		{"b\na", false},
	}
	for _, tt := range tests {
		if got := contains(src, normalize(tt.code)); got != tt.want {
			t.Errorf("contains(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}
