package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A snippet is the body of a generated function: Go lines, and the line
// (counted from 0) and rule of the finding it must produce, if any.
type snippet struct {
	lines []string
	at    int
	id    string // "" for code that must stay clean
}

var snippets = []snippet{
	{[]string{"var wg sync.WaitGroup", "wg.Add(1)", "go func() { defer wg.Done() }()", "if c() {", "\treturn", "}", "wg.Wait()"}, 1, "SV001"},
	{[]string{"go work()"}, 0, "SV002"},
	{[]string{"done := make(chan int)", "go func() { done <- 1 }()", "if c() {", "\treturn", "}", "<-done"}, 1, "SV002"},
	{[]string{"time.Sleep(time.Second)"}, 0, "SV003"},
	{[]string{"_ = call(context.Background())"}, 0, "SV004"},
	// Clean code, as correct programs write it.
	{[]string{"done := make(chan struct{})", "go func() { defer close(done); work() }()", "<-done"}, 0, ""},
	{[]string{"var wg sync.WaitGroup", "defer wg.Wait()", "wg.Add(1)", "go func() { defer wg.Done() }()", "if c() {", "\treturn", "}"}, 0, ""},
	{[]string{"time.Sleep(time.Millisecond)"}, 0, ""},
	{[]string{"_ = call(ctx)"}, 0, ""},
	{[]string{"select {", "case <-time.After(time.Second):", "case <-ctx.Done():", "}"}, 0, ""},
}

var ruleNames = map[string]string{"SV001": "waitskip", "SV002": "barego", "SV003": "sleepctx", "SV004": "freshctx"}

// TestCommandOnRandomPrograms writes modules of random functions, each a
// snippet that must be reported or must stay clean, some findings under a
// //structvet:ignore comment (with a reason, without one, for another
// rule, by ID or by name), runs the command with a random rule left out,
// and checks that it reports exactly the expected findings, each once.
func TestCommandOnRandomPrograms(t *testing.T) {
	for seed := range uint64(3) {
		r := rand.New(rand.NewPCG(seed, 0xc0de))
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/random\n\ngo 1.25\n")
		off := []string{"", "SV001", "SV002", "SV003", "SV004"}[r.IntN(5)]
		var want []string
		var notes []string // findings whose ignore comment lacks a reason
		for file := range 3 {
			name := fmt.Sprintf("f%d.go", file)
			var b strings.Builder
			line := 1
			emit := func(s string) { b.WriteString(s + "\n"); line++ }
			emit("package random")
			emit("")
			emit(`import (`)
			emit(`	"context"`)
			emit(`	"sync"`)
			emit(`	"time"`)
			emit(`)`)
			emit("")
			emit("var _ sync.Mutex")
			emit("var _ = time.Second")
			if file == 0 {
				emit("func c() bool                        { return false }")
				emit("func work()                          {}")
				emit("func call(ctx context.Context) error { return ctx.Err() }")
			}
			for fn := range 20 {
				sn := snippets[r.IntN(len(snippets))]
				emit("")
				emit(fmt.Sprintf("func g%d_%d(ctx context.Context) {", file, fn))
				directive := ""
				if sn.id != "" {
					switch r.IntN(5) {
					case 1:
						directive = "//structvet:ignore " + sn.id + " checked by hand"
					case 2:
						directive = "//structvet:ignore " + ruleNames[sn.id] + " checked by hand"
					case 3:
						directive = "//structvet:ignore " + sn.id
					case 4:
						directive = "//structvet:ignore SV007 another rule"
					}
				}
				for i, l := range sn.lines {
					if i == sn.at && directive != "" {
						emit("\t" + directive)
					}
					if i == sn.at && sn.id != "" && sn.id != off {
						silenced := strings.HasSuffix(directive, "checked by hand")
						if !silenced {
							want = append(want, fmt.Sprintf("%s:%d %s", name, line, sn.id))
							if directive == "//structvet:ignore "+sn.id {
								notes = append(notes, fmt.Sprintf("%s:%d", name, line))
							}
						}
					}
					emit("\t" + l)
				}
				emit("}")
			}
			writeFile(t, filepath.Join(dir, name), b.String())
		}
		// The rules of the snippets are experimental: -experimental turns
		// them on, and -rule=false leaves one out again.
		args := []string{"-experimental", "./..."}
		if off != "" {
			args = []string{"-experimental", "-" + ruleNames[off] + "=false", "./..."}
		}
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, _ := cmd.CombinedOutput()
		var got []string
		gotNotes := 0
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l == "" {
				continue
			}
			// dir/f0.go:12:2: SV002: message
			parts := strings.SplitN(l, ": ", 3)
			if len(parts) < 3 {
				t.Fatalf("seed %d: unexpected output line %q", seed, l)
			}
			loc := strings.Split(filepath.Base(parts[0]), ":")
			got = append(got, fmt.Sprintf("%s:%s %s", loc[0], loc[1], parts[1]))
			if strings.Contains(parts[2], "needs a reason") {
				gotNotes++
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("seed %d, %v: findings\n%s\nwant\n%s", seed, args, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if gotNotes != len(notes) {
			t.Errorf("seed %d: %d findings say their ignore comment needs a reason, want %d (%v)", seed, gotNotes, len(notes), notes)
		}
		if len(want) == 0 {
			t.Errorf("seed %d: nothing expected: the test proves little", seed)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
