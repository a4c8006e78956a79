package structvet_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/structured-go/structured/structvet"
)

// Running every rule, the experimental ones too, over a package from a
// program, as cmd/structvet -experimental does from the command line.
// testdata/example/shop.go holds the code.
func Example() {
	cfg := &packages.Config{Mode: packages.LoadAllSyntax, Dir: filepath.Join("testdata", "example")}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		fmt.Println(err)
		return
	}
	rules := slices.Concat(structvet.Analyzers(), structvet.Experimental())
	graph, err := checker.Analyze(rules, pkgs, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	var lines []string
	for act := range graph.All() {
		for _, d := range act.Diagnostics {
			pos := act.Package.Fset.Position(d.Pos)
			id, _, _ := strings.Cut(d.Message, ":")
			lines = append(lines, fmt.Sprintf("%s:%02d %s (%s)", filepath.Base(pos.Filename), pos.Line, id, act.Analyzer.Name))
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// shop.go:20 SV001 (waitskip)
	// shop.go:33 SV002 (barego)
	// shop.go:37 SV004 (freshctx)
	// shop.go:40 SV003 (sleepctx)
}
