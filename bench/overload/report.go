package overload

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// A row is one contender's figures in one variant, over the seeds.
type row struct {
	name               string
	overall, worst     []float64 // share of the oracle envelope
	phase              [3][]float64
	p50, p99           []float64
	rejected, timedOut []float64
	convDown, convUp   []float64
	band               []float64
	cv                 [3][]float64
	overshoot          []float64
	p99Ratio           []float64 // p99 / the oracle k*'s p99, same seed
	wasted             []float64
}

type table struct {
	variant string
	rows    []*row
}

// score turns the results of one variant into a table: each contender's
// goodput as a share of the oracle envelope of the same seed (the best
// oracle offset in each phase).
func score(sc *scenario, specs []contenderSpec, res map[string][]result, seeds int) *table {
	tb := &table{variant: sc.name}
	for _, s := range specs {
		r := &row{name: s.name}
		for i := range seeds {
			var env [3]float64
			bestK, bestTotal := "", -1.0
			for _, k := range []string{"oracle+0", "oracle+2", "oracle+4", "oracle+8"} {
				o := res[k][i].m
				total := 0.0
				for p := range 3 {
					env[p] = max(env[p], o.goodput[p])
					total += o.goodput[p]
				}
				if total > bestTotal {
					bestK, bestTotal = k, total
				}
			}
			m := res[s.name][i].m
			var sum, envSum float64
			worst := math.Inf(1)
			for p := range 3 {
				share := m.goodput[p] / env[p]
				r.phase[p] = append(r.phase[p], share)
				worst = min(worst, share)
				sum += m.goodput[p]
				envSum += env[p]
			}
			r.overall = append(r.overall, sum/envSum)
			r.worst = append(r.worst, worst)
			r.p50 = append(r.p50, m.p50)
			r.p99 = append(r.p99, m.p99)
			r.p99Ratio = append(r.p99Ratio, m.p99/res[bestK][i].m.p99)
			r.rejected = append(r.rejected, m.rejected)
			r.timedOut = append(r.timedOut, m.timedOut)
			r.convDown = append(r.convDown, m.convDown)
			r.convUp = append(r.convUp, m.convUp)
			r.band = append(r.band, m.band)
			for p := range 3 {
				r.cv[p] = append(r.cv[p], m.cv[p])
			}
			r.overshoot = append(r.overshoot, m.overshoot)
			r.wasted = append(r.wasted, float64(m.wasted))
		}
		tb.rows = append(tb.rows, r)
	}
	return tb
}

func pct(x float64) string { return fmt.Sprintf("%.1f", 100*x) }

// medRange is "median [min-max]" of shares, in percent.
func medRange(xs []float64) string {
	lo, hi := slices.Min(xs), slices.Max(xs)
	return fmt.Sprintf("%s [%s–%s]", pct(median(xs)), pct(lo), pct(hi))
}

func list(xs []float64) string {
	var parts []string
	for _, x := range xs {
		if math.IsNaN(x) {
			return "–"
		}
		parts = append(parts, fmt.Sprintf("%g", x))
	}
	return strings.Join(parts, " ")
}

func (tb *table) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nvariant %s (medians over seeds; goodput as %% of the oracle envelope)\n\n", tb.variant)
	fmt.Fprintf(&b, "| contender | overall | worst phase | P1 | P2 | P3 | p50 ms | p99 ms | p99/oracle | rejected %% | timeouts %% | conv ↓ s | conv ↑ s | band s | CV P1/P2/P3 | overshoot |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range tb.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %.0f | %.0f | %.2f | %s | %s | %s | %s | %s | %s | %s |\n",
			r.name, medRange(r.overall), medRange(r.worst),
			pct(median(r.phase[0])), pct(median(r.phase[1])), pct(median(r.phase[2])),
			median(r.p50), median(r.p99), median(r.p99Ratio),
			pct(median(r.rejected)), pct(median(r.timedOut)),
			list(r.convDown), list(r.convUp), list(r.band),
			cvs(r), over(r))
	}
	return b.String()
}

func cvs(r *row) string {
	if math.IsNaN(median(r.cv[0])) {
		return "–"
	}
	return fmt.Sprintf("%.2f/%.2f/%.2f", median(r.cv[0]), median(r.cv[1]), median(r.cv[2]))
}

func over(r *row) string {
	if m := median(r.overshoot); m > 0 {
		return fmt.Sprintf("%.2f", m)
	}
	return "–"
}

// trace prints the limit and the goodput of one contender, second by
// second, in one run.
func trace(sc *scenario, res map[string][]result, name string, seed int) string {
	rs, ok := res[name]
	if !ok || seed < 1 || seed > len(rs) {
		return fmt.Sprintf("\nno run of %s with seed %d in variant %s\n", name, seed, sc.name)
	}
	r := rs[seed-1]
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s in variant %s, seed %d: limit/good completions, each second\n", name, sc.name, seed)
	for i, l := range r.run.limits {
		fmt.Fprintf(&b, "%3.0f/%3.0f ", l, r.m.perSecond[i])
		if i%10 == 9 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// bar checks ours against the bar of the research note in one variant:
// each line as a median over the seeds, and, on the lines where anchors
// compete (goodput overall and in the worst phase), a median better than
// the best anchor's and a worst seed no worse than it. It returns what
// fails.
func (tb *table) bar(specs []contenderSpec) []string {
	var fails []string
	rows := map[string]*row{}
	for _, r := range tb.rows {
		rows[r.name] = r
	}
	ours := rows["ours"]
	if ours == nil {
		return nil
	}
	failf := func(format string, args ...any) {
		fails = append(fails, fmt.Sprintf("variant %s: ", tb.variant)+fmt.Sprintf(format, args...))
	}
	for _, line := range []struct {
		name string
		of   func(*row) []float64
		min  float64
	}{
		{"overall goodput", func(r *row) []float64 { return r.overall }, 0.97},
		{"worst-phase goodput", func(r *row) []float64 { return r.worst }, 0.93},
	} {
		med := median(line.of(ours))
		if med < line.min {
			failf("%s %.1f%%, want at least %.0f%%", line.name, 100*med, 100*line.min)
		}
		for _, s := range specs {
			if a := rows[s.name]; s.anchor && a != nil {
				am := median(line.of(a))
				if med <= am || slices.Min(line.of(ours)) < am {
					failf("%s %.1f%% (worst seed %.1f%%) against %s's median %.1f%%", line.name, 100*med, 100*slices.Min(line.of(ours)), s.name, 100*am)
				}
			}
		}
	}
	if m := median(ours.p99Ratio); m > 1.1 {
		failf("p99 %.2f times the oracle's, want at most 1.1", m)
	}
	if tb.variant == "A" {
		for _, c := range append(slices.Clone(ours.convDown), ours.convUp...) {
			if c < 0 || c > 5 {
				failf("the limit converged after %v and %v s, want at most 5 s on every seed", ours.convDown, ours.convUp)
				break
			}
		}
	}
	if tb.variant == "B" {
		if m := median(ours.band); m > 5 {
			failf("%.0f s outside the band, want at most 5", m)
		}
	}
	for p := range 3 {
		if m := median(ours.cv[p]); m > 0.15 {
			failf("CV of the limit %.2f in phase %d, want at most 0.15", m, p+1)
		}
	}
	if m := median(ours.overshoot); m > 1.5 {
		failf("overshoot %.2f, want at most 1.5", m)
	}
	if o := rows["oracle+4"]; o != nil {
		if m, om := median(ours.rejected), median(o.rejected); m > om+0.03 {
			failf("rejected %.1f%%, want at most the oracle's %.1f%% + 3 points", 100*m, 100*om)
		}
	}
	return fails
}

// short checks ours in the short form that CI runs, one seed: the goodput
// lines of the bar with a margin for the noise of a single seed, above a
// fixed limit of 16 and the tuned failsafe-go, and the latency and
// rejection lines.
func (tb *table) short() []string {
	var fails []string
	rows := map[string]*row{}
	for _, r := range tb.rows {
		rows[r.name] = r
	}
	ours := rows["ours"]
	if ours == nil {
		return nil
	}
	failf := func(format string, args ...any) {
		fails = append(fails, fmt.Sprintf("variant %s: ", tb.variant)+fmt.Sprintf(format, args...))
	}
	if m := median(ours.overall); m < 0.97 {
		failf("overall goodput %.1f%%, want at least 97%%", 100*m)
	}
	if m := median(ours.worst); m < 0.90 {
		failf("worst-phase goodput %.1f%%, want at least 90%%", 100*m)
	}
	for _, name := range []string{"fixed16", "failsafe-tripwire"} {
		if a := rows[name]; a != nil && median(ours.overall) <= median(a.overall) {
			failf("overall goodput %.1f%%, not above %s's %.1f%%", 100*median(ours.overall), name, 100*median(a.overall))
		}
	}
	if m := median(ours.p99Ratio); m > 1.1 {
		failf("p99 %.2f times the oracle's, want at most 1.1", m)
	}
	if o := rows["oracle+4"]; o != nil && median(ours.rejected) > median(o.rejected)+0.03 {
		failf("rejected %.1f%%, want at most the oracle's + 3 points", 100*median(ours.rejected))
	}
	return fails
}
