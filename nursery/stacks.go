package nursery

import (
	"bytes"
	"runtime/pprof"
	"strconv"
	"strings"
)

// Where each task waits: on request, the goroutine profile (with its pprof
// labels) is taken once, and each open task of the snapshot is matched to
// a group of goroutines in it: by its labels (task, and nursery, for named
// ones) and by a frame of its function. Nothing is recorded per task for
// it.

// A goroutineGroup is one entry of the goroutine profile (debug=1): the
// goroutines with the same stack and labels.
type goroutineGroup struct {
	labels map[string]string
	funcs  []string // the functions of the frames, innermost first
	stack  string   // the frames, one a line: function and file:line
}

// attachStacks sets the Stack of each task of infos that matches a group
// of the goroutine profile taken now.
func attachStacks(infos []NurseryInfo) {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return
	}
	groups := parseGoroutineProfile(buf.String())
	var walk func([]NurseryInfo)
	walk = func(infos []NurseryInfo) {
		for i := range infos {
			for j := range infos[i].Tasks {
				t := &infos[i].Tasks[j]
				if g := matchTask(groups, infos[i].Name, t); g != nil {
					t.Stack = g.stack
				}
			}
			walk(infos[i].Children)
		}
	}
	walk(infos)
}

// parseGoroutineProfile reads the debug=1 text of the goroutine profile.
func parseGoroutineProfile(text string) []goroutineGroup {
	var groups []goroutineGroup
	for _, block := range strings.Split(text, "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if len(lines) < 2 || !strings.Contains(lines[0], " @ ") {
			continue
		}
		g := goroutineGroup{labels: map[string]string{}}
		var stack strings.Builder
		for _, l := range lines[1:] {
			switch {
			case strings.HasPrefix(l, "# labels: "):
				g.labels = parseLabels(strings.TrimPrefix(l, "# labels: "))
			case strings.HasPrefix(l, "#\t"):
				// #	0x4952e4	sync.(*WaitGroup).Wait+0x84	/usr/local/go/src/sync/waitgroup.go:206
				f := strings.FieldsFunc(l, func(r rune) bool { return r == '\t' }) // aligned by tabs
				if len(f) < 4 {
					continue
				}
				fn := f[2]
				if k := strings.LastIndex(fn, "+0x"); k >= 0 {
					fn = fn[:k]
				}
				g.funcs = append(g.funcs, fn)
				stack.WriteString(fn + " " + strings.TrimSpace(f[3]) + "\n")
			}
		}
		g.stack = stack.String()
		groups = append(groups, g)
	}
	return groups
}

// parseLabels reads {"nursery":"batch", "task":"worker"}, whose keys and
// values the profile quotes as Go does (%q): a name may hold quotes,
// commas and newlines.
func parseLabels(s string) map[string]string {
	m := map[string]string{}
	s = strings.TrimPrefix(strings.TrimSpace(s), "{")
	for {
		s = strings.TrimLeft(s, ", ")
		kq, err := strconv.QuotedPrefix(s)
		if err != nil {
			return m
		}
		s = strings.TrimPrefix(s[len(kq):], ":")
		vq, err := strconv.QuotedPrefix(s)
		if err != nil {
			return m
		}
		s = s[len(vq):]
		k, _ := strconv.Unquote(kq)
		v, _ := strconv.Unquote(vq)
		m[k] = v
	}
}

// matchTask finds the group of goroutines where t, of a nursery named
// nursery, runs: one whose stack has a frame of t's function (or of a
// function it calls inline), under t's labels if it has a name.
func matchTask(groups []goroutineGroup, nursery string, t *TaskInfo) *goroutineGroup {
	for i := range groups {
		g := &groups[i]
		if t.Name != "" && g.labels["task"] != t.Name {
			continue
		}
		if t.Name != "" && nursery != "" && g.labels["nursery"] != nursery {
			continue
		}
		for _, fn := range g.funcs {
			if fn == t.Func || strings.HasPrefix(fn, t.Func+".") {
				return g
			}
		}
	}
	return nil
}
