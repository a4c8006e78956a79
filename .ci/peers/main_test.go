//go:build go1.25

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestApplyEdits(t *testing.T) {
	const src = "package p\n\nfunc a() { f(1) }\nfunc b() { f(2) }\n// gone\nfunc c() { f(1) }\n"
	for _, c := range []struct {
		name, edits, want, wantErr string
	}{
		{"one line", "edit p.go\n-func b() { f(2) }\n+func b() { g(2) }\n",
			"package p\n\nfunc a() { f(1) }\nfunc b() { g(2) }\n// gone\nfunc c() { f(1) }\n", ""},
		{"part of a line, all", "# a comment\nedit p.go all\n-f(1)\n+h(1)\n",
			"package p\n\nfunc a() { h(1) }\nfunc b() { f(2) }\n// gone\nfunc c() { h(1) }\n", ""},
		{"several lines into more", "edit p.go\n-func a() { f(1) }\n-func b() { f(2) }\n+func a() {}\n+func b() {}\n+func d() {}\n",
			"package p\n\nfunc a() {}\nfunc b() {}\nfunc d() {}\n// gone\nfunc c() { f(1) }\n", ""},
		{"deletion", "edit p.go\n-// gone\n",
			"package p\n\nfunc a() { f(1) }\nfunc b() { f(2) }\nfunc c() { f(1) }\n", ""},
		{"in order", "edit p.go\n-f(2)\n+f(3)\n\nedit p.go\n-f(3)\n+f(4)\n",
			"package p\n\nfunc a() { f(1) }\nfunc b() { f(4) }\n// gone\nfunc c() { f(1) }\n", ""},
		{"twice without all", "edit p.go\n-f(1)\n+h(1)\n", "", "occur 2 times in p.go, want once"},
		{"not found", "edit p.go\n-f(9)\n+h(9)\n", "", "occur 0 times"},
		{"no such file", "edit q.go\n-f(1)\n+h(1)\n", "", "q.go"},
		{"nothing to find", "edit p.go\n+h(1)\n", "", "no lines to find"},
		{"a stray line", "edit p.go\n-f(2)\n+f(3)\nf(4)\n", "", "neither an edit"},
		{"a bad header", "edit p.go some\n-f(2)\n", "", "want \"edit <file> [all]\""},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		edits := filepath.Join(dir, "p.edits")
		if err := os.WriteFile(edits, []byte(c.edits), 0o644); err != nil {
			t.Fatal(err)
		}
		err := applyEdits(edits, dir)
		got, _ := os.ReadFile(filepath.Join(dir, "p.go"))
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: applyEdits = %v", c.name, err)
		case c.wantErr == "" && string(got) != c.want:
			t.Errorf("%s: the file became\n%s\nwant\n%s", c.name, got, c.want)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: applyEdits = %v, want an error containing %q", c.name, err, c.wantErr)
		}
	}
}

func TestReadList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "PEERS.md")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("# Peers\n\n- TestNotInASection: ignored\n\n## rate: x v1\n\nWords.\n\n- TestA: why a\n- `TestB`: why b\n\n## semaphore: y v2\n\n- TestC: why c\n")
	got, err := readList(path, "rate")
	if err != nil || len(got) != 2 || got["TestA"] != "why a" || got["TestB"] != "why b" {
		t.Fatalf("readList(rate) = %v, %v; want TestA and TestB with their reasons", got, err)
	}
	if got, err := readList(path, "semaphore"); err != nil || len(got) != 1 || got["TestC"] == "" {
		t.Fatalf("readList(semaphore) = %v, %v; want TestC", got, err)
	}
	if _, err := readList(path, "errgroup"); err == nil || !strings.Contains(err.Error(), "no section") {
		t.Fatalf("readList(a peer without a section) = %v, want an error", err)
	}
	write("## rate: x\n\n- TestA without a reason\n")
	if _, err := readList(path, "rate"); err == nil {
		t.Fatal("readList accepted a failure without a reason")
	}
}
