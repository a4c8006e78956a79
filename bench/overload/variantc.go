package overload

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The figures of variant C: the downstream is down in [30, 60).
type metricsC struct {
	goodput      [3]float64 // good completions per second, per phase
	outageCalls  float64    // calls that reached the downstream during the outage, per second
	openAfter    float64    // s after 30 until at most a tenth of the calls reach the downstream; -1 never
	recoverAfter float64    // s after 60 until the goodput is back to 90 % of P1's, 3 s in a row; -1 never
	refused      float64    // share of the calls refused by the client in the healthy phases
	changes      int        // changes of state (breakers)
}

func measureC(r *run, m *metrics) metricsC {
	c := metricsC{goodput: m.goodput, openAfter: -1, recoverAfter: -1, changes: len(r.states)}
	secs := len(m.perSecond)
	offered := make([]float64, secs)
	reached := make([]float64, secs)
	var healthy, refused float64
	for _, rec := range r.records {
		s := int(rec.arrival / time.Second)
		offered[s]++
		if rec.outcome != rejected {
			reached[s]++
		}
		if rec.arrival >= 30*time.Second && rec.arrival < 60*time.Second && rec.outcome != rejected {
			c.outageCalls++
		}
		if rec.arrival >= 5*time.Second && rec.arrival < 30*time.Second || rec.arrival >= 65*time.Second {
			healthy++
			if rec.outcome == rejected {
				refused++
			}
		}
	}
	c.outageCalls /= 30
	c.refused = refused / healthy
	for s := 30; s < 60; s++ {
		if reached[s] <= 0.1*offered[s] {
			c.openAfter = float64(s - 30)
			break
		}
	}
	for s := 60; s+2 < secs; s++ {
		ok := true
		for k := s; k < s+3; k++ {
			ok = ok && m.perSecond[k] >= 0.9*m.goodput[0]
		}
		if ok {
			c.recoverAfter = float64(s - 60)
			break
		}
	}
	return c
}

// tableC is the table of variant C.
func tableC(specs []contenderSpec, res map[string][]result, seeds int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nvariant C: the downstream is down in [30, 60) and sheds every call at once; 600 calls/s, 0.75 of its capacity otherwise (medians over seeds)\n\n")
	fmt.Fprintf(&b, "| contender | goodput P1 / P3, %% of none's | calls reaching it in the outage, /s | %% of none's | open after s | recovered after s | refused while healthy %% | state changes |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|\n")
	for _, s := range specs {
		var p1, p3, calls, share, open, rec, refused, changes []float64
		for i := range seeds {
			base := measureC(res["none"][i].run, &res["none"][i].m)
			c := measureC(res[s.name][i].run, &res[s.name][i].m)
			p1 = append(p1, c.goodput[0]/base.goodput[0])
			p3 = append(p3, c.goodput[2]/base.goodput[2])
			calls = append(calls, c.outageCalls)
			share = append(share, c.outageCalls/base.outageCalls)
			open = append(open, c.openAfter)
			rec = append(rec, c.recoverAfter)
			refused = append(refused, c.refused)
			changes = append(changes, float64(c.changes))
		}
		fmt.Fprintf(&b, "| %s | %s / %s | %.1f | %s | %s | %s | %s | %.0f |\n", s.name,
			pct(median(p1)), pct(median(p3)), median(calls), pct(median(share)),
			never(open), never(rec), fmt.Sprintf("%.2f", 100*median(refused)), median(changes))
	}
	return b.String()
}

// never lists the values of the seeds, -1 as "never".
func never(xs []float64) string {
	var parts []string
	for _, x := range xs {
		if x < 0 || math.IsNaN(x) {
			parts = append(parts, "never")
		} else {
			parts = append(parts, fmt.Sprintf("%g", x))
		}
	}
	return strings.Join(parts, " ")
}

// checkC checks our breaker in variant C, on every seed: it opens within a
// second of the outage, spares the downstream nearly every call meanwhile,
// lets the calls through again within its open time and a second after
// the recovery, and costs nothing while the downstream is healthy.
func checkC(res map[string][]result, seeds int) []string {
	var fails []string
	if _, ok := res["ours-breaker"]; !ok {
		return nil
	}
	for i := range seeds {
		base := measureC(res["none"][i].run, &res["none"][i].m)
		c := measureC(res["ours-breaker"][i].run, &res["ours-breaker"][i].m)
		switch {
		case c.openAfter < 0 || c.openAfter > 1:
			fails = append(fails, fmt.Sprintf("variant C, seed %d: ours-breaker cut the calls after %v s, want within 1 s", i+1, c.openAfter))
		case c.outageCalls > 0.05*base.outageCalls:
			fails = append(fails, fmt.Sprintf("variant C, seed %d: %.1f calls/s reached the downstream while it was down, want at most 5%% of %.1f", i+1, c.outageCalls, base.outageCalls))
		case c.recoverAfter < 0 || c.recoverAfter > 6:
			fails = append(fails, fmt.Sprintf("variant C, seed %d: ours-breaker recovered after %v s, want within 6 s", i+1, c.recoverAfter))
		case c.goodput[0] < 0.99*base.goodput[0] || c.refused > 0.01:
			fails = append(fails, fmt.Sprintf("variant C, seed %d: ours-breaker cost %.1f%% of the goodput and refused %.2f%% while healthy", i+1, 100*(1-c.goodput[0]/base.goodput[0]), 100*c.refused))
		}
	}
	return fails
}
