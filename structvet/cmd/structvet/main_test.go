package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// bin is the command, built once for all the tests.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "structvet-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "structvet")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { os.RemoveAll(dir) }))
}

// run runs a command in one of the module's testdata modules and returns
// its combined output and exit code.
func run(t *testing.T, module string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = filepath.Join("..", "..", "testdata", module)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out), code
}

func TestStandaloneReportsEveryRuleAndFails(t *testing.T) {
	out, code := run(t, "example", bin, "-experimental", "./...")
	if code == 0 {
		t.Fatalf("structvet -experimental ./... exited 0 on code with findings:\n%s", out)
	}
	for _, id := range []string{"SV001", "SV002", "SV003", "SV004"} {
		if !strings.Contains(out, ": "+id+": ") {
			t.Errorf("structvet -experimental ./... output has no %s finding:\n%s", id, out)
		}
	}
}

// The default run reports the example's goroutine that nothing waits for
// (SV002, on by default) and none of its mistakes that only experimental
// rules find; naming a rule runs it, and only it.
func TestStandaloneExperimentalRulesAreOffByDefault(t *testing.T) {
	out, code := run(t, "example", bin, "./...")
	if code == 0 || !strings.Contains(out, ": SV002: ") {
		t.Errorf("structvet ./... = %q, exit %d; want the SV002 finding and a failure", out, code)
	}
	for _, id := range []string{"SV001", "SV003", "SV004", "SV007"} {
		if strings.Contains(out, ": "+id+": ") {
			t.Errorf("structvet ./... = %q: %s is experimental, off by default", out, id)
		}
	}
	out, code = run(t, "example", bin, "-waitskip", "./...")
	if code == 0 || !strings.Contains(out, "SV001") || strings.Contains(out, "SV002") {
		t.Errorf("structvet -waitskip ./... = %q, exit %d; want SV001 alone and a failure", out, code)
	}
}

func TestStandaloneRuleCanBeLeftOut(t *testing.T) {
	out, _ := run(t, "example", bin, "-experimental", "-barego=false", "./...")
	if strings.Contains(out, "SV002") || !strings.Contains(out, "SV001") {
		t.Errorf("structvet -experimental -barego=false ./... = %q, want SV001 and no SV002", out)
	}
}

func TestStandaloneCleanCodeExitsZero(t *testing.T) {
	if out, code := run(t, "clean", bin, "./..."); code != 0 || out != "" {
		t.Errorf("structvet ./... on clean code = %q, exit %d; want no output, exit 0", out, code)
	}
}

func TestUnderGoVet(t *testing.T) {
	out, code := run(t, "example", "go", "vet", "-vettool="+bin, "-experimental", "./...")
	if code == 0 || !strings.Contains(out, "SV001") || !strings.Contains(out, "SV003") {
		t.Errorf("go vet -vettool -experimental ./... = %q, exit %d; want SV001 and SV003 findings and a failure", out, code)
	}
	if out, code := run(t, "example", "go", "vet", "-vettool="+bin, "./..."); code == 0 || !strings.Contains(out, "SV002") || strings.Contains(out, "SV001") || strings.Contains(out, "SV003") {
		t.Errorf("go vet -vettool ./... = %q, exit %d; want SV002 alone (the experimental rules off) and a failure", out, code)
	}
	if out, code := run(t, "clean", "go", "vet", "-vettool="+bin, "./..."); code != 0 {
		t.Errorf("go vet -vettool ./... on clean code = %q, exit %d; want exit 0", out, code)
	}
}
