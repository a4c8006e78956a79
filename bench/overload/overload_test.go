package overload

import (
	"flag"
	"fmt"
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

// shortForm are the contenders of the short form that CI runs.
var shortForm = regexp.MustCompile(`^(fixed16|oracle.*|failsafe-tripwire|ours)$`)

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
	}
	fmt.Fprintf(&report, "\nwall time: %v\n", time.Since(start).Round(time.Second))
	if *traceFlag != "" {
		for _, sc := range []*scenario{&variantA, &variantB} {
			report.WriteString(trace(sc, runs[sc.name], *traceFlag, *traceSeed))
		}
	}
	t.Log("\n" + report.String())
	if *reportFlag != "" {
		if err := os.WriteFile(*reportFlag, []byte(report.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
