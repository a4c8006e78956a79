package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// list runs every rule, the experimental ones and tests included, and
// keeps the verdicts of a file written before, by position and rule.
func TestListKeepsVerdictsAndNamesWhatIsGone(t *testing.T) {
	dir := filepath.Join("..", "testdata", "example")
	var out, errs bytes.Buffer
	if err := list([]string{dir}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rules []string
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != 4 || f[2] != "?" || !strings.HasPrefix(f[0], "shop.go:") {
			t.Fatalf("list line %q, want shop.go:line:col, rule, ?, message", l)
		}
		rules = append(rules, f[1])
	}
	if got, want := strings.Join(rules, " "), "SV001 SV002 SV004 SV003"; got != want {
		t.Errorf("list found %s, want %s (every rule, experimental ones too)", got, want)
	}

	old := filepath.Join(t.TempDir(), "shop.txt")
	verdicts := strings.Replace(lines[0], "\t?\t", "\ttrue\t", 1) + "\n" + "gone.go:1:1\tSV002\tfalse\tno longer found\n"
	if err := os.WriteFile(old, []byte(verdicts), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errs.Reset()
	if err := list([]string{"-merge", old, dir}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	merged := strings.Split(strings.TrimSpace(out.String()), "\n")
	if merged[0] != strings.Replace(lines[0], "\t?\t", "\ttrue\t", 1) || merged[1] != lines[1] {
		t.Errorf("merged = %q, want the verdict kept for the first finding and ? for the others", merged[:2])
	}
	if !strings.Contains(errs.String(), "gone: gone.go:1:1") {
		t.Errorf("stderr = %q, want the finding that is gone named", errs.String())
	}
}

// score counts per rule, tests included and shipping code alone, and
// refuses a finding not read yet.
func TestScoreCountsVerdicts(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "x.go:1:1\tSV002\ttrue\tleaks\nx_test.go:2:1\tSV002\tfalse\tjoined\nx.go:3:1\tSV003\ttrue\tsleeps\n")
	write("b.txt", "y.go:1:1\tSV002\tfalse\tjoined\n")
	var out bytes.Buffer
	if err := score([]string{dir}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| a | – | 1/2 | 1/1 | – | – | – | – |",
		"| b | – | 0/1 | – | – | – | – | – |",
		"| **true / found, tests included** | – | 1/3 | 1/1 |",
		"| **precision, tests included** | – | 33% | 100% |",
		"| **true / found, shipping code** | – | 1/2 | 1/1 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("score output has no line %q:\n%s", want, out.String())
		}
	}
	write("c.txt", "z.go:1:1\tSV002\t?\tnot read\n")
	if err := score([]string{dir}, &out); err == nil || !strings.Contains(err.Error(), "not read yet") {
		t.Errorf("score with an unread finding = %v, want an error saying it is not read yet", err)
	}
}

// The README quotes round 4, the held-out round of the rules as they are:
// its figures are what the committed verdicts count.
func TestREADMEQuotesRoundFourAsScored(t *testing.T) {
	var out bytes.Buffer
	if err := score([]string{filepath.Join("verdicts", "round4")}, &out); err != nil {
		t.Fatal(err)
	}
	// | **true / found, tests included** | SV001 | SV002 | SV003 | SV004 | SV005 | SV006 | SV007 |
	row := func(label string) []string {
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, "| **"+label+"** |") {
				cells := strings.Split(strings.Trim(line, "| "), " | ")
				return cells[1:]
			}
		}
		t.Fatalf("score output has no row %q:\n%s", label, out.String())
		return nil
	}
	all, ship := row("true / found, tests included"), row("true / found, shipping code")
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| **true / found, tests included** | **" + all[1] + " (91%)** | **" + all[2] + "** | **" + all[3] + "** | **" + all[6] + "** |",
		"| **shipping code only** | **" + ship[1] + " (97%)** |",
	} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not quote round 4 as scored: no %q", want)
		}
	}
	if all[1] != "85/93" || ship[1] != "65/67" {
		t.Errorf("SV002 on round 4 scores %s, %s in shipping code; the README's 91%% and 97%% are for 85/93 and 65/67", all[1], ship[1])
	}
}
