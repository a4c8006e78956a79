package structvet

import (
	"cmp"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"slices"

	"golang.org/x/tools/go/cfg"
)

// A flow finds a path through a function's control-flow graph on which
// something is started and then the function returns without waiting for
// it. It is what the rules SV001 and SV002 have in common.
//
// The search is over paths, not values: any wait on the path counts (one
// receive joins a loop of goroutines as far as the search is concerned), and
// conditions are not evaluated. A wait in a deferred call counts from the
// point the defer statement is reached. Paths that end in a call that never
// returns (panic, os.Exit, log.Fatal, t.FailNow) are not returns.
type flow struct {
	// start reports whether n (a statement, or an expression inside one)
	// starts what must be waited for.
	start func(n ast.Node) bool
	// wait reports whether n (a call or a receive expression) waits for it.
	wait func(n ast.Node) bool
	// blockWait reports whether entering b waits: a select case or a range
	// loop that receives from the channel waited on.
	blockWait func(b *cfg.Block) bool
	// info resolves the variables of conditions.
	info *types.Info
}

// event kinds, in the order they happen inside one node.
type event int

const (
	evStart event = iota
	evWait
	evDeferWait
	evFail // a test marked failed: the paths on from here do not count
)

// events lists what node n does, in source order. Function literals are
// not entered, except deferred ones (their waits are deferred waits) and
// those called on the spot. Go statements are starts themselves, and the
// code they run belongs to another goroutine.
func (f *flow) events(n ast.Node) []event {
	var evs []event
	var walk func(n ast.Node, deferred bool)
	walk = func(n ast.Node, deferred bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			switch m := m.(type) {
			case *ast.GoStmt:
				switch {
				case deferred:
				case f.start(m):
					evs = append(evs, evStart)
				case f.wait(m):
					evs = append(evs, evWait) // a goroutine that is waited for, and waits itself
				}
				return false
			case *ast.DeferStmt:
				walk(m.Call, true)
				return false
			case *ast.FuncLit:
				return false
			case *ast.CallExpr:
				if lit, ok := ast.Unparen(m.Fun).(*ast.FuncLit); ok {
					for _, a := range m.Args {
						walk(a, deferred)
					}
					walk(lit.Body, deferred)
					return false
				}
			}
			if call, ok := m.(*ast.CallExpr); ok && !deferred && f.info != nil && failsTest(f.info, call) {
				evs = append(evs, evFail)
			}
			switch {
			case deferred && f.wait(m):
				evs = append(evs, evDeferWait)
			case !deferred && f.wait(m):
				evs = append(evs, evWait)
			case !deferred && f.start(m):
				evs = append(evs, evStart)
			}
			return true
		})
	}
	walk(n, false)
	return evs
}

// leak returns a start node and every return statement that some path
// reaches after a start without a wait in between, in the order of the
// source (nil, nil if there is none). comms holds the communication clauses
// of the function's select statements: the CFG evaluates them all before
// the select, and blockWait accounts for them where the chosen case begins.
//
// Conditions are not evaluated, with one exception: a start made under a
// condition that cannot change in the function (if tracker { wg.Add(1) })
// takes, at a later test of the same condition (if tracker { wg.Wait() }),
// only the branch it was made under.
func (f *flow) leak(g *cfg.CFG, body *ast.BlockStmt, comms map[ast.Node]bool) (ast.Node, []*ast.ReturnStmt) {
	if g == nil || len(g.Blocks) == 0 {
		return nil, nil
	}
	conds := newCondInfo(f.info, body)
	// The conditions of if and for statements (not a switch's cases,
	// which are compared with its tag).
	loopConds := make(map[ast.Expr]bool)
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt:
			loopConds[n.Cond] = true
		case *ast.ForStmt:
			if n.Cond != nil {
				loopConds[n.Cond] = true
			}
		}
		return true
	})
	type state struct {
		b                 *cfg.Block
		started, deferred bool
		start             ast.Node // the first start on the path, while started
		failed            bool     // a test failed on the path: its returns do not count
	}
	seen := make(map[state]bool)
	evCache := make(map[ast.Node][]event)
	rets := make(map[*ast.ReturnStmt]bool)
	var first ast.Node
	var search func(st state)
	search = func(st state) {
		if seen[st] {
			return
		}
		seen[st] = true
		b := st.b
		if st.started && f.blockWait != nil && f.blockWait(b) {
			st.started, st.start = false, nil
		}
		for _, n := range b.Nodes {
			if comms[n] {
				continue
			}
			if blocksForever(f.info, n) {
				return // <-make(chan T): the function never goes on
			}
			evs, ok := evCache[n]
			if !ok {
				evs = f.events(n)
				evCache[n] = evs
			}
			for _, e := range evs {
				switch e {
				case evStart:
					if !st.started {
						st.start = n
					}
					st.started = true
				case evWait:
					st.started, st.start = false, nil
				case evDeferWait:
					st.deferred = true
				case evFail:
					st.failed = true
				}
			}
			if ret, ok := n.(*ast.ReturnStmt); ok && st.started && !st.deferred && !st.failed {
				rets[ret] = true
				if first == nil || st.start.Pos() < first.Pos() {
					first = st.start
				}
			}
		}
		if st.deferred {
			return // every return from here on waits
		}
		succs := b.Succs
		if len(succs) == 2 && len(b.Nodes) > 0 {
			// A constant condition takes one branch: for ; true; <-tick.C
			// never ends but by a return inside it.
			if e, ok := b.Nodes[len(b.Nodes)-1].(ast.Expr); ok && f.info != nil && loopConds[e] {
				if tv, ok := f.info.Types[e]; ok && tv.Value != nil && tv.Value.Kind() == constant.Bool {
					if constant.BoolVal(tv.Value) {
						succs = succs[:1]
					} else {
						succs = succs[1:]
					}
				}
			}
		}
		if st.started && len(succs) == 2 && len(b.Nodes) > 0 {
			if branch, ok := conds.taken(st.start, b.Nodes[len(b.Nodes)-1]); ok {
				succs = succs[branch : branch+1]
			}
		}
		for _, s := range succs {
			next := st
			next.b = s
			search(next)
		}
	}
	search(state{b: g.Blocks[0]})
	if len(rets) == 0 {
		return nil, nil
	}
	out := make([]*ast.ReturnStmt, 0, len(rets))
	for r := range rets {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *ast.ReturnStmt) int { return cmp.Compare(a.Pos(), b.Pos()) })
	return first, out
}

// selectComms returns the communication statements of the select
// statements in body, function literals aside.
func selectComms(body ast.Node) map[ast.Node]bool {
	comms := make(map[ast.Node]bool)
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CommClause:
			if n.Comm != nil {
				comms[n.Comm] = true
			}
		}
		return true
	})
	return comms
}

// failsTest reports whether call marks a test failed: t.Error, t.Errorf,
// t.Fail (and the calls that also stop it) on a *testing.T, B or F or a
// testing.TB, or testify's assert.Fail and require.Fail. A test that failed
// has failed: what it leaves running on the way out is not what the rules
// are about.
func failsTest(info *types.Info, call *ast.CallExpr) bool {
	fn := callee(info, call)
	if fn == nil || fn.Pkg() == nil {
		return false
	}
	switch fn.Pkg().Path() {
	case "testing":
		switch fn.Name() {
		case "Error", "Errorf", "Fail", "FailNow", "Fatal", "Fatalf":
			return fn.Type().(*types.Signature).Recv() != nil
		}
	case "github.com/stretchr/testify/assert", "github.com/stretchr/testify/require":
		switch fn.Name() {
		case "Fail", "FailNow", "Failf", "FailNowf":
			return fn.Type().(*types.Signature).Recv() == nil
		}
	}
	return false
}

// blocksForever reports whether the statement n receives from a channel
// that nothing can send on or close, made on the spot: <-make(chan T), the
// way some programs block for ever, like select {}.
func blocksForever(info *types.Info, n ast.Node) bool {
	es, ok := n.(*ast.ExprStmt)
	if !ok || info == nil {
		return false
	}
	u, ok := ast.Unparen(es.X).(*ast.UnaryExpr)
	if !ok || u.Op != token.ARROW {
		return false
	}
	call, ok := ast.Unparen(u.X).(*ast.CallExpr)
	return ok && isBuiltin(info, call, "make")
}
