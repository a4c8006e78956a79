package main

import (
	"slices"
	"testing"

	"golang.org/x/tools/go/analysis"
)

// The experimental rules are off unless named or asked for with
// -experimental: withDefaults turns them off by adding -name=false, which
// the multichecker reads as "every rule but these".
func TestWithDefaultsTurnsExperimentalRulesOff(t *testing.T) {
	on := []*analysis.Analyzer{{Name: "barego"}, {Name: "waitskip"}}
	exp := []*analysis.Analyzer{{Name: "chanloop"}, {Name: "sleepctx"}}
	for _, tc := range []struct {
		args, want []string
	}{
		{[]string{"structvet", "./..."}, []string{"structvet", "-chanloop=false", "-sleepctx=false", "./..."}},
		{[]string{"structvet", "-test=false", "./..."}, []string{"structvet", "-chanloop=false", "-sleepctx=false", "-test=false", "./..."}},
		{[]string{"structvet", "-barego=false", "./..."}, []string{"structvet", "-chanloop=false", "-sleepctx=false", "-barego=false", "./..."}},
		{[]string{"structvet", "-sleepctx=false", "./..."}, []string{"structvet", "-chanloop=false", "-sleepctx=false", "./..."}},
		// Asked for: nothing changes.
		{[]string{"structvet", "-experimental", "./..."}, []string{"structvet", "-experimental", "./..."}},
		{[]string{"structvet", "--experimental=true", "./..."}, []string{"structvet", "--experimental=true", "./..."}},
		// Rules named to run: only those run, as the multichecker does.
		{[]string{"structvet", "-chanloop", "./..."}, []string{"structvet", "-chanloop", "./..."}},
		{[]string{"structvet", "-barego=1", "./..."}, []string{"structvet", "-barego=1", "./..."}},
		// Under go vet: the flags, then a configuration file.
		{[]string{"structvet", "-flags"}, []string{"structvet", "-chanloop=false", "-sleepctx=false", "-flags"}},
		{[]string{"structvet", "-experimental=false", "vet.cfg"}, []string{"structvet", "-chanloop=false", "-sleepctx=false", "-experimental=false", "vet.cfg"}},
		// A flag after the packages is not a flag.
		{[]string{"structvet", "./...", "-chanloop"}, []string{"structvet", "-chanloop=false", "-sleepctx=false", "./...", "-chanloop"}},
	} {
		if got := withDefaults(tc.args, on, exp); !slices.Equal(got, tc.want) {
			t.Errorf("withDefaults(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := withDefaults([]string{"structvet", "./..."}, on, nil); !slices.Equal(got, []string{"structvet", "./..."}) {
		t.Errorf("withDefaults with no experimental rule = %q, want the arguments unchanged", got)
	}
}
