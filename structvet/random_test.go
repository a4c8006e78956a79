package structvet_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/structured-go/structured/structvet"
)

// The randomized tests write functions the way users do: goroutines and
// groups started in loops and branches, early returns, panics, defers,
// selects, waits that happen on some paths only. Each function's expected
// findings are computed independently of the analyzers, by running the
// generated statements on an abstract machine that tracks, along every path,
// whether a started goroutine is still unwaited and whether a deferred wait
// covers the return. analysistest then checks that every expected finding is
// reported and nothing else is: a missed leak fails as a false alarm does.

// A gstmt is one generated statement.
type gstmt struct {
	kind  gkind
	id    int       // the start's number, for starts
	plain bool      // a goroutine that signals nothing (go work())
	body  [][]gstmt // branches, loop body, select or switch cases
	wait  int       // for selects: the case that waits (-1: none)
	deflt bool      // a select with a default case
}

type gkind int

const (
	kStart     gkind = iota // g.Go(...), or go func() { done <- ... }()
	kWait                   // g.Wait(), or <-done
	kDeferWait              // defer g.Wait(), or defer func() { <-done }()
	kReturn
	kPanicIf // if c() { panic(...) }
	kWork
	kIf
	kIfElse
	kLoop
	kBreak
	kContinue
	kSelect
	kSwitch
)

// gen generates random statement lists.
type gen struct {
	r      *rand.Rand
	group  bool // SV001 mode: one errgroup; else SV002 mode: goroutines and a done channel
	starts int
}

func (g *gen) list(depth int, inLoop bool) []gstmt {
	n := 1 + g.r.IntN(4)
	var out []gstmt
	for range n {
		out = append(out, g.stmt(depth, inLoop))
	}
	return out
}

func (g *gen) stmt(depth int, inLoop bool) gstmt {
	for {
		switch k := gkind(g.r.IntN(int(kSwitch) + 1)); k {
		case kStart:
			if g.group && g.starts > 0 {
				continue // one start statement per group: its line is where SV001 reports
			}
			g.starts++
			return gstmt{kind: k, id: g.starts, plain: !g.group && g.r.IntN(4) == 0}
		case kWait, kDeferWait, kPanicIf, kWork:
			return gstmt{kind: k}
		case kReturn:
			if g.r.IntN(2) == 0 {
				return gstmt{kind: kIf, body: [][]gstmt{{{kind: kReturn}}}}
			}
			return gstmt{kind: kReturn}
		case kBreak, kContinue:
			if !inLoop {
				continue
			}
			return gstmt{kind: kIf, body: [][]gstmt{{{kind: k}}}}
		case kIf, kIfElse, kLoop, kSelect, kSwitch:
			if depth >= 3 {
				continue
			}
			s := gstmt{kind: k, wait: -1}
			switch k {
			case kIf:
				s.body = [][]gstmt{g.list(depth+1, inLoop)}
			case kIfElse:
				s.body = [][]gstmt{g.list(depth+1, inLoop), g.list(depth+1, inLoop)}
			case kLoop:
				s.body = [][]gstmt{g.list(depth+1, true)}
			case kSwitch:
				// break in a switch would leave the switch: none there.
				s.body = [][]gstmt{g.list(depth+1, false), g.list(depth+1, false)}
			case kSelect:
				s.body = [][]gstmt{g.list(depth+1, false), g.list(depth+1, false)}
				if !g.group && g.r.IntN(2) == 0 {
					s.wait = 0
				}
				s.deflt = g.r.IntN(2) == 0
			}
			return s
		}
	}
}

// state is one point of the abstract machine: a started goroutine not yet
// waited for, and a deferred wait already registered.
type state struct{ pending, deferred bool }

type states map[state]bool

func (s states) union(t states) states {
	u := states{}
	for k := range s {
		u[k] = true
	}
	for k := range t {
		u[k] = true
	}
	return u
}

func (s states) mapped(f func(state) state) states {
	u := states{}
	for k := range s {
		u[f(k)] = true
	}
	return u
}

func (s states) equal(t states) bool {
	if len(s) != len(t) {
		return false
	}
	for k := range s {
		if !t[k] {
			return false
		}
	}
	return true
}

// machine runs statements for one start (target), recording whether a
// return can be reached with the target's goroutines unwaited.
type machine struct {
	target int
	plain  bool // the target signals nothing: no wait clears it
	group  bool
	leak   bool
}

type flowOut struct{ out, brk, cont states }

func (m *machine) run(list []gstmt, in states) flowOut {
	res := flowOut{out: in, brk: states{}, cont: states{}}
	for _, s := range list {
		r := m.one(s, res.out)
		res.out = r.out
		res.brk = res.brk.union(r.brk)
		res.cont = res.cont.union(r.cont)
	}
	return res
}

func (m *machine) clear(in states) states {
	if m.plain {
		return in
	}
	return in.mapped(func(s state) state { s.pending = false; return s })
}

func (m *machine) one(s gstmt, in states) flowOut {
	none := states{}
	switch s.kind {
	case kStart:
		if s.id == m.target {
			in = in.mapped(func(st state) state { st.pending = true; return st })
		}
		return flowOut{in, none, none}
	case kWait:
		return flowOut{m.clear(in), none, none}
	case kDeferWait:
		if m.plain {
			return flowOut{in, none, none}
		}
		return flowOut{in.mapped(func(st state) state { st.deferred = true; return st }), none, none}
	case kReturn:
		for st := range in {
			if st.pending && !st.deferred {
				m.leak = true
			}
		}
		return flowOut{none, none, none}
	case kPanicIf, kWork:
		return flowOut{in, none, none}
	case kBreak:
		return flowOut{none, in, none}
	case kContinue:
		return flowOut{none, none, in}
	case kIf:
		r := m.run(s.body[0], in)
		return flowOut{r.out.union(in), r.brk, r.cont}
	case kIfElse, kSwitch:
		a, b := m.run(s.body[0], in), m.run(s.body[1], in)
		return flowOut{a.out.union(b.out), a.brk.union(b.brk), a.cont.union(b.cont)}
	case kSelect:
		var res flowOut
		res.out, res.brk, res.cont = states{}, states{}, states{}
		for i, b := range s.body {
			start := in
			if i == s.wait {
				start = m.clear(in)
			}
			r := m.run(b, start)
			res.out, res.brk, res.cont = res.out.union(r.out), res.brk.union(r.brk), res.cont.union(r.cont)
		}
		if s.deflt {
			res.out = res.out.union(in)
		}
		return res
	case kLoop:
		head := in
		var r flowOut
		for {
			r = m.run(s.body[0], head)
			next := in.union(r.out).union(r.cont)
			if next.equal(head) {
				break
			}
			head = next
		}
		out := head.union(r.brk)
		if !m.group && waitsIn(s.body[0]) {
			// SV002 counts leaving a loop that waits in its body as a wait.
			out = m.clear(out)
		}
		return flowOut{out, none, none}
	}
	panic("unknown statement")
}

// waitsIn reports whether list holds a wait (a deferred one does not count:
// it is not a wait where it stands).
func waitsIn(list []gstmt) bool {
	for _, s := range list {
		if s.kind == kWait || (s.kind == kSelect && s.wait >= 0) {
			return true
		}
		for _, b := range s.body {
			if waitsIn(b) {
				return true
			}
		}
	}
	return false
}

// writer prints statements as Go.
type writer struct {
	b      strings.Builder
	group  bool
	expect map[int]bool // start id -> a finding is expected
}

func (w *writer) line(indent int, format string, args ...any) {
	w.b.WriteString(strings.Repeat("\t", indent))
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteString("\n")
}

func (w *writer) list(list []gstmt, indent int) {
	for _, s := range list {
		w.stmt(s, indent)
	}
}

func (w *writer) stmt(s gstmt, indent int) {
	switch s.kind {
	case kStart:
		want := ""
		if w.expect[s.id] {
			want = " // want `SV00[12]`"
		}
		switch {
		case w.group:
			w.line(indent, "g.Go(func() error { return nil })%s", want)
		case s.plain:
			w.line(indent, "go work()%s", want)
		default:
			w.line(indent, "go func() { done <- struct{}{} }()%s", want)
		}
	case kWait:
		if w.group {
			w.line(indent, "_ = g.Wait()")
		} else {
			w.line(indent, "<-done")
		}
	case kDeferWait:
		if w.group {
			w.line(indent, "defer g.Wait()")
		} else {
			w.line(indent, "defer func() { <-done }()")
		}
	case kReturn:
		w.line(indent, "return")
	case kPanicIf:
		w.line(indent, "if c() {")
		w.line(indent+1, `panic("stop")`)
		w.line(indent, "}")
	case kWork:
		w.line(indent, "work()")
	case kBreak:
		w.line(indent, "break")
	case kContinue:
		w.line(indent, "continue")
	case kIf:
		w.line(indent, "if c() {")
		w.list(s.body[0], indent+1)
		w.line(indent, "}")
	case kIfElse:
		w.line(indent, "if c() {")
		w.list(s.body[0], indent+1)
		w.line(indent, "} else {")
		w.list(s.body[1], indent+1)
		w.line(indent, "}")
	case kLoop:
		w.line(indent, "for c() {")
		w.list(s.body[0], indent+1)
		w.line(indent, "}")
	case kSwitch:
		w.line(indent, "switch {")
		w.line(indent, "case c():")
		w.list(s.body[0], indent+1)
		w.line(indent, "default:")
		w.list(s.body[1], indent+1)
		w.line(indent, "}")
	case kSelect:
		w.line(indent, "select {")
		for i, b := range s.body {
			if i == s.wait {
				w.line(indent, "case <-done:")
			} else {
				w.line(indent, "case <-ctx.Done():")
			}
			w.list(b, indent+1)
		}
		if s.deflt {
			w.line(indent, "default:")
		}
		w.line(indent, "}")
	}
}

// randomPackage writes a package of n random functions for one rule and
// returns its source, how many findings it expects, and how many starts
// (groups or go statements) it holds.
func randomPackage(seed uint64, n int, group bool) (src string, findings, starts int) {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	w := &writer{group: group, expect: map[int]bool{}}
	w.line(0, "package random")
	w.line(0, "")
	w.line(0, `import (`)
	w.line(1, `"context"`)
	if group {
		w.line(1, `"golang.org/x/sync/errgroup"`)
	}
	w.line(0, ")")
	w.line(0, "")
	w.line(0, "func c() bool { return false }")
	w.line(0, "func work()   {}")
	for i := range n {
		g := &gen{r: r, group: group}
		body := g.list(0, false)
		if g.starts == 0 {
			body = append([]gstmt{{kind: kStart, id: 1, plain: !group && r.IntN(4) == 0}}, body...)
			g.starts = 1
		}
		starts += g.starts
		w.expect = map[int]bool{}
		plain := map[int]bool{}
		var mark func([]gstmt)
		mark = func(list []gstmt) {
			for _, s := range list {
				if s.kind == kStart && s.plain {
					plain[s.id] = true
				}
				for _, b := range s.body {
					mark(b)
				}
			}
		}
		mark(body)
		for id := 1; id <= g.starts; id++ {
			m := &machine{target: id, plain: plain[id], group: group}
			res := m.run(body, states{{}: true})
			// Falling off the end is a return too.
			m.one(gstmt{kind: kReturn}, res.out)
			if m.leak {
				w.expect[id] = true
				findings++
			}
		}
		w.line(0, "")
		w.line(0, "func f%d(ctx context.Context) {", i)
		if group {
			w.line(1, "var g errgroup.Group")
		} else {
			w.line(1, "done := make(chan struct{})")
			w.line(1, "_ = len(done)")
		}
		w.list(body, 1)
		w.line(0, "}")
	}
	return w.b.String(), findings, starts
}

// runRandom checks analyzer a on packages from several seeds.
func runRandom(t *testing.T, a *analysis.Analyzer, group bool) {
	const seeds, funcs = 4, 150
	dir := t.TempDir()
	stub, err := os.ReadFile(filepath.Join("testdata", "src", "golang.org", "x", "sync", "errgroup", "errgroup.go"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "src", "golang.org", "x", "sync", "errgroup", "errgroup.go"), string(stub))
	total, all, patterns := 0, 0, []string{}
	for seed := range uint64(seeds) {
		src, findings, starts := randomPackage(seed, funcs, group)
		all += starts
		pkg := fmt.Sprintf("random%d", seed)
		writeFile(t, filepath.Join(dir, "src", pkg, "random.go"), strings.Replace(src, "package random", "package "+pkg, 1))
		patterns = append(patterns, pkg)
		total += findings
	}
	// Both kinds of functions must be there in numbers, or the test
	// proves little.
	if total < all/10 || total > all*9/10 {
		t.Fatalf("%d findings expected for %d starts: the generator is off balance", total, all)
	}
	t.Logf("%d findings expected for %d starts in %d functions", total, all, seeds*funcs)
	analysistest.Run(t, dir, a, patterns...)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWaitSkipOnRandomFunctions(t *testing.T) { // SV001
	t.Parallel()
	runRandom(t, structvet.WaitSkip, true)
}

func TestBareGoOnRandomFunctions(t *testing.T) { // SV002
	t.Parallel()
	runRandom(t, structvet.BareGo, false)
}
