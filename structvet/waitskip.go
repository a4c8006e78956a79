package structvet

import (
	"fmt"
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/cfg"
)

// WaitSkip is rule SV001: a group (sync.WaitGroup, errgroup.Group, or a
// conc WaitGroup or pool) declared in a function, on which Add or Go was
// called, and a return reachable afterwards without Wait. The goroutines
// outlive the function: an early `return err` between Go and Wait is the
// usual way this happens.
//
// It is experimental: off by default. Handing the group to a helper that
// calls Go on it (a fact) is a start, to one that waits on it a wait.
// Groups that leave the function otherwise (returned, stored, passed to a
// call that is not a go statement, waited on in a goroutine or a closure)
// belong to whoever gets them, and are not checked; nor are local names for a group
// that exists elsewhere (wg := &s.wg, wg := s.group()), nor a wait group on
// which a function that starts no goroutine calls Add.
var WaitSkip = &analysis.Analyzer{
	Name:     "waitskip",
	Doc:      "report a sync.WaitGroup or errgroup.Group whose Wait is skipped on some path after Add or Go (SV001)",
	URL:      docURL + "sv001",
	Requires: append([]*analysis.Analyzer{factsAnalyzer}, requires...),
	Run:      runWaitSkip,
}

func runWaitSkip(pass *analysis.Pass) (any, error) {
	r := newReporter(pass, "SV001")
	info := pass.TypesInfo
	facts := pass.ResultOf[factsAnalyzer].(*factSet)
	functions(pass, func(fn *function) {
		groups := fn.ownVars(info, func(v *types.Var) bool { return groupOf(v.Type()) != notGroup })
		startsGoroutines := hasGoStmt(fn.body)
		for _, g := range groups {
			if localEscapes(info, fn.body, g, facts) || !newGroup(info, fn.body, g) {
				continue
			}
			if groupOf(g.Type()) == waitGroup && !startsGoroutines && !hasGroupGo(info, fn, g) && !hasHelperStart(info, facts, fn, g) {
				continue // Add without a goroutine: it counts something else
			}
			call, rets := waitSkipped(info, facts, fn, g)
			if rets == nil {
				continue
			}
			recv := g.Name()
			starter := types.ExprString(call.Fun)
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && varOf(info, sel.X) == g {
				recv = types.ExprString(sel.X)
			} else {
				starter = fmt.Sprintf("%s(%s)", starter, recv) // a helper that calls Go on it
			}
			r.reportNode(call, fmt.Sprintf("%s starts goroutines that outlive %s: %s without %s.Wait; run them in nursery.Run, which returns only after its tasks, or Wait on every path",
				starter, funcName(fn.node), fn.whereAll(pass, rets), recv))
		}
	})
	return nil, nil
}

// waitSkipped finds a start call on g and the returns reached from it
// without a Wait on g.
func waitSkipped(info *types.Info, facts *factSet, fn *function, g *types.Var) (*ast.CallExpr, []*ast.ReturnStmt) {
	isStart := func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		return ok && (groupStart(info, call) == g || facts.helperStarts(info, call, g))
	}
	vs := map[*types.Var]bool{g: true}
	f := &flow{
		start: isStart,
		wait: func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			return waitsOn(info, n, vs) || ok && facts.helperWaits(info, call, g)
		},
		blockWait: func(b *cfg.Block) bool { return false },
		info:      info,
	}
	node, rets := f.leak(fn.g, fn.body, selectComms(fn.body))
	if rets == nil {
		return nil, nil
	}
	var call *ast.CallExpr
	ast.Inspect(node, func(n ast.Node) bool {
		if call != nil {
			return false
		}
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		if isStart(n) {
			call = n.(*ast.CallExpr)
		}
		return true
	})
	if call == nil {
		return nil, nil
	}
	return call, rets
}

// newGroup reports whether the local g holds a group made in the function:
// declared without a value, or set from a composite literal, new(T), or a
// call of a package-level function (errgroup.WithContext, a constructor);
// not a name for a group that exists elsewhere (&s.wg, s.group()).
func newGroup(info *types.Info, body *ast.BlockStmt, g *types.Var) bool {
	made := true
	ast.Inspect(body, func(n ast.Node) bool {
		var lhs, rhs []ast.Expr
		switch n := n.(type) {
		case *ast.AssignStmt:
			lhs, rhs = n.Lhs, n.Rhs
		case *ast.ValueSpec:
			for _, id := range n.Names {
				lhs = append(lhs, id)
			}
			rhs = n.Values
		default:
			return true
		}
		for i, l := range lhs {
			if varOf(info, l) != g {
				continue
			}
			var e ast.Expr
			switch {
			case len(lhs) == len(rhs):
				e = rhs[i]
			case len(rhs) == 1:
				e = rhs[0] // g, ctx := errgroup.WithContext(ctx)
			default:
				continue
			}
			switch e := ast.Unparen(e).(type) {
			case *ast.CompositeLit:
			case *ast.UnaryExpr:
				if _, lit := ast.Unparen(e.X).(*ast.CompositeLit); !lit {
					made = false
				}
			case *ast.CallExpr:
				if isBuiltin(info, e, "new") {
					break
				}
				fn := callee(info, e)
				if fn == nil || fn.Type().(*types.Signature).Recv() != nil {
					made = false
				}
			default:
				made = false
			}
		}
		return made
	})
	return made
}

// hasGoStmt reports whether body has a go statement of its own.
func hasGoStmt(body *ast.BlockStmt) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.GoStmt:
			found = true
		}
		return !found
	})
	return found
}

// hasHelperStart reports whether fn hands g to a function that starts
// goroutines on it.
func hasHelperStart(info *types.Info, facts *factSet, fn *function, g *types.Var) bool {
	found := false
	ast.Inspect(fn.body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && facts.helperStarts(info, call, g) {
			found = true
		}
		return !found
	})
	return found
}

// hasGroupGo reports whether fn calls g.Go.
func hasGroupGo(info *types.Info, fn *function, g *types.Var) bool {
	found := false
	ast.Inspect(fn.body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if v, name, ok := methodCall(info, call); ok && v == g && name == "Go" {
				found = true
			}
		}
		return !found
	})
	return found
}
