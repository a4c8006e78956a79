package overload

import (
	"flag"
	"fmt"
	"image/color"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	full       = flag.Bool("overload.full", false, "run the whole grid: 5 seeds, every contender, variants A, B and C")
	seedsFlag  = flag.Int("overload.seeds", 0, "number of seeds (default 5 with -overload.full, else 1)")
	onlyFlag   = flag.String("overload.only", "", "run only the contenders matching this regexp (with the oracles)")
	reportFlag = flag.String("overload.report", "", "write the tables to this file")
	plotFlag   = flag.String("overload.plot", "", "write the plot of the limits (PNG) to this file")
	traceFlag  = flag.String("overload.trace", "", "print the limit and the goodput of this contender each second")
	traceSeed  = flag.Int("overload.traceseed", 1, "the seed of -overload.trace")
	sloFlag    = flag.Duration("overload.slo", 60*time.Millisecond, "the latency a completion must meet to count as goodput")
)

// A result is one contender's run in one variant with one seed.
type result struct {
	run *run
	m   metrics
}

// grid runs every contender of specs in sc for each seed, two at a time
// (each in its own synctest bubble), and returns results[name][seed-1].
func grid(t *testing.T, sc *scenario, specs []contenderSpec, seeds int) map[string][]result {
	out := map[string][]result{}
	for _, s := range specs {
		out[s.name] = make([]result, seeds)
	}
	var mu sync.Mutex
	t.Run(sc.name, func(t *testing.T) {
		for _, s := range specs {
			for seed := 1; seed <= seeds; seed++ {
				t.Run(fmt.Sprintf("%s/seed=%d", s.name, seed), func(t *testing.T) {
					t.Parallel()
					synctest.Test(t, func(t *testing.T) {
						r := simulate(sc, uint64(seed), s.make())
						m := measure(r, sc, *sloFlag)
						mu.Lock()
						out[s.name][seed-1] = result{r, m}
						mu.Unlock()
					})
				})
			}
		}
	})
	return out
}

func selected(specs []contenderSpec) []contenderSpec {
	if *onlyFlag == "" {
		return specs
	}
	re := regexp.MustCompile(*onlyFlag)
	return slices.DeleteFunc(slices.Clone(specs), func(s contenderSpec) bool {
		return !re.MatchString(s.name) && !strings.HasPrefix(s.name, "oracle")
	})
}

// shortForm and shortFormC are the contenders of the short form that CI
// runs.
var (
	shortForm  = regexp.MustCompile(`^(fixed16|oracle.*|failsafe-tripwire|ours)$`)
	shortFormC = regexp.MustCompile(`^(none|gobreaker|ours-breaker|ours-throttle-2s)$`)
)

func TestOverload(t *testing.T) {
	seeds := *seedsFlag
	specs := contenders()
	if *full {
		specs = append(specs, queueing())
		if seeds == 0 {
			seeds = 5
		}
	} else {
		specs = slices.DeleteFunc(specs, func(s contenderSpec) bool { return !shortForm.MatchString(s.name) })
		if seeds == 0 {
			seeds = 1
		}
	}
	specs = selected(specs)
	start := time.Now()
	var report strings.Builder
	fmt.Fprintf(&report, "overloadbench: SLO %v, seeds 1-%d, %s\n", *sloFlag, seeds, time.Now().Format(time.DateOnly))
	tables := map[string]*table{}
	runs := map[string]map[string][]result{}
	for _, sc := range []*scenario{&variantA, &variantB} {
		res := grid(t, sc, specs, seeds)
		runs[sc.name] = res
		tb := score(sc, specs, res, seeds)
		tables[sc.name] = tb
		report.WriteString(tb.String())
		if *full {
			// The bar of the research note, with every contender.
			for _, f := range tb.bar(specs) {
				t.Error(f)
			}
		} else {
			for _, f := range tb.short() {
				t.Error(f)
			}
		}
	}
	{
		cspecs := guardContenders()
		if !*full {
			cspecs = slices.DeleteFunc(cspecs, func(s contenderSpec) bool { return !shortFormC.MatchString(s.name) })
		}
		res := grid(t, &variantC, cspecs, seeds)
		runs[variantC.name] = res
		report.WriteString(tableC(cspecs, res, seeds))
		for _, f := range checkC(res, seeds) {
			t.Error(f)
		}
	}
	fmt.Fprintf(&report, "\nwall time: %v\n", time.Since(start).Round(time.Second))
	if *traceFlag != "" {
		for _, sc := range []*scenario{&variantA, &variantB} {
			report.WriteString(trace(sc, runs[sc.name], *traceFlag, *traceSeed))
		}
	}
	t.Log("\n" + report.String())
	if *plotFlag != "" {
		if err := writePlot(*plotFlag, runs); err != nil {
			t.Fatal(err)
		}
	}
	if *reportFlag != "" {
		if err := os.WriteFile(*reportFlag, []byte(report.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// plotted are the contenders on the plot, in this order (Vegas's limit
// swings too fast to be read beside them; its figures are in the tables).
var plotted = []struct {
	name  string
	color color.RGBA
}{
	{"oracle+4", color.RGBA{0, 0, 0, 255}},
	{"fixed16", color.RGBA{150, 150, 150, 255}},
	{"failsafe-default", color.RGBA{214, 39, 40, 255}},
	{"failsafe-tripwire", color.RGBA{255, 127, 14, 255}},
	{"gradient2", color.RGBA{44, 160, 44, 255}},
	{"ours", color.RGBA{31, 119, 180, 255}},
}

// writePlot writes the limits of seed 1 in variants A and B to path.
func writePlot(path string, runs map[string]map[string][]result) error {
	var panels []panel
	for _, v := range []struct{ name, title string }{
		{"A", "variant A: 16 workers, 8 from 30s to 60s (the oracle: workers + 4, dashed); seed 1"},
		{"B", "variant B: 16 workers, calls twice as slow from 30s to 60s; seed 1"},
	} {
		p := panel{title: v.title}
		for _, c := range plotted {
			rs, ok := runs[v.name][c.name]
			if !ok || rs[0].run == nil {
				continue
			}
			name := c.name
			if name == "oracle+4" {
				name = "oracle (W+4)"
			}
			p.series = append(p.series, series{name: name, color: c.color, values: rs[0].run.trace, dashed: c.name == "oracle+4"})
		}
		panels = append(panels, p)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := plotLimits(f, panels, 60); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
