// Command structvet reports unstructured concurrency in Go code: goroutines
// that nothing waits for, waits skipped on some path, sleeps and contexts
// that cut the chain of cancellation. It runs alone or under go vet:
//
//	go run github.com/structured-go/structured/structvet/cmd/structvet@latest ./...
//	go vet -vettool=$(command -v structvet) ./...
//
// Each rule can be chosen or left out by its name (-barego, -barego=false).
// The experimental rules are off unless named, or unless -experimental is
// given; see the module's README for the rules, which are experimental and
// why, and the //structvet:ignore comment.
package main

import (
	"flag"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/structured-go/structured/structvet"
)

func main() {
	// Registered so that the flag parses, and so that go vet, which asks
	// the tool for its flags, passes it on; its value is read from the
	// arguments, below, before the rules are chosen.
	flag.Bool("experimental", false, "also run the experimental rules, off by default")
	os.Args = withDefaults(os.Args, structvet.Analyzers(), structvet.Experimental())
	rules := slices.Concat(structvet.Analyzers(), structvet.Experimental())
	slices.SortFunc(rules, func(a, b *analysis.Analyzer) int { return strings.Compare(ruleID(a), ruleID(b)) })
	multichecker.Main(rules...)
}

// ruleID returns a rule's ID, which its URL ends with (…#sv002).
func ruleID(a *analysis.Analyzer) string {
	_, id, _ := strings.Cut(a.URL, "#")
	return id
}

// withDefaults returns the command's arguments with the experimental rules
// turned off (-chanloop=false), unless -experimental is given or some rule
// is named to run (-barego, which runs only the rules named). The
// multichecker runs every rule but those set to false.
func withDefaults(args []string, on, experimental []*analysis.Analyzer) []string {
	if len(args) == 0 || len(experimental) == 0 {
		return args
	}
	flags := args[1:]
	if i := slices.IndexFunc(flags, func(a string) bool { return a == "--" || !strings.HasPrefix(a, "-") }); i >= 0 {
		flags = flags[:i]
	}
	named := make(map[string]bool) // boolean flags given, and their values
	for _, f := range flags {
		name, value, hasValue := strings.Cut(strings.TrimLeft(f, "-"), "=")
		b, err := strconv.ParseBool(value)
		if !hasValue {
			b, err = true, nil
		}
		if err == nil {
			named[name] = b
		}
	}
	if named["experimental"] {
		return args
	}
	for _, a := range slices.Concat(on, experimental) {
		if named[a.Name] {
			return args // only the rules named run
		}
	}
	out := []string{args[0]}
	for _, a := range experimental {
		if _, ok := named[a.Name]; !ok {
			out = append(out, "-"+a.Name+"=false")
		}
	}
	return append(out, args[1:]...)
}
