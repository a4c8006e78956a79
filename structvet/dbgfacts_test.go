package structvet

import (
	"os"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"
)

func TestDbgFacts(t *testing.T) {
	pkgs, err := packages.Load(&packages.Config{Mode: packages.LoadAllSyntax, Dir: os.Getenv("DBGDIR")}, os.Getenv("DBGPKG"))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create("/tmp/factdbg/log.txt")
	defer f.Close()
	_, err = checker.Analyze([]*analysis.Analyzer{factsAnalyzer}, pkgs, &checker.Options{FactLog: f})
	if err != nil {
		t.Fatal(err)
	}
}
